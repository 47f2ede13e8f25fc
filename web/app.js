// app.js -- the screening page: input (files, folders, drops, paste, camera), a streamed batch
// through the classifier Workers, result cards (cut-out cells with heat maps; whole fields with
// every red cell outlined in its call's colour), summary, exports, persistence in IndexedDB, and
// the service worker's update prompt.
import { MalariaClassifier } from './malaria-classifier.js';
import { ResultStore } from './store.js';
import {
  summarize,
  toCSV,
  toSlidesCSV,
  toJSON,
  toFHIR,
  pct,
  parasitemiaText,
  isField,
  isRefusal,
  modelCall,
  slideRows,
  reviewOf,
  summarizeGroup,
  slidesOf,
  slidesFromPaths,
  cellsOf,
  intendedUse,
  errorKind,
  isInputRefusal,
} from './stats.js';
import { fileSizeProblem } from './image-input.js';
import { drawCam, fitOverlay } from './cam-overlay.js';
import { Camera } from './camera.js';
import {
  t,
  num,
  setLanguage,
  initialLanguage,
  language,
  languages,
  localize,
  dirOf,
  dateLocale,
} from './i18n.js';
import {
  asGridRow,
  cellHadFocus,
  isActiveCard,
  setupGrid,
  setupTouch,
  setupOffline,
  showModelProgress,
  modelLoaded,
  modelFailed,
  relabel,
} from './a11y.js';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'alt')
      e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...kids);
  return e;
};

const state = {
  classifier: null,
  store: null,
  storeReady: null, // loadStore() at start: files given meanwhile wait for it
  session: null, // the session shown: {id, created, updated, operator}
  slide: '', // the slide ID images are added to (typed or scanned)
  records: [], // the session's, in the order added
  awaiting: new Set(), // records of an interrupted batch that wait for Resume or Discard
  cards: new Map(), // id -> {card, url}
  running: false,
  cancel: false,
  updateWaiting: null,
  reloadAfterBatch: false,
  reloading: false, // the user asked for the update: reload once the new version has taken over
  reloadStarted: false,
  allHeat: false,
  modelName: '',
  modelDigest: '', // the blob's sha256 (asset manifest, checked at load)
  band: null, // [lo, hi] of the uncertain band (the blob's calibration.band)
  modelError: null, // why the model could not be loaded (the Retry banner is up)
  loading: null, // the loadClassifier() in progress
  workerStops: 0, // Workers that stopped and were restarted (the notice)
  lastStop: null, // the last one's 'worker' event detail
};

// A cell's call is its band: outside the uncertain band the model's call, inside it none (the
// words and the colour say "to review"; the argmax label is never shown as a call there).
const CALL_KEY = {
  parasitized: 'call.parasitized',
  uninfected: 'call.uninfected',
  uncertain: 'call.uncertain',
};
const callText = (call) => t(CALL_KEY[call]);
// lower-case words for a call inside a sentence
const CALL_WORD = {
  parasitized: 'word.parasitized',
  uninfected: 'word.uninfected',
  uncertain: 'word.toReview',
};
const callWord = (call) => t(CALL_WORD[call]);
const SYMBOL = {
  parasitized: '✚',
  uninfected: '○',
  uncertain: '?',
  error: '!',
  refused: '!',
  pending: '…',
};
const f3 = (x) => num(x, 3);
/** The line under the bar: where p lies against the band. */
function bandText(band) {
  const b = state.band;
  if (!b)
    return (
      {
        uninfected: t('band.confidentUninfected'),
        parasitized: t('band.confidentParasitized'),
        uncertain: t('band.inBand'),
      }[band] || band
    );
  if (band === 'parasitized') return t('band.above', { hi: f3(b[1]) });
  if (band === 'uninfected') return t('band.atOrBelow', { lo: f3(b[0]) });
  return t('band.inRange', { lo: f3(b[0]), hi: f3(b[1]) });
}
/** The probability bar: the band marked (hatched), the fill and a tick at p, in the call's colour. */
function meterEl(p, band) {
  const call = modelCall(band);
  const meter = el('div', { class: 'meter', 'aria-hidden': 'true', 'data-call': call });
  if (state.band) {
    const zone = el('span', { class: 'meter-band' });
    zone.style.left = `${(100 * state.band[0]).toFixed(1)}%`;
    zone.style.width = `${(100 * (state.band[1] - state.band[0])).toFixed(1)}%`;
    meter.append(zone);
  }
  const fill = el('span', { class: 'meter-fill' });
  fill.style.width = `${(100 * p).toFixed(1)}%`;
  const mark = el('span', { class: 'meter-mark' });
  mark.style.left = `${(100 * p).toFixed(1)}%`;
  meter.append(fill, mark);
  return meter;
}
const MODE_KEY = { cell: 'mode.cellName', field: 'mode.fieldName' };
const modeText = (m) => t(MODE_KEY[m]);
const EXCLUDED_KEY = {
  border: 'excluded.border',
  white: 'excluded.white',
  debris: 'excluded.debris',
  clump: 'excluded.clump',
};
// A field's preview is the file itself up to this side; larger photos are shown (and their cells
// cut) from a bitmap downscaled to it, not decoded whole in every card.
const PREVIEW_MAX_SIDE = 2048;

// ---------------------------------------------------------------------------------------------
// Messages

let lastAnnounce = '';
function announce(text) {
  // The live region exists from the start; change its text only when there is news.
  if (text === lastAnnounce) return;
  lastAnnounce = text;
  $('status').textContent = text;
}
/** The message for a write to IndexedDB that failed; a full device said plainly. */
function saveError(e, what) {
  if (e && (e.name === 'QuotaExceededError' || /quota/i.test(e.message || ''))) {
    return t('save.full', { what });
  }
  return t('save.failed', { what, error: (e && e.message) || e });
}
function showError(text) {
  const a = $('alert');
  a.hidden = !text;
  a.textContent = text || '';
}

/** A stored error message (the core's, the decoder's or the engine's: English text, kept as it
 *  came so that exports and stored results do not depend on the language shown) under a
 *  translated lead; the message itself is marked lang="en". */
function errorLines(message) {
  // the page's own message for images given up on (stored in English like the others)
  const gaveUp = /^not classified: the model could not be loaded \((.*)\)$/s.exec(message);
  if (gaveUp)
    return [el('p', { class: 'card-error', text: t('card.gaveUp', { reason: gaveUp[1] }) })];
  return [
    el('p', { class: 'card-error-lead', text: t('error.lead', { kind: t(errorKind(message)) }) }),
    el('p', { class: 'card-error', lang: 'en', text: message }),
  ];
}

/** "parasitemia" for whole fields, "share" for cut-out cells (a selection, not a parasitemia). */
const shareWord = (source) => t(source === 'fields' ? 'word.parasitemia' : 'word.share');

function showEngineState() {
  const chip = $('engine-state');
  const st = chip.dataset.state;
  chip.textContent =
    st === 'ready'
      ? t('engine.ready', { variant: state.variant === 'simd' ? 'SIMD' : t('engine.scalar') })
      : st === 'error'
        ? t('engine.failed')
        : t('engine.loading');
}

// ---------------------------------------------------------------------------------------------
// Language: the user's choice (the selector, remembered), else the browser's (i18n.js)

function applyLanguage() {
  const code = language();
  document.documentElement.lang = code;
  document.documentElement.dir = dirOf(code);
  localize(document);
  $('lang-select').value = code;
}

/** Everything written from code, written again in the language now chosen. */
function rerender() {
  applyLanguage();
  showEngineState();
  showSessionInfo();
  if (!state.slide) $('slide-hint').textContent = t('slide.hintNone');
  else $('slide-hint').textContent = t('slide.hintSet', { slide: state.slide });
  for (const { rec, card } of [...state.cards.values()])
    if (rec && card && card.isConnected) card.replaceWith(buildCard(rec));
  applyView();
  if (state.info) {
    renderModelCard(state.info, state.assets);
    $('version-info').textContent = t('footer.version', {
      version: state.assets.version,
      model: state.modelName,
    });
  }
  if (state.modelError) showModelFailure();
  relabel();
  if (!$('resume-banner').hidden)
    $('resume-text').textContent = t('resume.text', { n: state.awaiting.size });
  requestPersistence(false);
}

function setupLanguage() {
  const sel = $('lang-select');
  for (const { code, name } of languages) {
    const o = el('option', { value: code, text: name });
    o.lang = code;
    sel.append(o);
  }
  setLanguage(initialLanguage());
  applyLanguage();
  $('slide-hint').textContent = t('slide.hintNone');
  sel.addEventListener('change', () => {
    setLanguage(sel.value, { remember: true });
    rerender();
    announce(t('lang.changed'));
  });
}

// ---------------------------------------------------------------------------------------------
// Cards

function classOf(rec) {
  if (rec.error) return isRefusal(rec.error) ? 'refused' : 'error';
  if (!rec.result) return 'pending';
  if (isField(rec)) return 'field';
  return modelCall(rec.result.band);
}

function altText(rec) {
  if (rec.error) return t('alt.notReadable', { name: rec.name });
  if (!rec.result) return t('alt.pending', { name: rec.name });
  const r = rec.result;
  return t('alt.cell', {
    call: callText(modelCall(r.band)),
    p: f3(r.pParasitized),
    name: rec.name,
  });
}

/** How the image was read ("Read as whole field (auto)") and a button per other way to read it. */
function modeLine(rec, read) {
  const asked = rec.mode || 'auto';
  const line = el('div', { class: 'card-mode' });
  if (read)
    line.append(
      el('span', {
        text: t(asked === 'auto' ? 'card.readAsAuto' : 'card.readAs', { mode: modeText(read) }),
      }),
    );
  else if (asked !== 'auto')
    line.append(el('span', { text: t('card.triedAs', { mode: modeText(asked) }) }));
  for (const m of ['field', 'cell']) {
    if (m === read || m === asked) continue;
    const b = el('button', {
      type: 'button',
      class: 'btn small reread',
      text: t(m === 'field' ? 'card.rereadField' : 'card.rereadCell'),
    });
    b.dataset.mode = m;
    // named from its words first (axe: label-content-name-mismatch)
    b.setAttribute(
      'aria-label',
      t('card.rereadLabel', { button: b.textContent, name: rec.name, mode: modeText(m) }),
    );
    b.addEventListener('click', () => rereadAs(rec, m));
    line.append(b);
  }
  return line;
}

/** The object URL of a record's image (made once per card entry). */
function blobUrl(rec, entry) {
  if (!entry.url && rec.blob) entry.url = URL.createObjectURL(rec.blob);
  return entry.url;
}

// A cell card's thumbnail gets its object URL only once its block of the grid is in view (or
// near it): making one is a synchronous call into the browser (about 1 ms on a 2-core laptop),
// and most cards of a large batch are never scrolled to.
// A block that comes into view with 50 cards would make 50 at once: a pass makes them within its
// PASS_BUDGET_MS (until: performance.now() to stop at), the next pass goes on.
function fillThumbs(box, until = Infinity) {
  for (const img of box.querySelectorAll('img[data-thumb]')) {
    if (performance.now() > until) return false;
    const entry = state.cards.get(Number(img.closest('.card').dataset.id));
    img.removeAttribute('data-thumb');
    if (entry && entry.rec) img.src = blobUrl(entry.rec, entry);
  }
  return true;
}
function newChunk() {
  const box = el('div', { class: 'grid-chunk' });
  box.addEventListener('contentvisibilityautostatechange', (ev) => {
    box.inView = !ev.skipped;
    if (box.inView) scheduleView(true);
  });
  return box;
}

