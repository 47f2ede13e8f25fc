// embed.js -- iframe embed (embed.html) with a postMessage API for host pages on other origins.
//
// Host -> embed (validated strictly; anything else is ignored):
//   {type: 'malaria:ping', requestId}
//   {type: 'malaria:classify', requestId, image: Blob | ImageData | ArrayBuffer, name?}
// Embed -> host, sent only to the exact origin that asked (never "*"):
//   {type: 'malaria:ready', version}                       (to the parent, when it is allowed)
//   {type: 'malaria:pong', requestId, version}
//   {type: 'malaria:result', requestId, result}             (result as MalariaClassifier.classify)
//   {type: 'malaria:error', requestId, error}
// Only messages from the parent window whose origin is in embed-config.json's allowedOrigins are
// answered; the others are ignored (and counted in data-ignored on <html>, for tests).
import './widget.js';
import { matchLanguage, browserLanguage, translate } from './i18n.js';

const TYPES = new Set(['malaria:ping', 'malaria:classify']);
const MAX_BYTES = 50 * 1024 * 1024;
const widget = document.getElementById('classifier');
let allowed = new Set();
let version = '';
let ignored = 0;

function ignore(why, ev) {
  ignored++;
  document.documentElement.dataset.ignored = String(ignored);
  console.warn(`embed: ignored a message from ${ev.origin}: ${why}`);
}

/** Returns an error string, or null when the message is well formed. */
export function validate(msg) {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return 'not an object';
  if (!TYPES.has(msg.type)) return 'unknown type';
  if (typeof msg.requestId !== 'string' || !/^[\w.:-]{1,64}$/.test(msg.requestId))
    return 'bad requestId';
  const keys = Object.keys(msg);
  const allowedKeys =
    msg.type === 'malaria:classify'
      ? ['type', 'requestId', 'image', 'name']
      : ['type', 'requestId'];
  if (keys.some((k) => !allowedKeys.includes(k))) return 'unexpected field';
  if (msg.type === 'malaria:classify') {
    const img = msg.image;
    const ok = img instanceof Blob || img instanceof ImageData || img instanceof ArrayBuffer;
    if (!ok) return 'image must be a Blob, ImageData or ArrayBuffer';
    const size =
      img instanceof Blob
        ? img.size
        : img instanceof ArrayBuffer
          ? img.byteLength
          : img.data.length;
    if (size === 0 || size > MAX_BYTES) return 'image size out of range';
    if (msg.name !== undefined && (typeof msg.name !== 'string' || msg.name.length > 256))
      return 'bad name';
  }
  return null;
}

async function onMessage(ev) {
  if (ev.source !== window.parent || window.parent === window)
    return ignore('not from the parent window', ev);
  if (!allowed.has(ev.origin)) return ignore('origin not in the allow-list', ev);
  const msg = ev.data;
  const bad = validate(msg);
  if (bad) return ignore(`invalid message (${bad})`, ev);
  const reply = (m) => window.parent.postMessage(m, ev.origin);
  if (msg.type === 'malaria:ping') {
    reply({ type: 'malaria:pong', requestId: msg.requestId, version });
    return;
  }
  const input = msg.image instanceof ArrayBuffer ? new Blob([msg.image]) : msg.image;
  try {
    const r = await widget.classify(input, msg.name || 'image');
    const result = {
      label: r.label,
      labelIndex: r.labelIndex,
      pParasitized: r.pParasitized,
      band: r.band,
      bandIndex: r.bandIndex,
      logits: r.logits,
      cam: r.cam,
      size: r.size,
      width: r.width,
      height: r.height,
      ms: r.ms,
    };
    reply({ type: 'malaria:result', requestId: msg.requestId, result });
  } catch (e) {
    reply({
      type: 'malaria:error',
      requestId: msg.requestId,
      error: String((e && e.message) || e),
    });
  }
}

/** The embed's language: ?lang= in its URL (the host chooses), else the browser's. */
function setupLanguage() {
  const asked = new URLSearchParams(window.location.search).get('lang');
  const code = matchLanguage(asked) || browserLanguage();
  document.documentElement.lang = code;
  document.title = translate(code, 'embed.title');
  widget.setAttribute('lang', code);
}

async function start() {
  setupLanguage();
  try {
    const cfg = await (await fetch('embed-config.json', { cache: 'no-cache' })).json();
    allowed = new Set(
      (cfg.allowedOrigins || []).filter((o) => typeof o === 'string' && o !== '*' && o !== 'null'),
    );
  } catch (e) {
    console.warn('embed: no embed-config.json, answering no host', e);
  }
  try {
    version = (await (await fetch('asset-manifest.json')).json()).version || '';
  } catch {
    /* optional */
  }
  window.addEventListener('message', (ev) => {
    onMessage(ev);
  });
  // Announce readiness to the parent when its origin is known and allowed.
  const parentOrigin = window.location.ancestorOrigins && window.location.ancestorOrigins[0];
  if (window.parent !== window && parentOrigin && allowed.has(parentOrigin)) {
    window.parent.postMessage({ type: 'malaria:ready', version }, parentOrigin);
  }
  document.documentElement.dataset.embed = 'ready';
}

start();
