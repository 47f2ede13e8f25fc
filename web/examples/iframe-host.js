// Talks to embed.html: sends with the embed's exact origin, accepts replies only from it.
const frame = document.getElementById('embed');
const EMBED_ORIGIN = new URL(frame.src).origin;
const log = document.getElementById('log');
const pending = new Map();
let seq = 0;
function add(text) {
  const li = document.createElement('li');
  li.textContent = text;
  log.append(li);
}
window.addEventListener('message', (ev) => {
  if (ev.origin !== EMBED_ORIGIN || ev.source !== frame.contentWindow) return;
  const m = ev.data || {};
  if (m.type === 'malaria:ready') {
    add(`embed ready (version ${m.version})`);
    return;
  }
  const p = pending.get(m.requestId);
  if (!p) return;
  pending.delete(m.requestId);
  if (m.type === 'malaria:result') p.resolve(m.result);
  else p.reject(new Error(m.error || 'failed'));
});
/** Classify a Blob through the embed. */
export function classify(blob, name) {
  const requestId = `r${++seq}`;
  return new Promise((resolve, reject) => {
    pending.set(requestId, { resolve, reject });
    frame.contentWindow.postMessage(
      { type: 'malaria:classify', requestId, image: blob, name },
      EMBED_ORIGIN,
    );
  });
}
window.classifyViaEmbed = classify;
document.getElementById('pick').addEventListener('change', async (ev) => {
  const f = ev.target.files[0];
  if (!f) return;
  try {
    const r = await classify(f, f.name);
    add(`${f.name}: ${r.label} (P(parasitized) ${r.pParasitized.toFixed(3)}, ${r.band})`);
  } catch (e) {
    add(`${f.name}: error ${e.message}`);
  }
});