// A card is a row of the results grid, its content one gridcell (a11y.js: one tab stop, arrow keys).
function buildCard(rec) {
  const entry = state.cards.get(rec.id) || {};
  const active = isActiveCard(entry.card);
  const cls = classOf(rec);
  if (cls === 'field') {
    blobUrl(rec, entry);
    return asGridRow(buildFieldCard(rec, entry), active);
  }
  const card = el('div', { class: 'card', 'data-class': cls, 'data-id': String(rec.id) });
  card.dataset.name = rec.name;
  card.dataset.mode = rec.result ? 'cell' : '';
  card.dataset.asked = rec.mode || 'auto';
  if (rec.result) {
    card.dataset.band = rec.result.band;
    card.dataset.label = rec.result.label;
    card.dataset.p = String(rec.result.pParasitized);
  }

  const box = el('div', { class: 'thumb-box' });
  const thumb = el('div', { class: 'thumb' }, box);
  if (rec.blob && cls !== 'error' && cls !== 'refused') {
    const img = el('img', { alt: altText(rec), decoding: 'async', loading: 'lazy' });
    if (entry.url) img.src = entry.url;
    else img.dataset.thumb = ''; // fillThumbs() gives it its URL once in view
    box.append(img);
  } else {
    box.append(el('span', { class: 'placeholder', 'aria-hidden': 'true', text: SYMBOL[cls] }));
  }

  const body = el('div', { class: 'card-body' });
  body.append(el('h3', { class: 'card-name', text: rec.name, title: rec.name }));
  card.dataset.slide = rec.slide || '';
  if (rec.slide)
    body.append(el('p', { class: 'card-slide', text: t('card.slide', { slide: rec.slide }) }));
  if (cls === 'error' || cls === 'refused') {
    body.append(
      el(
        'p',
        { class: 'card-label' },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: '!' }),
        cls === 'refused' ? t('card.notAnalysed') : t('card.notReadable'),
      ),
    );
    body.append(...errorLines(rec.error));
    if (cls === 'refused') body.append(modeLine(rec, null));
  } else if (cls === 'pending') {
    body.append(
      el(
        'p',
        { class: 'card-label' },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: '…' }),
        state.modelError ? t('card.waitingModel') : t('card.waiting'),
      ),
    );
    if (state.modelError)
      body.append(el('p', { class: 'card-error', text: t('card.modelFailed') }));
  } else {
    const r = rec.result;
    body.append(
      el(
        'p',
        { class: 'card-label' },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: SYMBOL[cls] }),
        callText(cls),
      ),
    );
    body.append(el('p', { class: 'card-prob', text: t('card.prob', { p: f3(r.pParasitized) }) }));
    body.append(meterEl(r.pParasitized, r.band));
    body.append(el('p', { class: 'card-band', text: bandText(r.band) }));
    body.append(reviewBar(rec, null, r.band));
    card.dataset.reviewed = reviewOf(rec) ? reviewOf(rec).call : '';
    body.append(modeLine(rec, 'cell'));
    // The occlusion heat map (where covering the cell lowers the evidence for Parasitized),
    // computed on demand: it answers a question only for a cell not called Uninfected.
    if (r.band !== 'uninfected' && rec.blob) {
      const canvas = el('canvas', { class: 'cam', 'aria-hidden': 'true' });
      canvas.hidden = true;
      fitOverlay(canvas, r.width, r.height); // the map covers the whole image
      box.append(canvas);
      const btn = el('button', {
        type: 'button',
        class: 'btn small heat-btn',
        text: t('heat.button'),
        'aria-pressed': 'false',
      });
      btn.setAttribute('aria-label', t('heat.label', { name: rec.name }));
      btn.addEventListener('click', () =>
        setHeat(card, btn.getAttribute('aria-pressed') !== 'true'),
      );
      body.append(el('div', { class: 'card-actions' }, btn));
    }
  }
  card.append(thumb, body);
  entry.card = card;
  entry.rec = rec;
  state.cards.set(rec.id, entry);
  if (state.allHeat) setHeat(card, true);
  return asGridRow(card, active);
}

// ---------------------------------------------------------------------------------------------
// Review: the technician confirms or overturns a cell's call (buttons, or keys on a focused card
// or field cell: P parasitized, U uninfected, C confirm the model's call, Delete or X undo).

const REVIEW_KEYS = {
  p: 'parasitized',
  u: 'uninfected',
  c: 'confirm',
  delete: null,
  backspace: null,
  x: null,
};
const confirmCall = (band) => (band === 'parasitized' || band === 'uninfected' ? band : undefined);

function reviewBar(rec, index, band) {
  const rv = reviewOf(rec, index);
  const what =
    index === null ? rec.name : t('review.cellOf', { index: String(index), name: rec.name });
  const bar = el('div', {
    class: 'review',
    role: 'group',
    'aria-label': t('review.groupLabel', { what }),
  });
  bar.dataset.reviewed = rv ? rv.call : '';
  const model = modelCall(band);
  const verdict = !rv
    ? t('review.yourCall')
    : model === 'uncertain'
      ? t('review.reviewed', { call: callText(rv.call) })
      : rv.call === model
        ? t('review.confirmed', { call: callText(rv.call) })
        : t('review.overturned', { call: callText(rv.call) });
  bar.append(el('span', { class: 'review-label', text: verdict }));
  for (const call of ['parasitized', 'uninfected']) {
    const b = el('button', {
      type: 'button',
      class: 'btn small review-btn',
      text: callText(call),
      'aria-pressed': String(!!rv && rv.call === call),
    });
    b.dataset.call = call;
    b.setAttribute(
      'aria-label',
      t(rv && rv.call === call ? 'review.undoLabel' : 'review.callLabel', {
        what,
        call: callWord(call),
      }),
    );
    b.title = t('review.keys', { key: call === 'parasitized' ? 'P' : 'U' });
    b.addEventListener('click', () => setReview(rec, index, rv && rv.call === call ? null : call));
    bar.append(b);
  }
  return bar;
}

async function setReview(rec, index, call) {
  if (call === undefined || !rec.result) return; // nothing to confirm in the band
  const at = new Date().toISOString();
  if (index === null) {
    if (call) rec.review = { call, at };
    else delete rec.review;
  } else {
    rec.reviews = { ...(rec.reviews || {}) };
    if (call) rec.reviews[index] = { call, at };
    else delete rec.reviews[index];
  }
  if (!rec.unsaved) {
    try {
      await state.store.put(rec);
    } catch (e) {
      showError(saveError(e, t('save.whatReview', { name: rec.name })));
    }
    touchSession();
  }
  const entry = state.cards.get(rec.id);
  if (index === null) {
    const old = entry && entry.card;
    const had = old && old.contains(document.activeElement) ? document.activeElement : null;
    const onCell = cellHadFocus(old); // the review keys on the card in focus: it keeps the focus
    const focusCall = had && had.dataset ? had.dataset.call : null;
    const card = buildCard(rec);
    if (old && old.isConnected) old.replaceWith(card);
    if (onCell) card.querySelector('.card-cell').focus();
    else if (had)
      (
        card.querySelector(`.review-btn[data-call="${focusCall}"]`) ||
        card.querySelector('.review-btn')
      ).focus();
    applyView();
  } else if (entry && entry.view) {
    const v = entry.view;
    const poly = v.byIndex.get(index);
    if (call) poly.setAttribute('data-reviewed', call);
    else poly.removeAttribute('data-reviewed');
    const c = v.r.cells.find((x) => x.index === index);
    const focused = document.activeElement;
    showCell(v.card, v, c);
    if (focused && focused.dataset && focused.dataset.call) {
      const b = v.detail.querySelector(`.review-btn[data-call="${focused.dataset.call}"]`);
      if (b) b.focus();
    }
    const dd = v.card.querySelector('.field-counts dd[data-k="reviewed"]');
    if (dd) dd.textContent = fieldReviewText(rec);
    renderSummary();
  }
  const who = index === null ? rec.name : t('cell.title', { index: String(index) });
  announce(
    call ? t('review.announce', { who, call: callWord(call) }) : t('review.announceUndo', { who }),
  );
}

/** "3 cells reviewed: 2 parasitized, 20 to review; parasitemia ..." for one field (or "none yet"). */
function fieldReviewText(rec) {
  const g = summarizeGroup([rec]).fields;
  if (!g.reviewedCells) return t('review.noneYet');
  const v = g.reviewed;
  return t('review.fieldText', {
    n: g.reviewedCells,
    parasitized: v.parasitized,
    uncertain: v.uncertain,
    parasitemia: parasitemiaText(v.share.value, v.share.lo, v.share.hi, v.n),
  });
}

// Heat maps are computed one at a time (each is up to 257 network passes, ~0.7 s), so that a
// batch of them never holds back the classification of new images for long.
let heatQueue = Promise.resolve();

function setHeat(card, on) {
  const entry = state.cards.get(Number(card.dataset.id));
  const canvas = card.querySelector('canvas.cam');
  const btn = card.querySelector('.heat-btn');
  if (!canvas || !entry || !entry.rec.result || !btn) return;
  btn.setAttribute('aria-pressed', String(on));
  if (!on) {
    canvas.hidden = true;
    return;
  }
  // computed for this card or for the one it replaced (a review, a language change): drawn again
  if (entry.heatMap && !canvas.dataset.drawn) {
    drawCam(canvas, entry.heatMap.map, entry.heatMap.size);
    canvas.dataset.drawn = '1';
  }
  if (canvas.dataset.drawn) {
    canvas.hidden = false;
    return;
  }
  btn.textContent = t('heat.computing');
  btn.setAttribute('aria-busy', 'true');
  if (entry.heat) return; // being computed: shown when it is done (if still wanted)
  const { rec } = entry;
  // the card's button when the map is done: this card's, or the one of a card rebuilt meanwhile
  const done = () => {
    entry.heat = null;
    const b = entry.card && entry.card.querySelector('.heat-btn');
    if (b) {
      b.textContent = t('heat.button');
      b.removeAttribute('aria-busy');
    }
    return b;
  };
  entry.heat = heatQueue = heatQueue
    .then(() => state.classifier.explain(rec.blob, { name: rec.name }))
    .then(
      (h) => {
        entry.heatMap = { map: h.map, size: h.size }; // kept: a rebuilt card draws it again
        const b = done();
        if (b && b.getAttribute('aria-pressed') === 'true') setHeat(entry.card, true);
      },
      (e) => {
        const b = done(); // may be asked again
        if (!b) return;
        b.setAttribute('aria-pressed', 'false');
        const msg =
          entry.card.querySelector('.card-heat-error') ||
          el('p', { class: 'card-error card-heat-error' });
        msg.textContent = t('heat.failed', { error: e.message || e });
        b.parentElement.after(msg);
      },
    );
}

// ---------------------------------------------------------------------------------------------
// Whole fields: the image with one SVG overlay (every region's outline, counted cells in their
// call's colour), the counts, and the chosen cell cut out along its outline.

const SVGNS = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

const cellText = (c) =>
  t('cell.text', {
    index: String(c.index),
    call: callText(modelCall(c.band)),
    p: f3(c.pParasitized),
  });

function excludedLine(ex) {
  const parts = Object.keys(EXCLUDED_KEY)
    .filter((k) => ex && ex[k] > 0)
    .map((k) => t(EXCLUDED_KEY[k], { n: ex[k] }));
  const n = Object.values(ex || {}).reduce((a, b) => a + b, 0);
  return n ? `${num(n)} (${parts.join(', ')})` : t('word.none');
}

/** The element the field is shown from and cells are cut from: the file, or for a very large
 *  photo a canvas with a downscaled bitmap of it (made once per card entry). */
function fieldSource(rec, entry, alt) {
  const r = rec.result;
  if (Math.max(r.width, r.height) <= PREVIEW_MAX_SIDE || !rec.blob) {
    if (!entry.url) return el('span', { class: 'placeholder', 'aria-hidden': 'true', text: '?' });
    return el('img', { alt, decoding: 'async', src: entry.url, class: 'field-img' });
  }
  if (!entry.preview) {
    const s = PREVIEW_MAX_SIDE / Math.max(r.width, r.height);
    const c = el('canvas', { class: 'field-img', role: 'img', 'aria-label': alt });
    c.width = Math.round(r.width * s);
    c.height = Math.round(r.height * s);
    entry.preview = c;
    entry.previewReady = createImageBitmap(rec.blob, {
      resizeWidth: c.width,
      resizeHeight: c.height,
      resizeQuality: 'medium',
      imageOrientation: 'from-image',
    })
      .then((bmp) => {
        c.getContext('2d').drawImage(bmp, 0, 0);
        bmp.close();
      })
      .catch(() => {}); // the overlay and the counts stay; the picture stays black
  }
  entry.preview.setAttribute('aria-label', alt);
  return entry.preview;
}

/** A cell's outline as the points of an SVG polygon. */
function outlinePoints(c) {
  let pts = '';
  for (let i = 0; i + 1 < c.outline.length; i += 2) pts += `${c.outline[i]},${c.outline[i + 1]} `;
  return pts;
}

