// Talks to embed.html: sends with the embed's exact origin, accepts replies only from it.
// A refused embed says why: the embed posts 'malaria:refused' when this page's origin is not in
// the site's allowedOrigins; when the site's server refuses the framing itself (CSP
// frame-ancestors) the embed never runs and nothing can be posted, so this page waits for
// 'malaria:ready' and reports a refusal when none comes within READY_TIMEOUT_MS of the iframe's
// load (an `embed-error` event on the iframe, and the words in #embed-error).
const READY_TIMEOUT_MS = 8000;
// The words this page shows (one place each, for translation).
const TEXT = {
  waiting: 'Waiting for the classifier…',
  ready: (version) => `Classifier ready (version ${version}).`,
  silent: (origin) =>
    `The classifier at ${origin} did not answer: its server refused to be framed by this page ` +
    `(${location.origin}), or it is not reachable. Start the site with ` +
    `"node web/serve.mjs <site> --allow-embed ${location.origin}", or add this origin to its ` +
    'embed-config.json allowedOrigins and to the frame-ancestors of its Content-Security-Policy.',
  refused: (reason) => `The classifier refused this page: ${reason}`,
  notReady: 'The classifier is not ready: see the message above.',
};
const frame = document.getElementById('embed');
const EMBED_ORIGIN = new URL(frame.src, location.href).origin;
const log = document.getElementById('log');
const stateLine = document.getElementById('embed-state');
const errorBox = document.getElementById('embed-error');
const pending = new Map();
let seq = 0;
let ready = false;
let failed = null;
function add(text) {
  const li = document.createElement('li');
  li.textContent = text;
  log.append(li);
}
function fail(text, kind) {
  if (ready || failed) return;
  failed = text;
  stateLine.hidden = true;
  errorBox.textContent = text;
  errorBox.hidden = false;
  frame.dataset.state = kind;
  frame.dispatchEvent(new CustomEvent('embed-error', { detail: { kind, message: text } }));
  for (const p of pending.values()) p.reject(new Error(text));
  pending.clear();
}
// The wait starts now and again at the iframe's load; a ping answered also counts as ready (this
// script may run after the embed's 'malaria:ready' was posted).
let timer = 0;
function wait() {
  clearTimeout(timer);
  if (ready) return;
  timer = setTimeout(() => fail(TEXT.silent(EMBED_ORIGIN), 'silent'), READY_TIMEOUT_MS);
  frame.contentWindow.postMessage({ type: 'malaria:ping', requestId: 'hello' }, EMBED_ORIGIN);
}
frame.addEventListener('load', wait);
wait();
window.addEventListener('message', (ev) => {
  if (ev.origin !== EMBED_ORIGIN || ev.source !== frame.contentWindow) return;
  const m = ev.data || {};
  if (m.type === 'malaria:ready' || (m.type === 'malaria:pong' && m.requestId === 'hello')) {
    if (failed || ready) return;
    ready = true;
    clearTimeout(timer);
    stateLine.textContent = TEXT.ready(m.version);
    frame.dataset.state = 'ready';
    return;
  }
  if (m.type === 'malaria:refused') {
    clearTimeout(timer);
    fail(TEXT.refused(String(m.reason)), 'refused');
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
  if (failed) return Promise.reject(new Error(failed));
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
  if (!ready) {
    add(`${f.name}: ${failed ? TEXT.notReady : TEXT.waiting}`);
    return;
  }
  try {
    // a cut-out cell's result (mode 'cell') or a whole field's (mode 'field'), as
    // MalariaClassifier.classify gives them
    const r = await classify(f, f.name);
    if (r.mode === 'field') {
      add(
        `${f.name}: whole field, ${r.counted} red cells counted, ${r.parasitized} parasitized, ` +
          `${r.uncertain} to review (parasitemia ${(100 * r.parasitemia).toFixed(2)} %, ` +
          `95% CI ${(100 * r.ci95[0]).toFixed(2)}-${(100 * r.ci95[1]).toFixed(2)} %)`,
      );
      return;
    }
    add(`${f.name}: ${r.label} (P(parasitized) ${r.pParasitized.toFixed(3)}, ${r.band})`);
  } catch (e) {
    add(`${f.name}: error ${e.message}`);
  }
});
