// embed.js -- iframe embed (embed.html) with a postMessage API for host pages on other origins.
//
// Host -> embed (validated strictly; anything else is ignored):
//   {type: 'malaria:ping', requestId}
//   {type: 'malaria:classify', requestId, image: Blob | ImageData | ArrayBuffer, name?}
// Embed -> host, sent only to the exact origin that asked (never "*"):
//   {type: 'malaria:ready', version}                       (to the parent, when it is allowed)
//   {type: 'malaria:pong', requestId, version}
//   {type: 'malaria:result', requestId, result}             (as MalariaClassifier.classify gives
//                                                            it: a cell's, mode 'cell', or a whole
//                                                            field's, mode 'field', with its cells)
//   {type: 'malaria:error', requestId, error}
//   {type: 'malaria:refused', requestId?, origin, reason}   (to a parent whose origin is not allowed)
// The embed's own origin and those in embed-config.json's allowedOrigins are answered ('null'
// never: an embed that runs in an opaque origin itself shows why and does nothing). A parent
// of another origin gets one 'malaria:refused' that says why (at start where the browser tells the
// embed its parent's origin, location.ancestorOrigins; else in reply to its first message), and
// the embed shows them in its language. Messages from other windows than the parent are ignored
// silently (and counted in data-ignored on <html>, for tests). Messages that come while the embed
// starts (before its allow-list is read) are kept and answered once it has started: a host's ping
// at the iframe's load always gets its pong, also where no 'malaria:ready' can be posted.
// A server that refuses the framing itself (CSP frame-ancestors) stops the embed before it runs:
// the host then gets no message at all, so a host page waits for 'malaria:ready' and reports a
// refusal when none comes (examples/iframe-host.js). The widget (and the model it loads) is
// imported only when the parent may be answered, or is not known yet.

import { matchLanguage, browserLanguage, translate, localize } from './i18n.js';

// The words sent when the parent's origin is not allowed: English, like the rest of the
// postMessage API (the embed shows them in its own language, embed.refused in web/lang/*.js).
export const REFUSED_TEXT = (origin) => translate('en', 'embed.refused', { origin });
let lang = 'en'; // the embed's language (setupLanguage)

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

let refusedSent = false;
/** Tell a parent whose origin is not allowed why it gets no answer (once), and show it here. */
function refuse(origin, requestId) {
  const reason = REFUSED_TEXT(origin);
  const box = document.getElementById('refused');
  if (box) {
    box.textContent = translate(lang, 'embed.refused', { origin });
    box.hidden = false;
  }
  widget.hidden = true;
  document.documentElement.dataset.embed = 'refused';
  if (refusedSent && !requestId) return; // said once unasked; a request always gets its answer
  refusedSent = true;
  // to that origin only (a page of it framed us; the message says no more than the refusal)
  if (origin && origin !== 'null')
    window.parent.postMessage(
      { type: 'malaria:refused', ...(requestId ? { requestId } : {}), origin, reason },
      origin,
    );
}

async function onMessage(ev) {
  if (ev.source !== window.parent || window.parent === window)
    return ignore('not from the parent window', ev);
  if (!allowed.has(ev.origin)) {
    ignore('origin not in the allow-list', ev);
    const id = ev.data && typeof ev.data.requestId === 'string' ? ev.data.requestId : undefined;
    refuse(ev.origin, id && /^[\w.:-]{1,64}$/.test(id) ? id : undefined);
    return;
  }
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
    // as MalariaClassifier.classify gives it: a cut-out cell's result (mode 'cell') or a whole
    // field's (mode 'field': counts, parasitemia, ci95 and every cell; malaria-classifier.d.ts)
    const result = await widget.classify(input, msg.name || 'image');
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
  lang = code;
  document.documentElement.lang = code;
  document.title = translate(code, 'embed.title');
  localize(document, code);
  widget.setAttribute('lang', code);
}

// Messages that come before start() is done (the host's ping at the iframe's load, while the
// allow-list is fetched) wait here and are answered, in order, once it is: none is lost.
const MAX_EARLY = 64;
let early = [];
window.addEventListener('message', (ev) => {
  if (!early) onMessage(ev);
  else if (early.length < MAX_EARLY) early.push(ev);
  else ignore('too many messages before the embed was ready', ev);
});

async function start() {
  setupLanguage();
  // An embed without an origin of its own (a sandboxed iframe without allow-same-origin, where
  // location.origin still names the URL's; a file:// page in Firefox) is 'null', as is every other
  // such frame: it could not tell its own site's pages from any opaque one, so it does not run
  // (and answers no message).
  if (self.origin === 'null' || location.origin === 'null') {
    const box = document.getElementById('refused');
    box.textContent = translate(lang, 'embed.opaque');
    box.hidden = false;
    widget.hidden = true;
    document.documentElement.dataset.embed = 'opaque';
    return;
  }
  try {
    const cfg = await (await fetch('embed-config.json', { cache: 'no-cache' })).json();
    allowed = new Set(
      (cfg.allowedOrigins || []).filter((o) => typeof o === 'string' && o !== '*' && o !== 'null'),
    );
  } catch (e) {
    console.warn('embed: no embed-config.json, answering pages of this origin only', e);
  }
  allowed.add(location.origin); // the site's own pages (examples/iframe-host.html on the site)
  try {
    version = (await (await fetch('asset-manifest.json')).json()).version || '';
  } catch {
    /* optional */
  }
  // Announce readiness to the parent when its origin is known and allowed. Where the browser does
  // not tell it (Firefox has no location.ancestorOrigins) nothing is posted unasked: the host's
  // ping is answered (onMessage: to an allowed origin only, the origin that sent it).
  const parentOrigin = window.location.ancestorOrigins && window.location.ancestorOrigins[0];
  const refusedNow = window.parent !== window && parentOrigin && !allowed.has(parentOrigin);
  if (!refusedNow) await import('./widget.js');
  if (refusedNow) {
    refuse(parentOrigin);
  } else {
    if (window.parent !== window && parentOrigin) {
      window.parent.postMessage({ type: 'malaria:ready', version }, parentOrigin);
    }
    document.documentElement.dataset.embed = 'ready';
  }
  const waiting = early;
  early = null;
  for (const ev of waiting) onMessage(ev);
}

start();