function buildOverlay(r, name, rec = null) {
  const svg = svgEl('svg', {
    class: 'field-overlay',
    viewBox: `0 0 ${r.width} ${r.height}`,
    preserveAspectRatio: 'none',
    tabindex: '-1', // not a tab stop of its own (Chromium focuses an inline <svg>); its cells are
    role: 'group',
    'aria-label': t('field.overlayLabel', { name }),
  });
  const left = svgEl('g', { class: 'left-out', 'aria-hidden': 'true' });
  const counted = svgEl('g', { class: 'counted' });
  // reading order (rows of about one cell, left to right): Tab enters at the first cell
  const d =
    r.cellDiameter > 0 && r.cellDiameter < Math.max(r.width, r.height) ? r.cellDiameter : 40;
  const order = r.cells
    .filter((c) => c.status === 'counted')
    .sort((a, b) => Math.round((a.y + a.h / 2) / d) - Math.round((b.y + b.h / 2) / d) || a.x - b.x);
  for (const c of r.cells) {
    const pts = outlinePoints(c);
    if (c.status !== 'counted') {
      left.append(svgEl('polygon', { class: 'cell', points: pts, 'data-status': c.status }));
      continue;
    }
    counted.append(
      svgEl('polygon', {
        class: 'cell',
        points: pts,
        'data-status': 'counted',
        'data-band': c.band,
        'data-index': String(c.index),
        tabindex: '-1',
        role: 'button',
        'aria-label': cellText(c),
      }),
    );
    if (rec && reviewOf(rec, c.index))
      counted.lastChild.setAttribute('data-reviewed', reviewOf(rec, c.index).call);
  }
  if (order[0]) counted.querySelector(`[data-index="${order[0].index}"]`).classList.add('first');
  svg.append(left, counted);
  return { svg, order };
}

/** The counted cell whose centre is nearest in the arrow's direction (or null). */
function neighbour(cells, from, key) {
  const cx = (c) => c.x + c.w / 2,
    cy = (c) => c.y + c.h / 2;
  const dir = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] }[key];
  let best = null,
    bestCost = Infinity;
  for (const c of cells) {
    if (c === from) continue;
    const dx = cx(c) - cx(from),
      dy = cy(c) - cy(from);
    const along = dx * dir[0] + dy * dir[1];
    const across = Math.abs(dx * dir[1] - dy * dir[0]);
    if (along <= 0 || across > 2 * along) continue; // within ~63 degrees of the arrow
    const cost = along + 2 * across;
    if (cost < bestCost) {
      bestCost = cost;
      best = c;
    }
  }
  return best;
}

async function drawCellCrop(canvas, source, r, c, ready) {
  const css = 168;
  const dpr = Math.min(3, window.devicePixelRatio || 1);
  canvas.width = canvas.height = Math.round(css * dpr);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (source.tagName === 'IMG') {
    if (!source.complete || !source.naturalWidth) await source.decode().catch(() => {});
  } else if (source.tagName === 'CANVAS') await ready;
  else return;
  const m = 0.08 * Math.max(c.w, c.h) + 2;
  const s = canvas.width / (Math.max(c.w, c.h) + 2 * m);
  const ox = (canvas.width - c.w * s) / 2 - c.x * s,
    oy = (canvas.height - c.h * s) / 2 - c.y * s;
  const path = new Path2D();
  for (let i = 0; i + 1 < c.outline.length; i += 2)
    path[i ? 'lineTo' : 'moveTo'](c.outline[i], c.outline[i + 1]);
  path.closePath();
  ctx.setTransform(s, 0, 0, s, ox, oy); // image pixels -> canvas pixels
  ctx.save();
  ctx.clip(path);
  ctx.imageSmoothingQuality = 'high';
  try {
    ctx.drawImage(source, 0, 0, r.width, r.height);
  } catch {
    /* not decodable: stays black */
  }
  ctx.restore();
  ctx.lineWidth = (1.5 * dpr) / s;
  ctx.strokeStyle = getComputedStyle(canvas).getPropertyValue(`--band-${c.band}`).trim() || '#fff';
  ctx.stroke(path);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
}

function showCell(card, view, c) {
  const prev = view.svg.querySelector('.cell.sel');
  if (prev) prev.classList.remove('sel');
  const poly = view.byIndex.get(c.index);
  poly.classList.add('sel');
  const box = view.detail;
  box.textContent = '';
  box.dataset.index = String(c.index);
  box.dataset.band = c.band;
  box.dataset.p = String(c.pParasitized);
  const canvas = el('canvas', {
    class: 'cell-crop',
    role: 'img',
    'aria-label': t('cell.cropLabel', { index: String(c.index) }),
  });
  const cls = modelCall(c.band);
  box.append(
    canvas,
    el(
      'div',
      { class: 'cell-info' },
      el('h4', { class: 'cell-title', text: t('cell.title', { index: String(c.index) }) }),
      el(
        'p',
        { class: 'card-label', 'data-class': cls },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: SYMBOL[cls] }),
        callText(cls),
      ),
      el('p', { class: 'card-prob', text: t('card.prob', { p: f3(c.pParasitized) }) }),
      meterEl(c.pParasitized, c.band),
      el('p', { class: 'card-band', text: bandText(c.band) }),
      el('p', {
        class: 'cell-box',
        text: t('cell.box', { w: String(c.w), h: String(c.h), x: String(c.x), y: String(c.y) }),
      }),
      reviewBar(view.rec, c.index, c.band),
    ),
  );
  drawCellCrop(canvas, view.source, view.r, c, view.ready);
}

function buildFieldCard(rec, entry) {
  const r = rec.result;
  const card = el('div', {
    class: 'card field-card',
    'data-class': 'field',
    'data-id': String(rec.id),
  });
  card.dataset.name = rec.name;
  card.dataset.mode = 'field';
  card.dataset.asked = rec.mode || 'auto';
  for (const k of ['counted', 'parasitized', 'uncertain']) card.dataset[k] = String(r[k]);
  card.dataset.parasitemia = String(r.parasitemia);

  const alt = t('field.alt', {
    name: rec.name,
    counted: r.counted,
    parasitized: r.parasitized,
    uncertain: r.uncertain,
  });
  const source = fieldSource(rec, entry, alt);
  const { svg, order } = buildOverlay(r, rec.name, rec);
  const stage = el('div', { class: 'field-view' }, source, svg);
  stage.style.aspectRatio = `${r.width} / ${r.height}`;
  const legend = el(
    'p',
    { class: 'field-legend', 'aria-hidden': 'true' },
    el('span', { class: 'key parasitized' }),
    t('word.parasitized'),
    el('span', { class: 'key uncertain' }),
    t('word.toReview'),
    el('span', { class: 'key uninfected' }),
    t('word.uninfected'),
    el('span', { class: 'key left-out' }),
    t('word.leftOut'),
  );

  const counts = el('dl', { class: 'field-counts' });
  const row = (k, v, key) => {
    const dd = el('dd', { text: v });
    if (key) dd.dataset.k = key;
    counts.append(el('dt', { text: k }), dd);
  };
  row(t('field.counted'), num(r.counted), 'counted');
  row(t('count.parasitized'), num(r.parasitized), 'parasitized');
  row(t('field.uncertainRow'), num(r.uncertain), 'uncertain');
  row(
    t('field.parasitemia'),
    parasitemiaText(r.parasitemia, r.ci95[0], r.ci95[1], r.counted),
    'parasitemia',
  );
  row(t('slides.leftOut'), excludedLine(r.excluded), 'excluded');
  row(t('field.afterReview'), fieldReviewText(rec), 'reviewed');

  const detail = el(
    'div',
    { class: 'cell-detail' },
    el('p', {
      class: 'hint',
      text: r.counted ? t('field.hintCells') : t('field.noCells'),
    }),
  );
  const side = el(
    'div',
    { class: 'field-side' },
    el(
      'p',
      { class: 'card-label' },
      el('span', { class: 'badge', 'aria-hidden': 'true', text: '▦' }),
      t('field.whole'),
    ),
    counts,
    modeLine(rec, 'field'),
    detail,
  );
  const head = el('h3', {
    class: 'card-name',
    text: rec.slide ? t('field.headSlide', { name: rec.name, slide: rec.slide }) : rec.name,
    title: rec.name,
  });
  card.dataset.slide = rec.slide || '';
  card.append(
    head,
    el(
      'div',
      { class: 'field-main' },
      el('figure', { class: 'field-figure' }, stage, legend),
      side,
    ),
  );

  const byId = new Map(r.cells.map((c) => [c.index, c]));
  const view = { svg, detail, source, r, rec, card, ready: entry.previewReady, byIndex: new Map() };
  entry.view = view;
  for (const p of svg.querySelectorAll('.counted .cell'))
    view.byIndex.set(Number(p.dataset.index), p);
  const cellOf = (t) =>
    t && t.closest ? byId.get(Number((t.closest('.counted .cell') || {}).dataset?.index)) : null;
  svg.addEventListener('click', (ev) => {
    const c = cellOf(ev.target);
    if (c) view.byIndex.get(c.index).focus();
  });
  svg.addEventListener('focusin', (ev) => {
    const c = cellOf(ev.target);
    if (c && detail.dataset.index !== String(c.index)) showCell(card, view, c);
  });
  svg.addEventListener('keydown', (ev) => {
    const c = cellOf(ev.target);
    if (!c) return;
    let to = null;
    const k = REVIEW_KEYS[ev.key.toLowerCase()];
    if (k !== undefined && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      setReview(rec, c.index, k === 'confirm' ? confirmCall(c.band) : k);
      return;
    }
    if (ev.key === 'Home') to = order[0];
    else if (ev.key === 'End') to = order[order.length - 1];
    else if (ev.key.startsWith('Arrow')) to = neighbour(order, c, ev.key);
    else return;
    ev.preventDefault();
    if (to) view.byIndex.get(to.index).focus();
  });

  entry.card = card;
  entry.rec = rec;
  state.cards.set(rec.id, entry);
  return card;
}

// What a record had before it was read again (id -> its fields): a re-read that a cancelled batch
// had not started goes back to it.
const REREAD_KEYS = ['mode', 'result', 'error', 'review', 'reviews', 'status'];
const rereadFrom = new Map();

async function rereadAs(rec, mode) {
  if (!rereadFrom.has(rec.id))
    rereadFrom.set(rec.id, Object.fromEntries(REREAD_KEYS.map((k) => [k, rec[k]])));
  rec.mode = mode;
  delete rec.result;
  delete rec.error;
  delete rec.review; // a review belongs to the result it was made on
  delete rec.reviews;
  rec.status = 'pending';
  if (!rec.unsaved) {
    try {
      await state.store.put(rec);
    } catch (e) {
      showError(saveError(e, t('save.whatResult', { name: rec.name })));
    }
  }
  updateCard(rec);
  announce(t('card.rereading', { name: rec.name, mode: modeText(mode) }));
  runBatch();
}

function updateCard(rec) {
  staleCards.delete(rec.id);
  const old = state.cards.get(rec.id);
  const oldCard = old && old.card; // buildCard() updates the entry in place
  const card = buildCard(rec);
  if (oldCard && oldCard.isConnected) oldCard.replaceWith(card);
  else gridAppend(card);
  scheduleView();
}

// A batch's cards (new ones and those whose result came) are built in the view pass, not one by
// one as results arrive: a result changes nothing on screen until the next pass, so the browser
// lays out and paints once a pass (every VIEW_GAP_MS) instead of once a frame, and leaves the
// cores to the Workers. A pass builds cards and gives thumbnails their URLs for PASS_BUDGET_MS
// at most, the two together (the next pass, a frame later, goes on), so a drop of thousands of
// files is never one long task: with the pass's sorting, summary, layout and paint, a frame of
// a 300-cell drop stays under 50 ms on a 2-core laptop (12 ms each for cards and thumbnails
// made one of 54 ms in 4 drops; BENCHMARKS.md, "Long frames").
const staleCards = new Map(); // id -> record whose card is to be (re)built
const PASS_BUDGET_MS = 10;
function markCard(rec, soon = false) {
  if (rec.dropped) return; // taken off the page meanwhile
  staleCards.set(rec.id, rec);
  scheduleView(soon);
}
function buildStaleCards(until) {
  for (const [id, rec] of staleCards) {
    if (performance.now() > until) return false;
    staleCards.delete(id);
    const old = state.cards.get(rec.id);
    const oldCard = old && old.card;
    const card = buildCard(rec);
    if (oldCard && oldCard.isConnected) oldCard.replaceWith(card);
  }
  return true;
}

// Results arrive faster than frames: the order, filter and summary are brought up to date once
// per frame, not once per result (one layout per frame instead of one per card). The timer is
// for a page out of view, where frames stop.
// With thousands of cards even one pass a frame costs: passes are at least VIEW_GAP_MS apart.
const VIEW_GAP_MS = 200;
let viewPending = false;
let viewGap = 0;
let viewFrame = 0;
let viewTimer = 0;
let viewLast = 0;
function scheduleView(soon = false) {
  if (viewPending && !(soon && viewGap)) return; // a pass is due (at once, or soon enough)
  clearTimeout(viewGap); // a pass waiting out the gap: now instead
  viewPending = true;
  const wait = soon ? 0 : Math.max(0, viewLast + VIEW_GAP_MS - performance.now());
  viewGap = setTimeout(() => {
    viewGap = 0;
    viewFrame = requestAnimationFrame(() => applyView(true));
    viewTimer = setTimeout(() => applyView(true), 250);
  }, wait);
}

function matches(rec, filter) {
  if (filter === 'all') return true;
  if (filter === 'error') return !!rec.error;
  if (!rec.result) return false;
  if (filter === 'field') return isField(rec);
  if (isField(rec)) {
    // a field with parasitized cells, with cells to review, or with neither
    const r = rec.result;
    if (filter === 'parasitized') return r.parasitized > 0;
    if (filter === 'uncertain') return r.uncertain > 0;
    if (filter === 'uninfected') return r.parasitized + r.uncertain === 0;
    return true;
  }
  return filter === modelCall(rec.result.band);
}

function applyView(budget = false) {
  if (viewPending) {
    clearTimeout(viewGap);
    cancelAnimationFrame(viewFrame);
    clearTimeout(viewTimer);
    viewPending = false;
    viewGap = viewFrame = viewTimer = 0;
  }
  viewLast = performance.now();
  const until = budget ? viewLast + PASS_BUDGET_MS : Infinity;
  const built = buildStaleCards(until);
  showProgress();
  const filter = $('filter').value;
  const sort = $('sort').value;
  const recs = state.records.slice();
  const p = (r) => (r.result ? (isField(r) ? r.result.parasitemia : r.result.pParasitized) : -1);
  if (sort === 'p-desc') recs.sort((a, b) => p(b) - p(a));
  else if (sort === 'p-asc') recs.sort((a, b) => (p(a) < 0 ? 2 : p(a)) - (p(b) < 0 ? 2 : p(b)));
  else if (sort === 'name')
    recs.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const shown = [];
  const hidden = [];
  for (const r of recs) {
    const entry = state.cards.get(r.id);
    if (!entry || !entry.card) continue;
    const hide = !matches(r, filter);
    if (entry.card.hidden !== hide) entry.card.hidden = hide; // a write, even of the same value, restyles
    (hide ? hidden : shown).push(entry.card);
  }
  const grid = $('grid');
  const per = gridColumns(grid) * CHUNK_ROWS;
  let c = 0;
  for (let i = 0; i < shown.length; i += per) placeChunk(grid, c++, shown.slice(i, i + per), false);
  placeChunk(grid, c++, hidden, true);
  while (grid.children.length > c) grid.lastElementChild.remove(); // emptied by the moves above
  let filled = true;
  for (const box of grid.children) if (box.inView && filled) filled = fillThumbs(box, until);
  renderSummary();
  if (!built || !filled) scheduleView(true); // cards or thumbnails left: the next frame goes on
}

// The grid is cut into blocks of CHUNK_ROWS full rows (cards per row as the CSS grid makes
// them): the browser lays out and paints only the blocks in view (content-visibility on each
// block), so a page with thousands of cards costs per frame what a screenful does. Cards that
// the filter hides wait in a last block of their own.
const CHUNK_ROWS = 10;
const CARD_MIN_PX = 160;
const GRID_GAP_PX = 12;
const NARROW = window.matchMedia('(max-width: 600px)'); // app.css: 2 or 3 cards a row on a phone
// the grid's width as its ResizeObserver last saw it: reading clientWidth in the pass, after the
// cards were changed, would force a layout of the page there and then
let gridWidth = 0;
let gridObserver = null;
function gridColumns(grid) {
  if (!gridObserver && typeof ResizeObserver !== 'undefined') {
    gridWidth = grid.clientWidth;
    gridObserver = new ResizeObserver((entries) => {
      const w = Math.round(entries[entries.length - 1].contentRect.width);
      if (w && w !== gridWidth) {
        gridWidth = w;
        scheduleView();
      }
    });
    gridObserver.observe(grid);
  }
  const w = (gridObserver ? gridWidth : grid.clientWidth) || 800;
  const [min, gap] = NARROW.matches ? [128, 8] : [CARD_MIN_PX, GRID_GAP_PX];
  return Math.max(1, Math.floor((w + gap) / (min + gap)));
}
function placeChunk(grid, c, cards, isHidden) {
  let box = grid.children[c];
  if (!box || !box.classList.contains('grid-chunk')) {
    box = newChunk();
    grid.insertBefore(box, grid.children[c] || null);
  }
  if (box.hidden !== isHidden) box.hidden = isHidden;
  for (let j = 0; j < cards.length; j++) {
    if (box.children[j] !== cards[j]) box.insertBefore(cards[j], box.children[j] || null);
  }
}
/** A new card goes at the end of the last block of shown cards, until the next applyView. */
function gridAppend(card) {
  const grid = $('grid');
  const blocks = [...grid.children].filter((b) => !b.hidden);
  let box = blocks[blocks.length - 1];
  if (!box) {
    box = newChunk();
    grid.prepend(box);
  }
  box.append(card);
  if (box.inView) scheduleView(true);
}

/** The reviewed figures beside the model's: "After review (3 cells reviewed): ..." */
function reviewedLine(g, what) {
  const v = g.reviewed;
  return t('review.after', {
    n: g.reviewedCells,
    parasitized: v.parasitized,
    uncertain: v.uncertain,
    uninfected: v.uninfected,
    what,
    value: parasitemiaText(v.share.value, v.share.lo, v.share.hi, v.n),
    modelParasitized: g.model.parasitized,
    modelUncertain: g.model.uncertain,
  });
}

/** One sentence on the band, with the blob's own test figures when it has them. */
function bandNote() {
  const [lo, hi] = state.band;
  const m = (state.metrics && state.metrics.test) || {};
  const err = Number.isFinite(m.error_outside_band)
    ? t('band.noteError', { pct: pct(m.error_outside_band) })
    : '';
  return t('band.note', { lo: f3(lo), hi: f3(hi), err });
}

function renderSummary() {
  state.reportStale = true;
  const s = summarize(state.records);
  const f = s.fields;
  $('field-summary').hidden = f.images === 0;
  $('summary-note').hidden = f.images === 0 || s.classified === 0;
  $('cell-summary-title').hidden = f.images === 0;
  // only fields so far: the cut-out cells' row would be all zeros
  $('summary').hidden = f.images > 0 && s.classified + s.errors + s.pending === 0;
  $('cell-summary-title').hidden ||= $('summary').hidden;
  if (f.images) {
    $('n-fields').textContent = t('summary.fieldsCounted', { n: f.images });
    $('n-field-cells').textContent = num(f.counted);
    $('n-field-parasitized').textContent = num(f.parasitized);
    $('n-field-uncertain').textContent = num(f.uncertain);
    $('field-share').textContent = f.counted ? `${num(100 * f.pooled.p, 1)} %` : '–';
    $('field-share-detail').textContent = t('summary.pooled', {
      text: parasitemiaText(f.pooled.p, f.pooled.lo, f.pooled.hi, f.counted),
      excluded: excludedLine(f.excluded),
    });
  }
  $('n-classified').textContent = num(s.classified);
  $('n-parasitized').textContent = num(s.parasitized);
  $('n-uninfected').textContent = num(s.uninfected);
  $('n-uncertain').textContent = num(s.uncertain);
  $('n-errors').textContent = num(s.errors);
  if (s.classified > 0) {
    $('share').textContent = pct(s.share.p);
    $('share-detail').textContent = t('summary.shareDetail', {
      parasitized: s.parasitized,
      classified: s.classified,
      uncertain: s.uncertain,
      lo: pct(s.share.lo),
      hi: pct(s.share.hi),
    });
  } else {
    $('share').textContent = '–';
    $('share-detail').textContent = t('summary.shareTitle');
  }
  const any = state.records.length > 0;
  const g = s.group;
  $('review-detail').hidden = !g.crops.reviewedCells;
  if (g.crops.reviewedCells)
    $('review-detail').textContent = reviewedLine(g.crops, t('word.share'));
  $('field-review-detail').hidden = !g.fields.reviewedCells;
  if (g.fields.reviewedCells)
    $('field-review-detail').textContent = reviewedLine(g.fields, t('word.parasitemia'));
  renderSlides();
  $('band-note').hidden = !state.band || s.classified + f.counted === 0;
  if (state.band) $('band-note').textContent = bandNote();
  $('empty').hidden = any;
  $('grid-help').hidden = !any;
  $('export-csv').disabled = !any || s.classified + s.errors + f.images === 0;
  for (const id of ['export-slides-csv', 'export-json', 'export-fhir', 'print-btn'])
    $(id).disabled = $('export-csv').disabled;
  $('clear-btn').disabled = !any || state.running;
}

// ---------------------------------------------------------------------------------------------
// Batches

function batchId() {
  return `b${Date.now().toString(36)}`;
}

// Records that could not be stored (storage full or unavailable) are kept on the page only, with
// ids of their own (negative, never an IndexedDB key): they are classified and exported all the
// same, and the page says they will not outlive it.
let unsavedIds = 0;
function keepUnsaved(items, session, why) {
  const n = items.length;
  showError(t('unsaved.text', { why, n }));
  const batch = batchId();
  return items.map((it) => ({
    session,
    slide: it.slide || '',
    batch,
    name: it.name,
    blob: it.blob,
    mode: it.mode,
    status: it.error ? 'error' : 'pending',
    ...(it.error ? { error: it.error } : {}),
    id: --unsavedIds,
    unsaved: true,
  }));
}

async function addFiles(items) {
  if (!items.length) return;
  await state.storeReady; // given while the page opens: stored in the session being reopened
  const mode = $('mode-select').value;
  for (const it of items) {
    if (it.slide === undefined) it.slide = state.slide;
    it.mode = it.mode || mode;
    // a file the decoder refuses for its size alone (a video, an archive) is not stored: its
    // record says why, as the decoder would, and keeps none of its bytes
    const refused = fileSizeProblem(it.blob.size);
    if (refused) {
      it.error = `${it.name}: ${refused}`;
      delete it.blob;
    }
  }
  const sess = state.session;
  let recs;
  if (!state.store || !sess) {
    recs = keepUnsaved(items, sess ? sess.id : null, t('storage.unavailable'));
  } else {
    try {
      recs = await state.store.addPending(sess.id, batchId(), items);
    } catch (e) {
      recs = keepUnsaved(items, sess.id, saveError(e, t('save.whatImages', { n: items.length })));
    }
  }
  if (!recs[0].unsaved) {
    // another session opened meanwhile: they stay in theirs (shown, waiting, when it is reopened)
    if (!state.session || state.session.id !== sess.id) return;
    touchSession();
  }
  for (const r of recs) {
    state.records.push(r);
    markCard(r);
  }
  // files refused as they came (over the size limit) are in no batch: said here when none runs
  const notRead = recs.filter((r) => r.error).length;
  if (notRead && !pendingRecords().length)
    announce(
      t('batch.done', { ok: 0, n: notRead }) +
        t('batch.notReadable', { n: notRead }) +
        t('batch.end'),
    );
  runBatch();
}

function pendingRecords() {
  return state.records.filter((r) => !r.result && !r.error);
}

/** Records taken off the page and out of the store (their images too); never written again. */
async function dropRecords(recs) {
  for (const r of recs) {
    r.dropped = true;
    rereadFrom.delete(r.id);
    state.awaiting.delete(r);
    dropCard(r.id);
  }
  state.records = state.records.filter((r) => !r.dropped);
  const stored = recs.filter((r) => !r.unsaved).map((r) => r.id);
  if (!stored.length || !state.store) return;
  try {
    await state.store.remove(stored);
  } catch (e) {
    showError(t('results.clearFailed', { error: (e && e.message) || e }));
  }
}

/** Re-reads a cancelled batch had not started: back to what they had before. */
async function restoreEarlier(recs) {
  for (const r of recs) {
    const was = rereadFrom.get(r.id);
    rereadFrom.delete(r.id);
    for (const k of REREAD_KEYS) {
      if (was[k] === undefined) delete r[k];
      else r[k] = was[k];
    }
    updateCard(r);
  }
  const stored = recs.filter((r) => !r.unsaved);
  if (!stored.length || !state.store) return;
  try {
    await state.store.putMany(stored);
  } catch (e) {
    showError(saveError(e, t('save.whatResults', { n: stored.length, name: stored[0].name })));
  }
}

async function runBatch() {
  if (state.running) return;
  if (!state.classifier) {
    announce(state.modelError ? t('batch.waitModelFailed') : t('batch.waitModel'));
    if (state.modelError) showModelFailure();
    return;
  }
  // not the images of an interrupted batch until the user chooses Resume (or Discard)
  const todo = pendingRecords().filter((r) => !state.awaiting.has(r));
  if (!todo.length) return;
  state.running = true;
  state.cancel = false;
  document.documentElement.dataset.batch = 'running';
  const total = todo.length;
  let done = 0;
  let errors = 0;
  let refused = 0;
  const box = $('progress-box');
  const bar = $('progress');
  box.hidden = false;
  bar.max = total;
  bar.value = 0;
  $('clear-btn').disabled = true;
  announce(t('batch.start', { n: total }));
  const label = $('progress-label');
  label.textContent = t('batch.progress', { done: 0, total });
  progress = { done: 0, total };
  firstResultDue = true;
  let nextQuarter = 0.25;

  const next = () => (state.cancel ? null : todo.shift());
  async function lane() {
    for (let rec = next(); rec; rec = next()) {
      try {
        const result = await state.classifier.classify(rec.blob, {
          name: rec.name,
          mode: rec.mode || 'auto',
        });
        rec.result = result;
        rec.status = 'done';
      } catch (e) {
        rec.error = String((e && e.message) || e);
        rec.status = 'error';
        errors++;
        if (isRefusal(rec.error)) refused++;
      }
      rereadFrom.delete(rec.id);
      saveResult(rec); // stored, then drawn (and the progress shown) in the next view pass
      done++;
      progress.done = done;
      if (done / total >= nextQuarter && done < total) {
        announce(t('batch.quarter', { done, total }));
        nextQuarter += 0.25;
      }
    }
  }
  // lanes: enough images in flight that each Worker's engine finds a batch waiting when a pass
  // ends (it classifies those in one pass), while results are stored and drawn on this thread
  const lanes = [];
  for (let i = 0; i < Math.max(2, state.classifier.inFlight || 0); i++) lanes.push(lane());
  await Promise.all(lanes);
  await flushSaves(); // every result stored before the batch is said to be done
  progress = null;
  applyView(); // the last cards

  let cancelledCount = 0;
  if (state.cancel) {
    // what this batch was to classify and had not started (not images added meanwhile): new
    // images are dropped, images read again go back to their earlier result
    const left = todo.splice(0).filter((r) => !r.dropped); // not those of a deleted session
    cancelledCount = left.length;
    const reread = left.filter((r) => rereadFrom.has(r.id));
    await dropRecords(left.filter((r) => !rereadFrom.has(r.id)));
    await restoreEarlier(reread);
  }
  state.running = false;
  document.documentElement.dataset.batch = 'idle';
  box.hidden = true;
  const s = summarize(state.records);
  const f = s.fields;
  announce(
    t(state.cancel ? 'batch.cancelled' : 'batch.done', { ok: done - errors, n: total }) +
      (errors > refused ? t('batch.notReadable', { n: errors - refused }) : '') +
      (refused ? t('batch.refused', { n: refused }) : '') +
      (cancelledCount ? t('batch.notStarted', { n: cancelledCount }) : '') +
      t('batch.inAll', {
        n: s.classified,
        parasitized: s.parasitized,
        uncertain: s.uncertain,
        uninfected: s.uninfected,
      }) +
      (f.images
        ? t('batch.fields', {
            counted: f.counted,
            parasitized: f.parasitized,
            uncertain: f.uncertain,
          })
        : '') +
      t('batch.end'),
  );
  applyView();
  requestPersistence();
  if (state.reloadAfterBatch) applyUpdate();
  else if (pendingRecords().length) runBatch(); // images added while this batch ran
}

// The progress of the running batch ({done, total}), shown by the view pass.
let progress = null;
function showProgress() {
  if (!progress) return;
  $('progress').value = progress.done;
  const text = t('batch.progress', { done: progress.done, total: progress.total });
  if ($('progress-label').textContent !== text) $('progress-label').textContent = text;
}

// Results are stored in batches, not one IndexedDB transaction a result: one transaction at a
// time, with every result that arrived while the previous one was being written. A result is
// drawn once its transaction is over, so what the page shows as done is stored (a reload keeps
// it); one not yet stored at a reload loses nothing either: its record is still stored as
// pending, with its image, and is classified again. A write that fails (storage full) is said
// as before; those results stay on the page.
const saveQueue = [];
let saving = null;
// The first result of a batch is drawn in the next frame, not after VIEW_GAP_MS (the gap keeps
// the passes few while results stream; before the first one there is nothing to keep few).
let firstResultDue = false;
function resultSoon() {
  const soon = firstResultDue;
  firstResultDue = false;
  return soon;
}
function saveResult(rec) {
  if (rec.dropped) return; // discarded meanwhile: not written back
  if (rec.unsaved || !state.store) {
    markCard(rec, resultSoon());
    return;
  }
  saveQueue.push(rec);
  flushSaves();
}
function flushSaves() {
  if (saving) return saving;
  if (!saveQueue.length) return Promise.resolve();
  saving = (async () => {
    while (saveQueue.length) {
      const recs = saveQueue.splice(0).filter((r) => !r.dropped);
      if (!recs.length) continue;
      // a file the input policy refused (not an image, too large, empty, corrupt) is not kept:
      // its image is deleted with its result (a refusal's stays: it can be read as a cell or field)
      const noImage = recs.filter((r) => r.blob && isInputRefusal(r.error));
      for (const r of noImage) delete r.blob;
      try {
        await state.store.putMany(
          recs,
          noImage.map((r) => r.id),
        );
      } catch (e) {
        showError(
          saveError(
            e,
            recs.length === 1
              ? t('save.whatResult', { name: recs[0].name })
              : t('save.whatResults', { n: recs.length, name: recs[0].name }),
          ),
        );
      }
      const soon = resultSoon();
      for (const r of recs) markCard(r, soon);
    }
    saving = null;
  })();
  return saving;
}

function dropCard(id) {
  staleCards.delete(id);
  const e = state.cards.get(id);
  if (!e) return;
  if (e.card) e.card.remove();
  if (e.url) URL.revokeObjectURL(e.url);
  state.cards.delete(id);
}

let persistAsked = false;
async function requestPersistence(ask = true) {
  if (!navigator.storage) return;
  try {
    if (ask && !persistAsked && navigator.storage.persist) {
      persistAsked = true;
      await navigator.storage.persist();
    }
    if (navigator.storage.estimate) {
      const { usage, quota } = await navigator.storage.estimate();
      const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
      $('storage-info').textContent = t(persisted ? 'storage.infoPersistent' : 'storage.info', {
        used: num(usage / 1e6, 1),
        quota: num(quota / 1e9, 1),
      });
    }
  } catch {
    /* informational only */
  }
}

// ---------------------------------------------------------------------------------------------
// Input

function isHidden(name) {
  return name.split('/').some((p) => p.startsWith('.'));
}

function fromFileList(list) {
  const out = [];
  for (const f of list) {
    const name = f.webkitRelativePath || f.name;
    if (!isHidden(name)) out.push({ name, blob: f });
  }
  out.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return assignSlides(out);
}

/**
 * Slides from the paths of folders: a folder picked or dropped alone that has subfolders gives
 * one slide per subfolder (its first level of folders; files loose in it go to a slide named
 * after it); several folders dropped, or one without subfolders, give one slide each. Loose
 * files keep the slide typed in the field. Says what it did.
 */
function assignSlides(items) {
  const { slides, split, roots } = slidesFromPaths(items.map((it) => it.name));
  if (!roots.length) return items;
  items.forEach((it, i) => {
    if (slides[i] !== undefined) it.slide = slides[i];
  });
  const n = new Map();
  for (const it of items) if (it.slide !== undefined) n.set(it.slide, (n.get(it.slide) || 0) + 1);
  const list = [...n].map(([k, v]) => t('slides.imagesOf', { slide: k, n: v })).join(', ');
  $('slide-hint').textContent = split
    ? t('slides.split', { folder: roots[0], n: n.size, list })
    : t('slides.folders', { n: roots.length, list });
  return items;
}

function readAllEntries(dirEntry) {
  const reader = dirEntry.createReader();
  const all = [];
  return new Promise((resolve, reject) => {
    const step = () =>
      reader.readEntries((batch) => {
        if (!batch.length) {
          resolve(all);
          return;
        } // Chromium returns at most 100 per call
        all.push(...batch);
        step();
      }, reject);
    step();
  });
}

async function walkEntry(entry, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    const name = entry.fullPath ? entry.fullPath.replace(/^\//, '') : file.name;
    if (!isHidden(name)) out.push({ name, blob: file });
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry)) await walkEntry(child, out);
  }
}

async function filesFromDrop(dt) {
  // Everything must be taken from the DataTransfer before the first await.
  const items = dt.items ? [...dt.items].filter((i) => i.kind === 'file') : [];
  const taken = items.map((i) => ({
    entry: i.webkitGetAsEntry ? i.webkitGetAsEntry() : null,
    file: i.getAsFile(),
  }));
  if (!items.length && dt.files) return fromFileList(dt.files);
  const out = [];
  for (const t of taken) {
    if (t.entry && t.entry.isDirectory) await walkEntry(t.entry, out);
    else if (t.file && !isHidden(t.file.name)) out.push({ name: t.file.name, blob: t.file });
  }
  out.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return assignSlides(out);
}

function setupInput() {
  const zone = $('drop-zone');
  for (const id of ['file-input', 'folder-input']) {
    $(id).addEventListener('change', (ev) => {
      const items = fromFileList(ev.target.files);
      ev.target.value = '';
      addFiles(items).catch((e) => showError(e.message));
    });
  }
  // Drops anywhere on the page go to the batch; never let the browser navigate to the file.
  document.addEventListener('dragover', (ev) => {
    if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) {
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
      zone.classList.add('over');
    }
  });
  document.addEventListener('dragleave', (ev) => {
    if (!ev.relatedTarget) zone.classList.remove('over');
  });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    filesFromDrop(ev.dataTransfer)
      .then(addFiles)
      .catch((e) => showError(t('input.dropFailed', { error: e.message })));
  });
  document.addEventListener('paste', (ev) => {
    const files = ev.clipboardData ? [...ev.clipboardData.files] : [];
    if (!files.length) return;
    ev.preventDefault();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    addFiles(
      files.map((f, i) => ({
        name: `pasted-${stamp}${files.length > 1 ? `-${i + 1}` : ''}.${f.type.split('/')[1] || 'png'}`,
        blob: f,
      })),
    ).catch((e) => showError(e.message));
  });
}

// The live count: while the camera shows its picture and no batch runs, the frame's red cells are
// found (not classified: Engine.findCells) and outlined over the picture with their count, about
// three times a second, so that the technician sees what a capture would count before taking it
// (focus, a part of the smear where the cells lie in one layer). The count is not announced: it
// changes with every frame; the capture's result is.
const LIVE_GAP_MS = 300;
let live = null; // {stopped, timer} of the running loop
function startLiveCount() {
  stopLiveCount();
  const me = { stopped: false, timer: 0 };
  live = me;
  const video = $('camera-video');
  const tick = async () => {
    if (me.stopped) return;
    if (state.classifier && !state.running && video.videoWidth && !document.hidden) {
      let r = null;
      let why = '';
      try {
        r = await state.classifier.findCells(await createImageBitmap(video), { name: 'frame' });
      } catch (e) {
        why = String((e && e.message) || e);
      }
      if (!me.stopped) showLiveCount(r, why);
    }
    if (!me.stopped) me.timer = setTimeout(tick, LIVE_GAP_MS);
  };
  tick();
}
function stopLiveCount() {
  if (!live) return;
  live.stopped = true;
  clearTimeout(live.timer);
  live = null;
  $('camera-live').textContent = '';
  const line = $('camera-count');
  line.textContent = '';
  delete line.dataset.counted;
}
function showLiveCount(r, why) {
  const svg = $('camera-live');
  const line = $('camera-count');
  svg.textContent = '';
  if (!r || !r.counted) {
    line.textContent = t('camera.liveNone');
    line.dataset.counted = '0';
    line.title = why;
    return;
  }
  svg.setAttribute('viewBox', `0 0 ${r.width} ${r.height}`);
  for (const c of r.cells)
    svg.append(svgEl('polygon', { points: outlinePoints(c), 'data-status': c.status }));
  line.textContent = t('camera.live', { n: r.counted });
  line.dataset.counted = String(r.counted);
  line.dataset.ms = String(Math.round(r.ms));
  line.title = '';
}

function setupCamera() {
  const panel = $('camera-panel');
  const msg = (t) => {
    $('camera-message').textContent = t;
  };
  const cam = new Camera({ video: $('camera-video'), select: $('camera-select'), onMessage: msg });
  const open = async (deviceId) => {
    panel.hidden = false;
    $('capture-btn').disabled = true;
    stopLiveCount();
    msg(t('camera.starting'));
    try {
      if (!(await cam.start(deviceId))) return; // a later start, or Close, came meanwhile
      $('capture-btn').disabled = false;
      $('capture-btn').focus();
      announce(t('camera.ready'));
      startLiveCount();
    } catch (e) {
      msg(e.friendly || e.message);
      announce(e.friendly || e.message);
    }
  };
  $('camera-btn').addEventListener('click', () => open());
  $('camera-select').addEventListener('change', (ev) => open(ev.target.value));
  $('camera-stop-btn').addEventListener('click', () => {
    stopLiveCount();
    cam.stop();
    panel.hidden = true;
    $('camera-btn').focus();
  });
  $('capture-btn').addEventListener('click', async () => {
    try {
      const blob = await cam.capture();
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      await addFiles([{ name: `camera-${stamp}.png`, blob }]); // read like a file (the mode chosen above)
    } catch (e) {
      msg(e.message);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Exports, clearing, model card

// ---------------------------------------------------------------------------------------------
// The printable slide report: one A4 page per slide (app.css, @media print), built into
// #print-report before printing: the slide's ID, dates, operator, the model and its blob digest,
// the counts and parasitemia with its interval (the model's and, when reviewed, the reviewed
// ones), thumbnails of the cells to review and of the parasitized ones, the intended-use notice.

const REPORT_THUMBS = 30; // per group and page (three rows of ten fit under the counts)

async function renderReport() {
  const root = $('print-report');
  root.textContent = '';
  const waits = [];
  const recs = state.records.filter((r) => r.result || r.error);
  const rowsBySlide = new Map();
  for (const r of slideRows(recs)) {
    if (!rowsBySlide.has(r.slide)) rowsBySlide.set(r.slide, []);
    rowsBySlide.get(r.slide).push(r);
  }
  const m = state.modelMeta || {};
  const printed = new Date();
  for (const { slide, records } of slidesOf(recs)) {
    const art = el('article', { class: 'slide-report', 'data-slide': slide });
    art.append(
      el(
        'header',
        { class: 'report-head' },
        el('p', {
          class: 'report-kind',
          text: t('report.kind'),
        }),
        el('h1', { text: t('card.slide', { slide: slide || t('report.noId') }) }),
      ),
    );
    const meta = el('dl', { class: 'report-meta' });
    const item = (k, v) => meta.append(el('dt', { text: k }), el('dd', { text: v }));
    if (state.session) item(t('report.session'), `${when(state.session.created)}`);
    item(t('report.printed'), when(printed.toISOString()));
    if (state.session && state.session.operator) item(t('report.operator'), state.session.operator);
    const name = m.name || m.model || 'malaria_resnet18';
    item(
      t('report.model'),
      t('report.modelLine', {
        model: m.version ? t('report.modelVersion', { name, version: m.version }) : name,
        arch: m.architecture ? ` (${m.architecture})` : '',
        site: state.siteVersion || '–',
      }),
    );
    item(t('report.digest'), state.modelDigest || '–');
    item(
      t('report.band'),
      state.band ? t('report.bandValue', { lo: f3(state.band[0]), hi: f3(state.band[1]) }) : '–',
    );
    art.append(meta);
    const table = el('table', { class: 'report-counts' });
    table.append(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...[
            t('slides.from'),
            t('slides.cells'),
            t('count.parasitized'),
            t('slides.toReview'),
            t('count.uninfected'),
            t('report.share'),
            t('slides.leftOut'),
            t('slides.notRead'),
          ].map((h) => el('th', { scope: 'col', text: h })),
        ),
      ),
    );
    const tb = el('tbody');
    for (const r of rowsBySlide.get(slide) || []) {
      const share = (v, lo, hi) => (r.cells ? parasitemiaText(v, lo, hi, r.denominator) : '–');
      const from =
        r.source === 'fields'
          ? t('report.fromFields', { n: r.images })
          : r.source
            ? t('report.fromCrops', { n: r.images })
            : '–';
      tb.append(
        el(
          'tr',
          { 'data-source': r.source },
          ...[
            from,
            num(r.cells),
            num(r.parasitized),
            num(r.to_review),
            num(r.uninfected),
            `${shareWord(r.source)} ${share(r.share_parasitized, r.ci95_lo, r.ci95_hi)}`,
            r.source === 'fields'
              ? num(r.excluded_border + r.excluded_white + r.excluded_debris + r.excluded_clump)
              : '–',
            num(r.images_not_read),
          ].map((x) => el('td', { text: String(x) })),
        ),
      );
      if (r.reviewed_cells) {
        tb.append(
          el(
            'tr',
            { class: 'reviewed', 'data-source': `${r.source} reviewed` },
            ...[
              t('report.afterReview', { n: r.reviewed_cells }),
              num(r.cells),
              num(r.reviewed_parasitized),
              num(r.reviewed_to_review),
              num(r.reviewed_uninfected),
              `${shareWord(r.source)} ${share(r.reviewed_share_parasitized, r.reviewed_ci95_lo, r.reviewed_ci95_hi)}`,
              '',
              '',
            ].map((x) => el('td', { text: String(x) })),
          ),
        );
      }
    }
    table.append(tb);
    art.append(table);
    const cells = cellsOf(records);
    for (const [call, title] of [
      ['uncertain', t('report.toReview')],
      ['parasitized', t('report.parasitized')],
    ]) {
      const group = cells.filter((c) => c.final === call);
      const sec = el('section', { class: 'report-thumbs', 'data-call': call });
      sec.append(
        el('h2', {
          text: t(group.length > REPORT_THUMBS ? 'report.firstShown' : 'report.group', {
            title,
            n: group.length,
            max: REPORT_THUMBS,
          }),
        }),
      );
      const grid = el('div', { class: 'thumb-row' });
      for (const c of group.slice(0, REPORT_THUMBS)) {
        const entry = state.cards.get(c.rec.id) || {};
        const label = t(c.reviewed ? 'report.thumbReviewed' : 'report.thumb', {
          what:
            c.index === null
              ? c.rec.name
              : t('report.thumbCell', { name: c.rec.name, index: String(c.index) }),
          p: f3(c.cell.pParasitized),
        });
        const fig = el('figure', { class: 'report-thumb' });
        if (c.index === null && entry.card && blobUrl(c.rec, entry)) {
          const img = el('img', { src: entry.url, alt: label });
          waits.push(img.decode().catch(() => {}));
          fig.append(img);
        } else if (c.index !== null && entry.view) {
          const cv = el('canvas', { role: 'img', 'aria-label': label });
          waits.push(
            drawCellCrop(cv, entry.view.source, entry.view.r, c.cell, entry.view.ready).catch(
              () => {},
            ),
          );
          fig.append(cv);
        }
        fig.append(
          el('figcaption', { text: `${num(c.cell.pParasitized, 2)}${c.reviewed ? ' ✓' : ''}` }),
        );
        grid.append(fig);
      }
      if (!group.length) grid.append(el('p', { class: 'none', text: t('word.none') }));
      sec.append(grid);
      art.append(sec);
    }
    art.append(
      el('p', {
        class: 'report-legend',
        text: t('report.legend'),
      }),
    );
    art.append(el('footer', { class: 'report-notice', text: intendedUse() }));
    root.append(art);
  }
  await Promise.all(waits);
  state.reportStale = false;
  document.documentElement.dataset.report = String(root.children.length);
  return root.children.length;
}

function download(text, type, filename) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function exportMeta() {
  return {
    model: state.modelName,
    digest: state.modelDigest,
    band: state.band,
    exported: new Date().toISOString(),
    operator: state.session && state.session.operator,
    session: state.session && sessionLabel(state.session),
  };
}
function exportRecords() {
  return state.records.filter((r) => r.result || r.error);
}

function setupResultsControls() {
  $('print-btn').addEventListener('click', async () => {
    const n = await renderReport();
    announce(t('report.ready', { n }));
    window.print();
  });
  // Ctrl+P without the button: the report as it can be built at once (field cell crops are drawn
  // while the dialog opens; the button waits for every thumbnail)
  window.addEventListener('beforeprint', () => {
    if (state.reportStale) renderReport();
  });
  // review keys on a focused cut-out card (or the review buttons of a field's chosen cell)
  $('grid').addEventListener('keydown', (ev) => {
    const k = REVIEW_KEYS[ev.key.toLowerCase()];
    if (k === undefined || ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.closest('svg'))
      return;
    const card = ev.target.closest('.card');
    const entry = card && state.cards.get(Number(card.dataset.id));
    if (!entry || !entry.rec || !entry.rec.result) return;
    if (isField(entry.rec)) {
      const detail = ev.target.closest('.cell-detail');
      if (!detail || detail.dataset.index === undefined) return;
      const c = entry.rec.result.cells.find((x) => x.index === Number(detail.dataset.index));
      ev.preventDefault();
      setReview(entry.rec, c.index, k === 'confirm' ? confirmCall(c.band) : k);
      return;
    }
    ev.preventDefault();
    setReview(entry.rec, null, k === 'confirm' ? confirmCall(entry.rec.result.band) : k);
  });
  $('filter').addEventListener('change', applyView);
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    // cards per row change: blocks are re-cut
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(applyView, 150);
  });
  $('sort').addEventListener('change', applyView);
  $('all-heat').addEventListener('change', (ev) => {
    state.allHeat = ev.target.checked;
    for (const { card } of state.cards.values()) if (card) setHeat(card, state.allHeat);
  });
  const stamp = () => new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  $('export-csv').addEventListener('click', () =>
    download(toCSV(exportRecords(), exportMeta()), 'text/csv', `malaria-screen-${stamp()}.csv`),
  );
  $('export-slides-csv').addEventListener('click', () =>
    download(
      toSlidesCSV(exportRecords(), exportMeta()),
      'text/csv',
      `malaria-screen-slides-${stamp()}.csv`,
    ),
  );
  $('export-json').addEventListener('click', () =>
    download(
      toJSON(exportRecords(), exportMeta()),
      'application/json',
      `malaria-screen-${stamp()}.json`,
    ),
  );
  $('export-fhir').addEventListener('click', () =>
    download(
      toFHIR(exportRecords(), exportMeta()),
      'application/fhir+json',
      `malaria-screen-${stamp()}.fhir.json`,
    ),
  );
  $('clear-btn').addEventListener('click', async () => {
    if (state.running) return;
    if (!window.confirm(t('results.clearConfirm', { n: state.records.length }))) return;
    // The page is cleared at once and the store after: the deleting transaction is made here,
    // so images given meanwhile are stored after it (IndexedDB runs overlapping readwrite
    // transactions in the order they were made) and are not deleted with the rest.
    // without storage (none, or closed by a newer page) the page's records are dropped all the same
    const sess = state.session;
    const deleted = state.store && sess ? state.store.clearSession(sess.id) : null;
    for (const id of [...state.cards.keys()]) dropCard(id);
    staleCards.clear();
    state.records = [];
    state.awaiting.clear();
    $('resume-banner').hidden = true;
    applyView();
    try {
      await deleted;
      // a tab that shows this session drops its records too instead of writing them back
      if (deleted) tellOtherTabs({ cleared: sess.id });
      announce(t('results.cleared'));
    } catch (e) {
      // still stored: shown again (during a batch started meanwhile, at the next reload)
      showError(t('results.clearFailed', { error: (e && e.message) || e }));
      if (state.session === sess && !state.running) await openSession(sess).catch(() => {});
    }
  });
  $('resume-btn').addEventListener('click', () => {
    state.awaiting.clear();
    $('resume-banner').hidden = true;
    runBatch();
  });
  $('discard-btn').addEventListener('click', async () => {
    // the images of the interrupted batch only (not those added or read again since)
    const left = [...state.awaiting].filter((r) => !r.result && !r.error);
    state.awaiting.clear();
    $('resume-banner').hidden = true;
    await dropRecords(left);
    applyView();
    announce(t('resume.discarded', { n: left.length }));
  });
  $('cancel-btn').addEventListener('click', () => {
    state.cancel = true;
    $('progress-label').textContent = t('batch.cancelling');
  });
}

function renderValue(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (Array.isArray(v)) return v.map(renderValue).join(', ');
  if (typeof v === 'object')
    return Object.entries(v)
      .map(([k, x]) => `${k}: ${renderValue(x)}`)
      .join('; ');
  return String(v);
}

/** How the model card's figures relate to the slides the model learned from. */
function splitNote(prov) {
  if (!prov.split) return '';
  const split = prov.split.replace(/ \(.*\)$/, '');
  return t(prov.all_slides ? 'mc.allSlides' : 'mc.split', { split });
}

/** The model card in plain words from the blob's metadata (what it was trained on, how it was
 *  measured, its limits); the engine and digest; the raw metadata folded in a <details>. */
function modelCardPlain(meta) {
  const out = [];
  const prov = meta.provenance || {};
  const m = (meta.metrics && meta.metrics.test) || {};
  const band = meta.calibration && meta.calibration.band;
  const ok = (x) => Number.isFinite(x);
  out.push([t('mc.does'), t('mc.doesText')]);
  if (prov.data) {
    // the data set's description is the blob's own words (English)
    out.push([t('mc.trained'), `${prov.data}${splitNote(prov)}.`]);
  }
  if (ok(m.accuracy) && ok(m.n)) {
    out.push([
      t('mc.accuracy'),
      t('mc.accuracyText', { n: m.n, acc: pct(m.accuracy) }) +
        (ok(m.sensitivity) ? t('mc.sensitivity', { x: pct(m.sensitivity) }) : '') +
        (ok(m.specificity) ? t('mc.specificity', { x: pct(m.specificity) }) : '') +
        t('batch.end') +
        (ok(m.uncertain_share) && Array.isArray(band)
          ? t('mc.uncertain', { x: pct(m.uncertain_share), lo: f3(band[0]), hi: f3(band[1]) }) +
            (ok(m.error_outside_band)
              ? t('mc.errorOutside', { x: pct(m.error_outside_band) })
              : '') +
            t('batch.end')
          : ''),
    ]);
  }
  if (meta.input && Number.isFinite(meta.input.size)) {
    const S = meta.input.size;
    out.push([
      t('mc.input'),
      t('mc.inputText', { s: S }) +
        (S > 64 ? t('mc.inputSlower', { k: num((S / 64) ** 2, S % 64 ? 1 : 0) }) : '') +
        t('batch.end'),
    ]);
  }
  if (Array.isArray(meta.labels) && meta.labels.length > 2) {
    const pos =
      meta.head && Number.isInteger(meta.head.positive) ? meta.labels[meta.head.positive] : null;
    out.push([
      t('mc.classes'),
      `${meta.labels.join(', ')}${pos ? t('mc.positive', { pos }) : ''}${t('batch.end')}`,
    ]);
  }
  out.push([t('mc.limits'), t('mc.limitsText')]);
  return out;
}

function renderModelCard(info, assets) {
  const body = $('model-card-body');
  body.textContent = '';
  const meta = info.metadata || {};
  const plain = el('dl', { class: 'plain' });
  for (const [k, v] of modelCardPlain(meta))
    plain.append(el('dt', { text: k }), el('dd', { text: v }));
  body.append(plain);
  const dl = el('dl');
  const row = (k, v) => dl.append(el('dt', { text: k }), el('dd', { text: renderValue(v) }));
  row(
    t('mc.engine'),
    t('mc.engineValue', {
      variant: info.variant === 'simd' ? 'WebAssembly SIMD128' : t('mc.noSimd'),
      n: info.workers,
    }),
  );
  if (info.modelSource)
    row(t('mc.readFrom'), info.modelSource === 'local copy' ? t('mc.localCopy') : info.modelSource);
  if (assets) row(t('mc.sha'), assets.model.sha256);
  body.append(el('h3', { text: t('mc.thisCopy') }), dl);
  // the raw metadata, folded: every key as the blob has it (the tensor table left out), then the JSON
  const raw = el('details', { class: 'raw-meta' }, el('summary', { text: t('mc.raw') }));
  const top = el('dl');
  const nested = [];
  const ORDER = [
    'intended_use',
    'architecture',
    'labels',
    'metrics',
    'calibration',
    'input',
    'provenance',
  ];
  const keys = [
    ...ORDER.filter((k) => k in meta),
    ...Object.keys(meta)
      .filter((k) => !ORDER.includes(k))
      .sort(),
  ];
  for (const k of keys) {
    const v = meta[k];
    if (
      k === 'tensors' ||
      (Array.isArray(v) && (v.length > 8 || v.some((x) => x && typeof x === 'object')))
    )
      continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) nested.push([k, v]);
    else top.append(el('dt', { text: k }), el('dd', { text: renderValue(v) }));
  }
  raw.append(top);
  const section = (title, obj, depth) => {
    raw.append(el(depth === 0 ? 'h3' : 'h4', { text: title }));
    const d = el('dl');
    const deeper = [];
    for (const [k, v] of Object.entries(obj)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && depth < 1) deeper.push([k, v]);
      else d.append(el('dt', { text: k }), el('dd', { text: renderValue(v) }));
    }
    if (d.children.length) raw.append(d);
    for (const [k, v] of deeper) section(`${title} · ${k}`, v, depth + 1);
  };
  for (const [k, v] of nested) section(k, v, 0);
  raw.append(el('pre', { text: JSON.stringify(meta, null, 2) }));
  body.append(raw);
}

function setupModelCard() {
  const dlg = $('model-card');
  $('model-card-btn').addEventListener('click', () => dlg.showModal());
  $('model-card-close').addEventListener('click', () => dlg.close());
}

// ---------------------------------------------------------------------------------------------
// Service worker: offline and updates

// The reload waits for the end of a batch (runBatch calls applyUpdate again), and says so.
function reloadAfterBatch() {
  state.reloadAfterBatch = true;
  $('update-btn').textContent = t('update.willReload');
  $('update-btn').disabled = true;
}

function applyUpdate() {
  const waiting = state.updateWaiting;
  if (!waiting) return;
  if (state.running) {
    reloadAfterBatch();
    return;
  }
  state.reloading = true;
  if (waiting.state === 'activated' || waiting.state === 'redundant') {
    reloadForUpdate(); // it took over while a batch ran
    return;
  }
  // The page reloads as soon as the new version controls it or is active. Should neither happen
  // within UPDATE_RELOAD_MS (the old version still busy with a request), it reloads all the same:
  // a version told to skip waiting takes over once the page it waits on has gone.
  waiting.addEventListener('statechange', () => {
    if (waiting.state === 'activated' || waiting.state === 'redundant') reloadForUpdate();
  });
  setTimeout(reloadForUpdate, UPDATE_RELOAD_MS);
  waiting.postMessage({ type: 'SKIP_WAITING' });
}

const UPDATE_RELOAD_MS = 8000;
function reloadForUpdate() {
  if (state.reloadStarted) return;
  if (state.running) {
    reloadAfterBatch(); // a batch began after the click
    return;
  }
  state.reloadStarted = true;
  location.reload();
}

async function setupServiceWorker() {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  let reg;
  try {
    reg = await navigator.serviceWorker.register('sw.js', { scope: './' });
  } catch (e) {
    console.warn('service worker registration failed', e);
    return;
  }
  if (!reg) return; // registration blocked (an automation setting): nothing to update
  const offer = (worker) => {
    if (!navigator.serviceWorker.controller) return; // first install: nothing to update
    state.updateWaiting = worker;
    $('update-banner').hidden = false;
  };
  if (reg.waiting) offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    if (!w) return;
    w.addEventListener('statechange', () => {
      if (w.state === 'installed') offer(w);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (state.reloading) reloadForUpdate();
  });
  $('update-btn').addEventListener('click', applyUpdate);
  document.documentElement.dataset.sw = 'registered';
}

// ---------------------------------------------------------------------------------------------
// Start

// ---------------------------------------------------------------------------------------------
// Sessions and slides

const when = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? ''
    : d.toLocaleString(dateLocale(), { dateStyle: 'medium', timeStyle: 'short' });
};
function sessionLabel(sess) {
  return sess.legacy
    ? t('session.legacy', { date: when(sess.created) })
    : t('session.of', { date: when(sess.created) });
}

function showSessionInfo() {
  const sess = state.session;
  $('session-name').textContent = sess ? sessionLabel(sess) : t('session.none');
  $('operator-input').value = (sess && sess.operator) || '';
}

/** The session was written to: its time moves up (the list shows the latest first). */
function touchSession() {
  if (!state.session) return;
  state.session.updated = new Date().toISOString();
  state.store
    .putSession(state.session)
    .catch((e) => showError(saveError(e, t('save.whatSession'))));
}

/** Show one session: its records, cards, summaries; a batch it left unfinished can be resumed. */
async function openSession(sess, how = 'opened') {
  const records = await state.store.ofSession(sess.id); // read first: a failed read changes nothing
  // the images of files the input policy refused that an earlier version kept: deleted now
  const stale = records.filter((r) => r.blob && isInputRefusal(r.error));
  for (const r of stale) delete r.blob;
  if (stale.length)
    state.store
      .putMany(
        stale,
        stale.map((r) => r.id),
      )
      .catch(() => {}); // tried again at the next opening
  for (const id of [...state.cards.keys()]) dropCard(id);
  staleCards.clear();
  state.session = sess;
  state.records = records;
  showSessionInfo();
  // the cards are built in view passes (PASS_BUDGET_MS a frame), not here at once: a session of
  // 300 cells took 100-140 ms in one task as the page opened, one of 10,000 would freeze it
  for (const r of state.records) staleCards.set(r.id, r);
  applyView(true);
  state.awaiting = new Set(pendingRecords());
  const left = state.awaiting.size;
  $('resume-banner').hidden = !left;
  if (left) {
    $('resume-text').textContent = t('resume.text', { n: left });
  }
  document.documentElement.dataset.session = String(sess.id);
  const n = state.records.length - left;
  if (how === 'reopened' && !state.records.length) return;
  announce(
    how === 'new'
      ? t('session.started', { session: sessionLabel(sess) })
      : t('session.reopened', {
          session: sessionLabel(sess),
          n,
          waiting: left ? t('session.waiting', { n: left }) : '',
        }),
  );
}

async function newSession() {
  if (state.running) return;
  if (!state.store) {
    showError(t('sessions.unavailable'));
    return;
  }
  let sess;
  try {
    sess = await state.store.newSession({ operator: $('operator-input').value.trim() });
  } catch (e) {
    showError(saveError(e, t('save.whatNewSession')));
    return;
  }
  $('slide-input').value = '';
  state.slide = '';
  await openSession(sess, 'new');
  requestPersistence();
}

async function renderSessionList() {
  const list = $('sessions-list');
  let sessions;
  try {
    sessions = state.store ? await state.store.sessions() : null;
  } catch (e) {
    list.replaceChildren(
      el('li', {
        class: 'session-item',
        text: t('sessions.readFailed', { error: e.message || e }),
      }),
    );
    return;
  }
  $('delete-all-sessions').disabled = !sessions || state.running;
  if (!sessions) {
    list.replaceChildren(el('li', { class: 'session-item', text: t('sessions.unavailable') }));
    return;
  }
  list.textContent = '';
  // Open and Delete are checked again when clicked: a batch may start while the list is open
  const shown = (sess) => !!state.session && sess.id === state.session.id;
  for (const sess of sessions) {
    const current = shown(sess);
    const slides = sess.slides.filter(Boolean);
    const li = el('li', { class: 'session-item', 'data-id': String(sess.id) });
    li.append(
      el(
        'div',
        { class: 'session-text' },
        el('strong', {
          text: current ? t('sessions.shown', { session: sessionLabel(sess) }) : sessionLabel(sess),
        }),
        el('span', {
          text:
            t('sessions.images', { n: sess.images }) +
            (slides.length
              ? t('sessions.slides', { n: slides.length, list: slides.join(', ') })
              : '') +
            (sess.operator ? t('sessions.operator', { name: sess.operator }) : '') +
            t('sessions.lastChange', { date: when(sess.updated) }),
        }),
      ),
    );
    const open = el('button', {
      type: 'button',
      class: 'btn small open-session',
      text: t('sessions.open'),
    });
    open.setAttribute('aria-label', t('sessions.openLabel', { session: sessionLabel(sess) }));
    open.disabled = current || state.running;
    open.addEventListener('click', async () => {
      if (shown(sess) || state.running) {
        renderSessionList();
        return;
      }
      $('sessions-dialog').close();
      touchSessionOpened(sess);
      try {
        await openSession(sess, 'reopened');
      } catch (e) {
        showError(t('sessions.readFailed', { error: e.message || e }));
      }
    });
    const del = el('button', {
      type: 'button',
      class: 'btn small danger delete-session',
      text: t('sessions.delete'),
    });
    del.setAttribute('aria-label', t('sessions.deleteLabel', { session: sessionLabel(sess) }));
    del.disabled = state.running && current;
    del.addEventListener('click', async () => {
      if (state.running && shown(sess)) {
        renderSessionList();
        return;
      }
      if (
        !window.confirm(
          t('sessions.deleteConfirm', { session: sessionLabel(sess), n: sess.images }),
        )
      )
        return;
      try {
        await state.store.deleteSession(sess.id);
        tellOtherTabs({ deleted: sess.id });
        if (shown(sess)) {
          const next = await state.store.latestSession();
          await openSession(
            next || (await state.store.newSession({ operator: '' })),
            next ? 'reopened' : 'new',
          );
        }
      } catch (e) {
        showError(t('results.clearFailed', { error: (e && e.message) || e }));
        return;
      }
      announce(t('sessions.deleted', { session: sessionLabel(sess) }));
      renderSessionList();
    });
    li.append(el('div', { class: 'session-actions' }, open, del));
    list.append(li);
  }
}

/** Every session, record and image deleted (once confirmed); a new, empty session is opened. */
async function deleteAllSessions() {
  // checked again when clicked: a batch may have started while the list was open
  if (state.running || !state.store) {
    renderSessionList();
    return;
  }
  if (!window.confirm(t('sessions.deleteAllConfirm'))) return;
  let sess;
  try {
    await state.store.deleteAll();
    tellOtherTabs({ all: true });
    $('slide-input').value = '';
    state.slide = '';
    sess = await state.store.newSession({ operator: '' });
    await openSession(sess, 'new');
  } catch (e) {
    showError(t('results.clearFailed', { error: (e && e.message) || e }));
    return;
  }
  announce(t('sessions.deletedAll', { session: sessionLabel(sess) }));
  renderSessionList();
}

// Deletions are told to the page's other tabs (same origin): one that shows a session deleted
// elsewhere would bring it back with its next write (a result, a review, its time), so it stops
// writing to it and opens another; one that shows a session cleared elsewhere (Clear results:
// its records deleted, the session kept) would write its records back or show results no longer
// kept, so it drops them and shows the session again, empty. Messages: {deleted: session id},
// {all: true} or {cleared: session id}.
const tabs =
  typeof BroadcastChannel === 'function' ? new BroadcastChannel('malaria-sessions') : null;
function tellOtherTabs(msg) {
  if (tabs) tabs.postMessage(msg);
}

async function changedElsewhere(msg) {
  const all = !!msg && msg.all === true;
  const gone = state.session;
  const deleted = !!gone && (all || (!!msg && msg.deleted === gone.id));
  const cleared = !deleted && !!gone && !!msg && msg.cleared === gone.id;
  if ((deleted || cleared) && state.store) {
    // nothing of it is written again: its records are dropped (a running batch stops, its
    // results are not stored), and what this tab wrote before it heard is deleted again
    for (const r of state.records) r.dropped = true;
    if (state.running) state.cancel = true;
    try {
      if (cleared) {
        // the session stays: shown again, empty
        await state.store.clearSession(gone.id);
        if (state.session === gone) await openSession(gone, 'reopened');
        showError(t('sessions.clearedElsewhere', { session: sessionLabel(gone) }));
      } else {
        await state.store.deleteSession(gone.id);
        const next = await state.store.latestSession();
        const sess = next || (await state.store.newSession({ operator: '' }));
        await openSession(sess, next ? 'reopened' : 'new');
        showError(
          t(all ? 'sessions.allGoneElsewhere' : 'sessions.goneElsewhere', {
            session: sessionLabel(gone),
            next: sessionLabel(sess),
          }),
        );
      }
    } catch (e) {
      showError(t('sessions.readFailed', { error: (e && e.message) || e }));
    }
  }
  if ($('sessions-dialog').open) renderSessionList();
}

/** A reopened session becomes the latest: a reload shows it again. */
function touchSessionOpened(sess) {
  sess.updated = new Date().toISOString();
  const { images, slides, ...rec } = sess;
  state.store.putSession(rec).catch(() => {});
  Object.assign(sess, rec);
  delete sess.images;
  delete sess.slides;
}

function setupSessions() {
  $('new-session-btn').addEventListener('click', () => newSession());
  $('sessions-btn').addEventListener('click', async () => {
    await renderSessionList();
    $('sessions-dialog').showModal();
  });
  $('sessions-close').addEventListener('click', () => $('sessions-dialog').close());
  $('delete-all-sessions').addEventListener('click', () => deleteAllSessions());
  if (tabs) tabs.onmessage = (ev) => changedElsewhere(ev.data);
  $('operator-input').addEventListener('change', () => {
    if (!state.session) return;
    state.session.operator = $('operator-input').value.trim();
    touchSession();
  });
  const setSlide = () => {
    state.slide = $('slide-input').value.trim();
    $('slide-hint').textContent = state.slide
      ? t('slide.hintSet', { slide: state.slide })
      : t('slide.hintNone');
  };
  $('slide-input').addEventListener('input', setSlide);
  $('slide-input').addEventListener('keydown', (ev) => {
    // a barcode scanner ends with Enter
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    setSlide();
    announce(state.slide ? t('slide.set', { slide: state.slide }) : t('slide.none'));
  });
}

/** The per-slide table: the slides CSV's rows as the page shows them. */
function renderSlides() {
  const rows = slideRows(state.records.filter((r) => r.result || r.error));
  const tbody = $('slides-table').tBodies[0];
  tbody.textContent = '';
  $('slides-box').hidden = rows.length === 0;
  for (const r of rows) {
    const tr = el('tr', { 'data-slide': r.slide, 'data-source': r.source });
    const td = (text, k) => {
      const c = el('td', { text: String(text) });
      if (k) c.dataset.k = k;
      tr.append(c);
    };
    tr.append(el('th', { scope: 'row', text: r.slide || t('slides.noId') }));
    td(
      r.source === 'fields'
        ? t('slides.fromFields', { n: r.images })
        : r.source
          ? t('slides.fromCrops', { n: r.images })
          : '–',
      'from',
    );
    td(num(r.cells), 'cells');
    td(num(r.parasitized), 'parasitized');
    td(num(r.to_review), 'to_review');
    td(
      r.cells
        ? `${shareWord(r.source)} ${parasitemiaText(r.share_parasitized, r.ci95_lo, r.ci95_hi, r.denominator)}`
        : '–',
      'share',
    );
    td(
      r.source === 'fields'
        ? num(r.excluded_border + r.excluded_white + r.excluded_debris + r.excluded_clump)
        : '–',
      'excluded',
    );
    td(
      r.reviewed_cells
        ? t('slides.reviewed', {
            n: r.reviewed_cells,
            parasitized: r.reviewed_parasitized,
            uncertain: r.reviewed_to_review,
            share: parasitemiaText(
              r.reviewed_share_parasitized,
              r.reviewed_ci95_lo,
              r.reviewed_ci95_hi,
              r.denominator,
            ),
          })
        : '–',
      'reviewed',
    );
    td(num(r.images_not_read), 'not_read');
    tbody.append(tr);
  }
}

async function loadStore() {
  try {
    state.store = await ResultStore.open();
    const sess = (await state.store.latestSession()) || (await state.store.newSession());
    await openSession(sess, 'reopened');
  } catch (e) {
    showError(t('store.unavailable', { error: e.message }));
    state.records = [];
  }
}

/** The failure banner: the model's reason, Retry, and for waiting images a way to give up. */
function showModelFailure() {
  const waiting = pendingRecords().length;
  $('model-banner-text').textContent =
    `${t('model.failed', { reason: state.modelError })}${/[.?!]$/.test(state.modelError) ? '' : '.'} ` +
    (waiting ? t('model.waiting', { n: waiting }) : t('model.waitNone'));
  $('model-giveup-btn').hidden = !waiting;
  $('model-banner').hidden = false;
}

/** Waiting images marked failed with the model's reason (the user gave up on Retry). */
async function failWaiting() {
  const left = pendingRecords();
  for (const rec of left) {
    // stored and exported in English (the CSV's error column), shown translated (errorLines)
    rec.error = `not classified: the model could not be loaded (${state.modelError || 'unknown reason'})`;
    rec.status = 'error';
    if (!rec.unsaved) {
      try {
        await state.store.put(rec);
      } catch (e) {
        showError(saveError(e, t('save.whatResult', { name: rec.name })));
      }
    }
    updateCard(rec);
  }
  state.awaiting.clear();
  $('resume-banner').hidden = true;
  showModelFailure();
  announce(t('model.markedFailed', { n: left.length }));
}

/** A classifier Worker stopped (crash, trap, no answer): it is restarted and its images retried. */
function onWorkerEvent(ev) {
  const d = ev.detail || {};
  let text;
  const lost = (x, done = false) =>
    (x.retried ? t(done ? 'worker.retriedWas' : 'worker.retriedWill', { n: x.retried }) : '') +
    (x.rejected ? t('worker.rejected', { n: x.rejected }) : '');
  if (d.state === 'lost') {
    state.workerStops++;
    state.lastStop = d;
    text = t('worker.lost', { reason: d.reason, more: lost(d) });
  } else if (d.state === 'restarted') {
    const x = state.lastStop || {};
    text =
      t('worker.restarted', { reason: x.reason || t('worker.unknown'), more: lost(x, true) }) +
      (state.workerStops > 1 ? t('worker.stops', { n: state.workerStops }) : '');
  } else if (d.state === 'failed') {
    text = d.workers
      ? t('worker.cannotRestart', { reason: d.reason, n: d.workers })
      : t('worker.allFailed', { reason: d.reason });
  } else return;
  $('worker-notice-text').textContent = text;
  $('worker-notice').hidden = false;
  document.documentElement.dataset.workerStops = String(state.workerStops);
  announce(text);
}

async function loadClassifier() {
  if (state.loading) return state.loading;
  const chip = $('engine-state');
  chip.dataset.state = 'loading';
  showEngineState();
  document.documentElement.dataset.engine = 'loading';
  $('model-retry-btn').disabled = true;
  state.loading = (async () => {
    try {
      // the site's manifest (its version, the model's digest) and the classifier at once: the
      // Workers start while the store opens (main), the first result comes sooner
      const manifest = fetch('asset-manifest.json').then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.json();
      });
      manifest.catch(() => {});
      const created = MalariaClassifier.create({
        localCopy: true,
        onProgress: showModelProgress,
      });
      let assets;
      try {
        assets = await manifest;
      } catch (e) {
        created.then((c) => c.dispose()).catch(() => {});
        throw new Error(t('model.manifest', { error: e.message }));
      }
      state.classifier = await created;
      await state.storeReady; // the restored cards and images waiting are the store's
      modelLoaded(state.classifier.info.modelSource);
      state.classifier.addEventListener('worker', onWorkerEvent);
      const info = state.classifier.info;
      const m = info.metadata || {};
      state.modelName =
        [m.name || m.model || 'malaria_resnet18', m.version].filter(Boolean).join(' ') +
        ` (sha256 ${assets.model.sha256.slice(0, 12)})`;
      state.modelDigest = assets.model.sha256;
      const band = m.calibration && m.calibration.band;
      state.band =
        Array.isArray(band) && band.length === 2 && band.every(Number.isFinite) ? band : null;
      state.metrics = m.metrics || null;
      for (const { rec, card } of [...state.cards.values()]) {
        // restored cards: the band on their bars (rebuilt in view passes, as the session's
        // cards are built: not all in this task)
        if (rec && rec.result && card && card.isConnected) staleCards.set(rec.id, rec);
      }
      applyView(true);
      state.variant = info.variant;
      chip.dataset.state = 'ready';
      showEngineState();
      $('version-info').textContent = t('footer.version', {
        version: assets.version,
        model: state.modelName,
      });
      state.siteVersion = assets.version;
      state.modelMeta = m;
      state.info = info;
      state.assets = assets;
      renderModelCard(info, assets);
      $('model-card-btn').disabled = false;
      const wasFailed = !!state.modelError;
      state.modelError = null;
      $('model-banner').hidden = true;
      document.documentElement.dataset.engine = 'ready';
      if (wasFailed) {
        for (const r of pendingRecords()) updateCard(r);
        announce(t('model.loaded'));
      }
      if (pendingRecords().length) runBatch(); // not those waiting for Resume or Discard
    } catch (e) {
      await state.storeReady;
      state.modelError = String((e && e.message) || e);
      modelFailed();
      chip.dataset.state = 'error';
      showEngineState();
      document.documentElement.dataset.engine = 'error';
      showModelFailure();
      for (const r of pendingRecords()) updateCard(r);
      announce(t('model.failed', { reason: state.modelError }));
    } finally {
      state.loading = null;
      $('model-retry-btn').disabled = false;
    }
  })();
  return state.loading;
}

function setupModelRecovery() {
  $('model-retry-btn').addEventListener('click', () => loadClassifier());
  $('model-giveup-btn').addEventListener('click', () => failWaiting());
  $('worker-notice-close').addEventListener('click', () => {
    $('worker-notice').hidden = true;
  });
  // back online after a failure: try again by itself
  window.addEventListener('online', () => {
    if (state.modelError && !state.classifier) loadClassifier();
  });
}

async function main() {
  setupLanguage();
  setupGrid($('grid'));
  setupTouch();
  setupOffline();
  setupInput();
  setupCamera();
  setupResultsControls();
  setupSessions();
  setupModelCard();
  setupModelRecovery();
  renderSummary();
  // the store opens while the classifier's Workers start (both take ~50-100 ms on a repeat visit)
  state.storeReady = loadStore();
  const loading = loadClassifier();
  await state.storeReady;
  // Register the service worker once the model is loaded: its precache then takes the big
  // content-hashed files from the HTTP cache instead of downloading them a second time.
  await loading;
  setupServiceWorker();
  requestPersistence(false); // show usage; ask for persistence after the first batch
}

main();
