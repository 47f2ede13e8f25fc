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
  bandText as bandRange,
  INTENDED_USE,
} from './stats.js';
import { drawCam, fitOverlay } from './cam-overlay.js';
import { Camera } from './camera.js';
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
  session: null, // the session shown: {id, created, updated, operator}
  slide: '', // the slide ID images are added to (typed or scanned)
  records: [], // the session's, in the order added
  cards: new Map(), // id -> {card, url}
  running: false,
  cancel: false,
  updateWaiting: null,
  reloadAfterBatch: false,
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
const CALL_TEXT = {
  parasitized: 'Parasitized',
  uninfected: 'Uninfected',
  uncertain: 'Uncertain: refer to a microscopist',
};
const SYMBOL = {
  parasitized: '✚',
  uninfected: '○',
  uncertain: '?',
  error: '!',
  refused: '!',
  pending: '…',
};
const f3 = (x) => x.toFixed(3);
/** The line under the bar: where p lies against the band. */
function bandText(band) {
  const b = state.band;
  if (!b)
    return (
      {
        uninfected: 'Confident: uninfected',
        parasitized: 'Confident: parasitized',
        uncertain: 'In the uncertain band: to review',
      }[band] || band
    );
  if (band === 'parasitized') return `Confident: p above ${f3(b[1])}, the uncertain band's top`;
  if (band === 'uninfected')
    return `Confident: p at or below ${f3(b[0])}, the uncertain band's bottom`;
  return `In the uncertain band (${f3(b[0])}–${f3(b[1])}): to review, no call`;
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
const MODE_TEXT = { cell: 'cut-out cell', field: 'whole field' };
const EXCLUDED_TEXT = {
  border: 'cut by the border',
  white: 'white blood cells',
  debris: 'debris or platelets',
  clump: 'clumps not split',
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
    return (
      `Storage on this device is full: ${what} could not be saved. Export the sessions you need, ` +
      'then delete earlier ones (Sessions…) to make room.'
    );
  }
  return `Could not save ${what}: ${(e && e.message) || e}`;
}
function showError(text) {
  const a = $('alert');
  a.hidden = !text;
  a.textContent = text || '';
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
  if (rec.error) return `${rec.name}: not readable`;
  if (!rec.result) return `${rec.name}: not classified yet`;
  const r = rec.result;
  return `${CALL_TEXT[modelCall(r.band)]}, probability of parasitized ${r.pParasitized.toFixed(3)}: ${rec.name}`;
}

/** How the image was read ("Read as whole field (auto)") and a button per other way to read it. */
function modeLine(rec, read) {
  const asked = rec.mode || 'auto';
  const line = el('div', { class: 'card-mode' });
  if (read)
    line.append(
      el('span', { text: `Read as ${MODE_TEXT[read]}${asked === 'auto' ? ' (auto)' : ''}` }),
    );
  else if (asked !== 'auto') line.append(el('span', { text: `Tried as ${MODE_TEXT[asked]}` }));
  for (const m of ['field', 'cell']) {
    if (m === read || m === asked) continue;
    const b = el('button', { type: 'button', class: 'btn small reread', text: `Read as ${m}` });
    b.dataset.mode = m;
    b.setAttribute('aria-label', `Read as ${m} again: ${rec.name}, as a ${MODE_TEXT[m]}`);
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
// A block that comes into view with 50 cards would make 50 at once: a pass makes them for
// BUILD_BUDGET_MS at most (until: performance.now() to stop at), the next pass goes on.
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
  if (rec.slide) body.append(el('p', { class: 'card-slide', text: `Slide ${rec.slide}` }));
  if (cls === 'error' || cls === 'refused') {
    body.append(
      el(
        'p',
        { class: 'card-label' },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: '!' }),
        cls === 'refused' ? 'Not analysed' : 'Not readable',
      ),
    );
    body.append(el('p', { class: 'card-error', text: rec.error }));
    if (cls === 'refused') body.append(modeLine(rec, null));
  } else if (cls === 'pending') {
    body.append(
      el(
        'p',
        { class: 'card-label' },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: '…' }),
        state.modelError ? 'Waiting for the model' : 'Waiting',
      ),
    );
    if (state.modelError)
      body.append(
        el('p', { class: 'card-error', text: 'The model could not be loaded: Retry it above.' }),
      );
  } else {
    const r = rec.result;
    body.append(
      el(
        'p',
        { class: 'card-label' },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: SYMBOL[cls] }),
        CALL_TEXT[cls],
      ),
    );
    body.append(
      el('p', { class: 'card-prob', text: `P(parasitized) = ${r.pParasitized.toFixed(3)}` }),
    );
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
        text: 'Heat map',
        'aria-pressed': 'false',
      });
      btn.setAttribute('aria-label', `Heat map for ${rec.name}`);
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
  const what = index === null ? rec.name : `cell ${index} of ${rec.name}`;
  const bar = el('div', { class: 'review', role: 'group', 'aria-label': `Your call on ${what}` });
  bar.dataset.reviewed = rv ? rv.call : '';
  const model = modelCall(band);
  const verdict = !rv
    ? 'Your call:'
    : model === 'uncertain'
      ? `Reviewed: ${CALL_TEXT[rv.call]}`
      : rv.call === model
        ? `Reviewed: ${CALL_TEXT[rv.call]} (confirmed)`
        : `Reviewed: ${CALL_TEXT[rv.call]} (overturned)`;
  bar.append(el('span', { class: 'review-label', text: verdict }));
  for (const call of ['parasitized', 'uninfected']) {
    const b = el('button', {
      type: 'button',
      class: 'btn small review-btn',
      text: call === 'parasitized' ? 'Parasitized' : 'Uninfected',
      'aria-pressed': String(!!rv && rv.call === call),
    });
    b.dataset.call = call;
    b.setAttribute(
      'aria-label',
      `${rv && rv.call === call ? 'Undo your call' : 'Call'} ${what}: ${call}`,
    );
    b.title = `${call === 'parasitized' ? 'P' : 'U'}; C confirms the model's call, Delete undoes`;
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
      showError(saveError(e, `the review of ${rec.name}`));
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
  announce(
    call
      ? `${index === null ? rec.name : `Cell ${index}`}: your call ${call}.`
      : `${index === null ? rec.name : `Cell ${index}`}: your call undone.`,
  );
}

/** "3 cells reviewed: 2 parasitized, 20 to review; parasitemia ..." for one field (or "none yet"). */
function fieldReviewText(rec) {
  const g = summarizeGroup([rec]).fields;
  if (!g.reviewedCells) return 'no cell reviewed yet';
  const v = g.reviewed;
  return (
    `${g.reviewedCells} cell${g.reviewedCells === 1 ? '' : 's'} reviewed: ${v.parasitized} parasitized, ${v.uncertain} to review; ` +
    `parasitemia ${parasitemiaText(v.share.value, v.share.lo, v.share.hi, v.n)}`
  );
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
  if (canvas.dataset.drawn) {
    canvas.hidden = false;
    return;
  }
  if (entry.heat) return; // being computed: shown when it is done (if still wanted)
  btn.textContent = 'Heat map: computing…';
  btn.setAttribute('aria-busy', 'true');
  const { rec } = entry;
  entry.heat = heatQueue = heatQueue
    .then(() => state.classifier.explain(rec.blob, { name: rec.name }))
    .then(
      (h) => {
        drawCam(canvas, h.map, h.size);
        canvas.dataset.drawn = '1';
        canvas.hidden = btn.getAttribute('aria-pressed') !== 'true';
        btn.textContent = 'Heat map';
      },
      (e) => {
        entry.heat = null; // may be asked again
        btn.textContent = 'Heat map';
        btn.setAttribute('aria-pressed', 'false');
        const msg =
          card.querySelector('.card-heat-error') ||
          el('p', { class: 'card-error card-heat-error' });
        msg.textContent = `Heat map not available: ${e.message || e}`;
        btn.parentElement.after(msg);
      },
    )
    .finally(() => btn.removeAttribute('aria-busy'));
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
  `Cell ${c.index}: ${CALL_TEXT[modelCall(c.band)]}, P(parasitized) ${c.pParasitized.toFixed(3)}`;

function excludedLine(ex) {
  const parts = Object.keys(EXCLUDED_TEXT)
    .filter((k) => ex && ex[k] > 0)
    .map((k) => `${ex[k]} ${EXCLUDED_TEXT[k]}`);
  const n = Object.values(ex || {}).reduce((a, b) => a + b, 0);
  return n ? `${n} (${parts.join(', ')})` : 'none';
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

function buildOverlay(r, name, rec = null) {
  const svg = svgEl('svg', {
    class: 'field-overlay',
    viewBox: `0 0 ${r.width} ${r.height}`,
    preserveAspectRatio: 'none',
    tabindex: '-1', // not a tab stop of its own (Chromium focuses an inline <svg>); its cells are
    role: 'group',
    'aria-label': `Red cells of ${name}: arrow keys move between cells`,
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
    let pts = '';
    for (let i = 0; i + 1 < c.outline.length; i += 2) pts += `${c.outline[i]},${c.outline[i + 1]} `;
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
    'aria-label': `Cell ${c.index}, cut out along its outline`,
  });
  const cls = modelCall(c.band);
  box.append(
    canvas,
    el(
      'div',
      { class: 'cell-info' },
      el('h4', { class: 'cell-title', text: `Cell ${c.index}` }),
      el(
        'p',
        { class: 'card-label', 'data-class': cls },
        el('span', { class: 'badge', 'aria-hidden': 'true', text: SYMBOL[cls] }),
        CALL_TEXT[cls],
      ),
      el('p', { class: 'card-prob', text: `P(parasitized) = ${c.pParasitized.toFixed(3)}` }),
      meterEl(c.pParasitized, c.band),
      el('p', { class: 'card-band', text: bandText(c.band) }),
      el('p', { class: 'cell-box', text: `Box ${c.w}×${c.h} px at ${c.x}, ${c.y}` }),
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

  const alt =
    `${rec.name}: whole field, ${r.counted} red cells counted, ${r.parasitized} parasitized, ` +
    `${r.uncertain} to review`;
  const source = fieldSource(rec, entry, alt);
  const { svg, order } = buildOverlay(r, rec.name, rec);
  const stage = el('div', { class: 'field-view' }, source, svg);
  stage.style.aspectRatio = `${r.width} / ${r.height}`;
  const legend = el(
    'p',
    { class: 'field-legend', 'aria-hidden': 'true' },
    el('span', { class: 'key parasitized' }),
    'parasitized',
    el('span', { class: 'key uncertain' }),
    'to review',
    el('span', { class: 'key uninfected' }),
    'uninfected',
    el('span', { class: 'key left-out' }),
    'left out',
  );

  const counts = el('dl', { class: 'field-counts' });
  const row = (k, v, key) => {
    const dd = el('dd', { text: v });
    if (key) dd.dataset.k = key;
    counts.append(el('dt', { text: k }), dd);
  };
  row('Red cells counted', String(r.counted), 'counted');
  row('Parasitized', String(r.parasitized), 'parasitized');
  row('To review (uncertain, in the count)', String(r.uncertain), 'uncertain');
  row(
    'Parasitemia',
    parasitemiaText(r.parasitemia, r.ci95[0], r.ci95[1], r.counted),
    'parasitemia',
  );
  row('Left out', excludedLine(r.excluded), 'excluded');
  row('After review', fieldReviewText(rec), 'reviewed');

  const detail = el(
    'div',
    { class: 'cell-detail' },
    el('p', {
      class: 'hint',
      text: r.counted
        ? 'Click or tap a cell to see it; from the keyboard, Enter on this card, then the arrow keys.'
        : 'No red cells were counted in this image.',
    }),
  );
  const side = el(
    'div',
    { class: 'field-side' },
    el(
      'p',
      { class: 'card-label' },
      el('span', { class: 'badge', 'aria-hidden': 'true', text: '▦' }),
      'Whole field',
    ),
    counts,
    modeLine(rec, 'field'),
    detail,
  );
  const head = el('h3', {
    class: 'card-name',
    text: rec.slide ? `${rec.name} · slide ${rec.slide}` : rec.name,
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

async function rereadAs(rec, mode) {
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
      showError(saveError(e, `the result of ${rec.name}`));
    }
  }
  updateCard(rec);
  announce(`Reading ${rec.name} again as a ${MODE_TEXT[mode]}…`);
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
// cores to the Workers. A pass builds cards for BUILD_BUDGET_MS at most (the next pass, a frame
// later, goes on), so a drop of thousands of files is never one long task.
const staleCards = new Map(); // id -> record whose card is to be (re)built
const BUILD_BUDGET_MS = 12;
function markCard(rec) {
  staleCards.set(rec.id, rec);
  scheduleView();
}
function buildStaleCards(budget) {
  const until = performance.now() + BUILD_BUDGET_MS;
  for (const [id, rec] of staleCards) {
    if (budget && performance.now() > until) return false;
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
  if (viewPending) return;
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
  const built = buildStaleCards(budget);
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
  const until = budget ? performance.now() + BUILD_BUDGET_MS : Infinity;
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
  return (
    `After your review (${g.reviewedCells} cell${g.reviewedCells === 1 ? '' : 's'} reviewed): ${v.parasitized} parasitized, ` +
    `${v.uncertain} to review, ${v.uninfected} uninfected; ${what} ${parasitemiaText(v.share.value, v.share.lo, v.share.hi, v.n)}. ` +
    `The model's: ${g.model.parasitized} parasitized, ${g.model.uncertain} to review.`
  );
}

/** One sentence on the band, with the blob's own test figures when it has them. */
function bandNote() {
  const [lo, hi] = state.band;
  const t = (state.metrics && state.metrics.test) || {};
  const err = Number.isFinite(t.error_outside_band)
    ? ` (outside it, ${pct(t.error_outside_band)} of the calls on held-out test cells were wrong)`
    : '';
  return (
    `A cell is "to review" when the model's probability of parasitized lies in its uncertain band, ` +
    `above ${f3(lo)} and up to ${f3(hi)}, where its calls are not reliable enough${err}: it stays in the count ` +
    'and is neither parasitized nor uninfected until a microscopist calls it.'
  );
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
    $('n-fields').textContent =
      `Red cells counted in ${f.images} field${f.images === 1 ? '' : 's'}`;
    $('n-field-cells').textContent = f.counted;
    $('n-field-parasitized').textContent = f.parasitized;
    $('n-field-uncertain').textContent = f.uncertain;
    $('field-share').textContent = f.counted ? `${(100 * f.pooled.p).toFixed(1)} %` : '–';
    $('field-share-detail').textContent =
      `Pooled parasitemia: ${parasitemiaText(f.pooled.p, f.pooled.lo, f.pooled.hi, f.counted)}` +
      `; left out: ${excludedLine(f.excluded)}`;
  }
  $('n-classified').textContent = s.classified;
  $('n-parasitized').textContent = s.parasitized;
  $('n-uninfected').textContent = s.uninfected;
  $('n-uncertain').textContent = s.uncertain;
  $('n-errors').textContent = s.errors;
  if (s.classified > 0) {
    $('share').textContent = pct(s.share.p);
    $('share-detail').textContent =
      `Parasitized: ${s.parasitized} of ${s.classified} classified cells (the ${s.uncertain} to review are in the ` +
      `${s.classified}); 95% Wilson interval ${pct(s.share.lo)} to ${pct(s.share.hi)}`;
  } else {
    $('share').textContent = '–';
    $('share-detail').textContent = 'Parasitized share (95% Wilson interval)';
  }
  const any = state.records.length > 0;
  const g = s.group;
  $('review-detail').hidden = !g.crops.reviewedCells;
  if (g.crops.reviewedCells) $('review-detail').textContent = reviewedLine(g.crops, 'share');
  $('field-review-detail').hidden = !g.fields.reviewedCells;
  if (g.fields.reviewedCells)
    $('field-review-detail').textContent = reviewedLine(g.fields, 'parasitemia');
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
  showError(
    `${why} The ${n} image${n === 1 ? '' : 's'} added ${n === 1 ? 'is' : 'are'} classified all the same, ` +
      'but kept on this page only: export the results before closing it.',
  );
  const batch = batchId();
  return items.map((it) => ({
    session,
    slide: it.slide || '',
    batch,
    name: it.name,
    blob: it.blob,
    mode: it.mode,
    status: 'pending',
    id: --unsavedIds,
    unsaved: true,
  }));
}

async function addFiles(items) {
  if (!items.length) return;
  const mode = $('mode-select').value;
  for (const it of items) {
    if (it.slide === undefined) it.slide = state.slide;
    it.mode = it.mode || mode;
  }
  let recs;
  if (!state.store || !state.session) {
    recs = keepUnsaved(
      items,
      state.session ? state.session.id : null,
      'Storage is not available on this device.',
    );
  } else {
    try {
      recs = await state.store.addPending(state.session.id, batchId(), items);
    } catch (e) {
      recs = keepUnsaved(
        items,
        state.session.id,
        saveError(e, `the ${items.length} image${items.length === 1 ? '' : 's'} added`),
      );
    }
  }
  if (!recs[0].unsaved) touchSession();
  for (const r of recs) {
    state.records.push(r);
    markCard(r);
  }
  $('resume-banner').hidden = true;
  runBatch();
}

function pendingRecords() {
  return state.records.filter((r) => !r.result && !r.error);
}

async function runBatch() {
  if (state.running) return;
  if (!state.classifier) {
    announce(
      state.modelError
        ? 'Images added; they wait for the model, which could not be loaded (Retry above).'
        : 'Images added; they will be classified once the model has loaded.',
    );
    if (state.modelError) showModelFailure();
    return;
  }
  const todo = pendingRecords();
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
  announce(`Classifying ${total} image${total === 1 ? '' : 's'}…`);
  const label = $('progress-label');
  label.textContent = `Classifying 0 of ${total}`;
  progress = { done: 0, total };
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
      saveResult(rec); // stored, then drawn (and the progress shown) in the next view pass
      done++;
      progress.done = done;
      if (done / total >= nextQuarter && done < total) {
        announce(`${done} of ${total} images classified.`);
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
    const left = pendingRecords();
    cancelledCount = left.length;
    await state.store.remove(left.map((r) => r.id));
    for (const r of left) dropCard(r.id);
    state.records = state.records.filter((r) => !left.includes(r));
  }
  state.running = false;
  document.documentElement.dataset.batch = 'idle';
  box.hidden = true;
  const s = summarize(state.records);
  const f = s.fields;
  announce(
    `${state.cancel ? 'Cancelled' : 'Done'}: ${done - errors} of ${total} image${total === 1 ? '' : 's'} ` +
      `classified${errors > refused ? `, ${errors - refused} not readable` : ''}` +
      `${refused ? `, ${refused} refused (not a blood-smear image or not one cell)` : ''}` +
      `${cancelledCount ? `, ${cancelledCount} not started` : ''}. ` +
      `In all: ${s.classified} cells, ${s.parasitized} parasitized, ${s.uncertain} to review, ${s.uninfected} uninfected` +
      `${
        f.images
          ? `; whole fields: ${f.counted} red cells counted, ${f.parasitized} parasitized, ` +
            `${f.uncertain} to review`
          : ''
      }.`,
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
  const text = `Classifying ${progress.done} of ${progress.total}`;
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
function saveResult(rec) {
  if (rec.unsaved || !state.store) {
    markCard(rec);
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
      const recs = saveQueue.splice(0);
      try {
        await state.store.putMany(recs);
      } catch (e) {
        showError(
          saveError(
            e,
            recs.length === 1
              ? `the result of ${recs[0].name}`
              : `the results of ${recs.length} images (${recs[0].name}, …)`,
          ),
        );
      }
      for (const r of recs) markCard(r);
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
      $('storage-info').textContent =
        `Stored on this device: ${(usage / 1e6).toFixed(1)} MB of ` +
        `${(quota / 1e9).toFixed(1)} GB${persisted ? ' (persistent)' : ''}.`;
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
  const list = [...n].map(([k, v]) => `${k} (${v} image${v === 1 ? '' : 's'})`).join(', ');
  $('slide-hint').textContent = split
    ? `The folder ${roots[0]} gave ${n.size} slide${n.size === 1 ? '' : 's'}, one per subfolder: ${list}.`
    : `Folder${roots.length === 1 ? '' : 's'} as slide${n.size === 1 ? '' : 's'}: ${list}.`;
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
      .catch((e) => showError(`Could not read the dropped files: ${e.message}`));
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

function setupCamera() {
  const panel = $('camera-panel');
  const msg = (t) => {
    $('camera-message').textContent = t;
  };
  const cam = new Camera({ video: $('camera-video'), select: $('camera-select'), onMessage: msg });
  const open = async (deviceId) => {
    panel.hidden = false;
    $('capture-btn').disabled = true;
    msg('Starting the camera…');
    try {
      await cam.start(deviceId);
      $('capture-btn').disabled = false;
      $('capture-btn').focus();
      announce('Camera ready. Capture a still of the field.');
    } catch (e) {
      msg(e.friendly || e.message);
      announce(e.friendly || e.message);
    }
  };
  $('camera-btn').addEventListener('click', () => open());
  $('camera-select').addEventListener('change', (ev) => open(ev.target.value));
  $('camera-stop-btn').addEventListener('click', () => {
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
          text: 'Malaria screening report (research and education use only)',
        }),
        el('h1', { text: `Slide ${slide || '(no ID given)'}` }),
      ),
    );
    const meta = el('dl', { class: 'report-meta' });
    const item = (k, v) => meta.append(el('dt', { text: k }), el('dd', { text: v }));
    if (state.session) item('Session', `${when(state.session.created)}`);
    item('Printed', when(printed.toISOString()));
    if (state.session && state.session.operator) item('Operator', state.session.operator);
    item(
      'Model',
      `${m.name || m.model || 'malaria_resnet18'}${m.version ? ` version ${m.version}` : ''}` +
        `${m.architecture ? ` (${m.architecture})` : ''}; site version ${state.siteVersion || '–'}`,
    );
    item('Model blob sha256', state.modelDigest || '–');
    item(
      'Uncertain band',
      state.band
        ? `${bandRange(state.band).replace('uncertain band ', '')}: cells to review, in the count`
        : '–',
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
            'From',
            'Cells counted',
            'Parasitized',
            'To review',
            'Uninfected',
            'Parasitemia or share (95% Wilson interval)',
            'Left out',
            'Not read',
          ].map((t) => el('th', { scope: 'col', text: t })),
        ),
      ),
    );
    const tb = el('tbody');
    for (const r of rowsBySlide.get(slide) || []) {
      const share = (v, lo, hi) => (r.cells ? parasitemiaText(v, lo, hi, r.denominator) : '–');
      const from =
        r.source === 'fields'
          ? `${r.images} whole field${r.images === 1 ? '' : 's'} (model)`
          : r.source
            ? `${r.images} cut-out cell${r.images === 1 ? '' : 's'} (model)`
            : '–';
      tb.append(
        el(
          'tr',
          { 'data-source': r.source },
          ...[
            from,
            r.cells,
            r.parasitized,
            r.to_review,
            r.uninfected,
            `${r.source === 'fields' ? 'parasitemia' : 'share'} ${share(r.share_parasitized, r.ci95_lo, r.ci95_hi)}`,
            r.source === 'fields'
              ? r.excluded_border + r.excluded_white + r.excluded_debris + r.excluded_clump
              : '–',
            r.images_not_read,
          ].map((t) => el('td', { text: String(t) })),
        ),
      );
      if (r.reviewed_cells) {
        tb.append(
          el(
            'tr',
            { class: 'reviewed', 'data-source': `${r.source} reviewed` },
            ...[
              `after review (${r.reviewed_cells} reviewed)`,
              r.cells,
              r.reviewed_parasitized,
              r.reviewed_to_review,
              r.reviewed_uninfected,
              `${r.source === 'fields' ? 'parasitemia' : 'share'} ${share(r.reviewed_share_parasitized, r.reviewed_ci95_lo, r.reviewed_ci95_hi)}`,
              '',
              '',
            ].map((t) => el('td', { text: String(t) })),
          ),
        );
      }
    }
    table.append(tb);
    art.append(table);
    const cells = cellsOf(records);
    for (const [call, title] of [
      ['uncertain', 'Cells to review'],
      ['parasitized', 'Parasitized cells'],
    ]) {
      const group = cells.filter((c) => c.final === call);
      const sec = el('section', { class: 'report-thumbs', 'data-call': call });
      sec.append(
        el('h2', {
          text: `${title} (${group.length})${group.length > REPORT_THUMBS ? `: the first ${REPORT_THUMBS} shown` : ''}`,
        }),
      );
      const grid = el('div', { class: 'thumb-row' });
      for (const c of group.slice(0, REPORT_THUMBS)) {
        const entry = state.cards.get(c.rec.id) || {};
        const label = `${c.index === null ? c.rec.name : `${c.rec.name}, cell ${c.index}`}: p ${c.cell.pParasitized.toFixed(3)}${c.reviewed ? ', reviewed' : ''}`;
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
          el('figcaption', { text: `${c.cell.pParasitized.toFixed(2)}${c.reviewed ? ' ✓' : ''}` }),
        );
        grid.append(fig);
      }
      if (!group.length) grid.append(el('p', { class: 'none', text: 'none' }));
      sec.append(grid);
      art.append(sec);
    }
    art.append(
      el('p', {
        class: 'report-legend',
        text: "Under each thumbnail: the model's probability of parasitized; ✓: reviewed by the technician.",
      }),
    );
    art.append(el('footer', { class: 'report-notice', text: INTENDED_USE }));
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
    announce(`Slide report ready: ${n} page${n === 1 ? '' : 's'}, one per slide.`);
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
    if (
      !window.confirm(
        `Delete all ${state.records.length} results of this session from this device?`,
      )
    )
      return;
    await state.store.clearSession(state.session.id);
    for (const id of [...state.cards.keys()]) dropCard(id);
    staleCards.clear();
    state.records = [];
    $('resume-banner').hidden = true;
    applyView();
    announce('All results were deleted from this device.');
  });
  $('resume-btn').addEventListener('click', () => {
    $('resume-banner').hidden = true;
    runBatch();
  });
  $('discard-btn').addEventListener('click', async () => {
    const left = pendingRecords();
    await state.store.remove(left.map((r) => r.id));
    for (const r of left) dropCard(r.id);
    state.records = state.records.filter((r) => !left.includes(r));
    $('resume-banner').hidden = true;
    applyView();
    announce(`${left.length} unclassified images discarded.`);
  });
  $('cancel-btn').addEventListener('click', () => {
    state.cancel = true;
    $('progress-label').textContent = 'Cancelling after the images in progress…';
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

/** The model card in plain words from the blob's metadata (what it was trained on, how it was
 *  measured, its limits); the engine and digest; the raw metadata folded in a <details>. */
function modelCardPlain(meta) {
  const out = [];
  const prov = meta.provenance || {};
  const t = (meta.metrics && meta.metrics.test) || {};
  const band = meta.calibration && meta.calibration.band;
  const num = (x) => Number.isFinite(x);
  out.push([
    'What it does',
    'For each red blood cell it gives the probability that the cell is parasitized ' +
      '(Plasmodium, in a Giemsa-stained thin smear). Whole-field images are cut into red cells first; white ' +
      'cells, debris, clumps and cells cut by the border are left out and counted apart.',
  ]);
  if (prov.data) {
    out.push([
      'Trained on',
      `${prov.data}${
        prov.split
          ? `; split ${prov.split.replace(/ \(.*\)$/, '')}, so no slide ` +
            'is in more than one of training, validation and test'
          : ''
      }.`,
    ]);
  }
  if (num(t.accuracy) && num(t.n)) {
    out.push([
      'Measured accuracy',
      `On ${t.n.toLocaleString('en')} cut-out cells of held-out test slides: ` +
        `${pct(t.accuracy)} of the calls were right` +
        `${num(t.sensitivity) ? `; ${pct(t.sensitivity)} of the parasitized cells were found (sensitivity)` : ''}` +
        `${num(t.specificity) ? `; ${pct(t.specificity)} of the uninfected cells were called uninfected (specificity)` : ''}.` +
        `${
          num(t.uncertain_share) && Array.isArray(band)
            ? ` ${pct(t.uncertain_share)} of those cells fell in the uncertain band ` +
              `(p above ${f3(band[0])} and up to ${f3(band[1])}) and are "to review"` +
              `${num(t.error_outside_band) ? `; of the others, ${pct(t.error_outside_band)} were called wrong` : ''}.`
            : ''
        }`,
    ]);
  }
  if (meta.input && Number.isFinite(meta.input.size)) {
    const S = meta.input.size;
    out.push([
      'Input',
      `Each cell is resized to ${S} x ${S} pixels for the network` +
        `${S > 64 ? ` (${((S / 64) ** 2).toFixed(S % 64 ? 1 : 0)} times the pixels of a 64 x 64 model: expect it about that many times slower)` : ''}.`,
    ]);
  }
  if (Array.isArray(meta.labels) && meta.labels.length > 2) {
    const pos =
      meta.head && Number.isInteger(meta.head.positive) ? meta.labels[meta.head.positive] : null;
    out.push([
      'Classes',
      `${meta.labels.join(', ')}${pos ? `; "${pos}" is the parasitized class, every other class counts as not parasitized` : ''}.`,
    ]);
  }
  out.push([
    'Limits',
    'The figures above are from cut-out cells of the public data set it was trained on ' +
      '(one hospital, smartphone photographs, P. falciparum). On whole fields from another site and microscope ' +
      '(docs/FIELD.md) it called about 1 % of the uninfected cells parasitized and put about a third of the ' +
      'cells in the uncertain band. It has not been validated for other microscopes, stains or Plasmodium ' +
      'species, and it does not tell species or stages. It is a screening aid for research and education, ' +
      'not a diagnosis and not a medical device: a microscopist reviews every result, the cells to review above all.',
  ]);
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
    'engine',
    `${info.variant === 'simd' ? 'WebAssembly SIMD128' : 'WebAssembly (no SIMD)'}, ${info.workers} worker${info.workers === 1 ? '' : 's'}, on this device`,
  );
  if (info.modelSource)
    row(
      'model read from',
      info.modelSource === 'local copy' ? 'local copy (this browser, checked)' : info.modelSource,
    );
  if (assets) row('model sha256', assets.model.sha256);
  body.append(el('h3', { text: 'This copy' }), dl);
  // the raw metadata, folded: every key as the blob has it (the tensor table left out), then the JSON
  const raw = el(
    'details',
    { class: 'raw-meta' },
    el('summary', { text: 'Technical metadata (as stored in the model file)' }),
  );
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

function applyUpdate() {
  const waiting = state.updateWaiting;
  if (!waiting) return;
  if (state.running) {
    state.reloadAfterBatch = true;
    $('update-btn').textContent = 'Will reload when the batch finishes';
    $('update-btn').disabled = true;
    return;
  }
  state.reloading = true;
  waiting.postMessage({ type: 'SKIP_WAITING' });
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
    if (state.reloading) location.reload();
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
    : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
};
function sessionLabel(sess) {
  return sess.legacy
    ? `Earlier results (kept before sessions, ${when(sess.created)})`
    : `Session of ${when(sess.created)}`;
}

function showSessionInfo() {
  const sess = state.session;
  $('session-name').textContent = sess ? sessionLabel(sess) : 'No session';
  $('operator-input').value = (sess && sess.operator) || '';
}

/** The session was written to: its time moves up (the list shows the latest first). */
function touchSession() {
  if (!state.session) return;
  state.session.updated = new Date().toISOString();
  state.store.putSession(state.session).catch((e) => showError(saveError(e, 'the session')));
}

/** Show one session: its records, cards, summaries; a batch it left unfinished can be resumed. */
async function openSession(sess, how = 'opened') {
  for (const id of [...state.cards.keys()]) dropCard(id);
  staleCards.clear();
  state.session = sess;
  state.records = await state.store.ofSession(sess.id);
  showSessionInfo();
  for (const r of state.records) gridAppend(buildCard(r));
  applyView();
  const left = pendingRecords().length;
  $('resume-banner').hidden = !left;
  if (left) {
    $('resume-text').textContent =
      `${left} image${left === 1 ? '' : 's'} from an interrupted batch ` +
      `${left === 1 ? 'has' : 'have'} not been classified yet.`;
  }
  document.documentElement.dataset.session = String(sess.id);
  const n = state.records.length - left;
  if (how === 'reopened' && !state.records.length) return;
  announce(
    how === 'new'
      ? `${sessionLabel(sess)} started: images you add go to it.`
      : `${sessionLabel(sess)} ${how}: ${n} result${n === 1 ? '' : 's'}${left ? `, ${left} waiting` : ''}.`,
  );
}

async function newSession() {
  if (state.running) return;
  let sess;
  try {
    sess = await state.store.newSession({ operator: $('operator-input').value.trim() });
  } catch (e) {
    showError(saveError(e, 'a new session'));
    return;
  }
  $('slide-input').value = '';
  state.slide = '';
  await openSession(sess, 'new');
  requestPersistence();
}

async function renderSessionList() {
  const list = $('sessions-list');
  list.textContent = '';
  for (const sess of await state.store.sessions()) {
    const current = state.session && sess.id === state.session.id;
    const slides = sess.slides.filter(Boolean);
    const li = el('li', { class: 'session-item', 'data-id': String(sess.id) });
    li.append(
      el(
        'div',
        { class: 'session-text' },
        el('strong', { text: sessionLabel(sess) + (current ? ' (shown)' : '') }),
        el('span', {
          text:
            `${sess.images} image${sess.images === 1 ? '' : 's'}` +
            `${slides.length ? `; slide${slides.length === 1 ? '' : 's'} ${slides.join(', ')}` : ''}` +
            `${sess.operator ? `; operator ${sess.operator}` : ''}; last change ${when(sess.updated)}`,
        }),
      ),
    );
    const open = el('button', { type: 'button', class: 'btn small open-session', text: 'Open' });
    open.setAttribute('aria-label', `Open ${sessionLabel(sess)}`);
    open.disabled = current || state.running;
    open.addEventListener('click', async () => {
      $('sessions-dialog').close();
      touchSessionOpened(sess);
      await openSession(sess, 'reopened');
    });
    const del = el('button', {
      type: 'button',
      class: 'btn small danger delete-session',
      text: 'Delete',
    });
    del.setAttribute('aria-label', `Delete ${sessionLabel(sess)}`);
    del.disabled = state.running && current;
    del.addEventListener('click', async () => {
      if (
        !window.confirm(
          `Delete ${sessionLabel(sess)} and its ${sess.images} result${sess.images === 1 ? '' : 's'} from this device?`,
        )
      )
        return;
      await state.store.deleteSession(sess.id);
      if (current) {
        const rest = await state.store.sessions();
        await openSession(
          rest[0] || (await state.store.newSession({ operator: '' })),
          rest[0] ? 'reopened' : 'new',
        );
      }
      announce(`${sessionLabel(sess)} deleted from this device.`);
      renderSessionList();
    });
    li.append(el('div', { class: 'session-actions' }, open, del));
    list.append(li);
  }
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
  $('operator-input').addEventListener('change', () => {
    if (!state.session) return;
    state.session.operator = $('operator-input').value.trim();
    touchSession();
  });
  const setSlide = () => {
    state.slide = $('slide-input').value.trim();
    $('slide-hint').textContent = state.slide
      ? `Images you add now go to slide ${state.slide}.`
      : 'Images you add go to no slide ID. A folder gives one slide per subfolder (its first level of folders), named after the subfolder.';
  };
  $('slide-input').addEventListener('input', setSlide);
  $('slide-input').addEventListener('keydown', (ev) => {
    // a barcode scanner ends with Enter
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    setSlide();
    announce(state.slide ? `Slide ${state.slide}: images you add now go to it.` : 'No slide ID.');
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
    tr.append(el('th', { scope: 'row', text: r.slide || '(no ID)' }));
    td(
      r.source === 'fields'
        ? `${r.images} whole field${r.images === 1 ? '' : 's'}`
        : r.source
          ? `${r.images} cut-out cell${r.images === 1 ? '' : 's'}`
          : '–',
      'from',
    );
    td(r.cells, 'cells');
    td(r.parasitized, 'parasitized');
    td(r.to_review, 'to_review');
    td(
      r.cells
        ? `${r.source === 'fields' ? 'parasitemia' : 'share'} ${parasitemiaText(r.share_parasitized, r.ci95_lo, r.ci95_hi, r.denominator)}`
        : '–',
      'share',
    );
    td(
      r.source === 'fields'
        ? r.excluded_border + r.excluded_white + r.excluded_debris + r.excluded_clump
        : '–',
      'excluded',
    );
    td(
      r.reviewed_cells
        ? `${r.reviewed_cells} reviewed: ${r.reviewed_parasitized} parasitized, ${r.reviewed_to_review} to review; ` +
            `${parasitemiaText(r.reviewed_share_parasitized, r.reviewed_ci95_lo, r.reviewed_ci95_hi, r.denominator)}`
        : '–',
      'reviewed',
    );
    td(r.images_not_read, 'not_read');
    tbody.append(tr);
  }
}

async function loadStore() {
  try {
    state.store = await ResultStore.open();
    const list = await state.store.sessions();
    const sess = list[0]
      ? (({ images, slides, ...rec }) => rec)(list[0])
      : await state.store.newSession();
    await openSession(sess, 'reopened');
  } catch (e) {
    showError(`Results cannot be kept on this device (IndexedDB unavailable: ${e.message}).`);
    state.records = [];
  }
}

/** The failure banner: the model's reason, Retry, and for waiting images a way to give up. */
function showModelFailure() {
  const waiting = pendingRecords().length;
  $('model-banner-text').textContent =
    `The model could not be loaded: ${state.modelError}${/[.?!]$/.test(state.modelError) ? '' : '.'} ` +
    (waiting
      ? `${waiting} image${waiting === 1 ? ' is' : 's are'} waiting for it.`
      : 'Images added meanwhile wait for it.');
  $('model-giveup-btn').hidden = !waiting;
  $('model-banner').hidden = false;
}

/** Waiting images marked failed with the model's reason (the user gave up on Retry). */
async function failWaiting() {
  const left = pendingRecords();
  for (const rec of left) {
    rec.error = `not classified: the model could not be loaded (${state.modelError || 'unknown reason'})`;
    rec.status = 'error';
    try {
      await state.store.put(rec);
    } catch (e) {
      showError(saveError(e, `the result of ${rec.name}`));
    }
    updateCard(rec);
  }
  $('resume-banner').hidden = true;
  showModelFailure();
  announce(`${left.length} waiting image${left.length === 1 ? '' : 's'} marked as not classified.`);
}

/** A classifier Worker stopped (crash, trap, no answer): it is restarted and its images retried. */
function onWorkerEvent(ev) {
  const d = ev.detail || {};
  let text;
  const lost = (x, verb = 'will be') =>
    `${x.retried ? `; the ${x.retried} image${x.retried === 1 ? '' : 's'} it was reading ${verb} tried again` : ''}` +
    `${x.rejected ? `; ${x.rejected} image${x.rejected === 1 ? '' : 's'} that stopped it twice marked as failed` : ''}`;
  if (d.state === 'lost') {
    state.workerStops++;
    state.lastStop = d;
    text = `A classifier Worker stopped (${d.reason}) and is being restarted${lost(d)}.`;
  } else if (d.state === 'restarted') {
    const x = state.lastStop || {};
    text =
      `A classifier Worker stopped (${x.reason || 'unknown reason'}) and was restarted${lost(x, x.retried === 1 ? 'was' : 'were')}.` +
      `${state.workerStops > 1 ? ` Workers stopped ${state.workerStops} times since the page was opened.` : ''}`;
  } else if (d.state === 'failed') {
    text = d.workers
      ? `A classifier Worker could not be restarted (${d.reason}); ${d.workers} still work.`
      : `${d.reason}. The images left are marked as not classified; reload the page to try again.`;
  } else return;
  $('worker-notice-text').textContent = text;
  $('worker-notice').hidden = false;
  document.documentElement.dataset.workerStops = String(state.workerStops);
  announce(text);
}

async function loadClassifier() {
  if (state.loading) return state.loading;
  const chip = $('engine-state');
  chip.textContent = 'Loading model…';
  chip.dataset.state = 'loading';
  document.documentElement.dataset.engine = 'loading';
  $('model-retry-btn').disabled = true;
  state.loading = (async () => {
    try {
      let assets;
      try {
        const res = await fetch('asset-manifest.json');
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        assets = await res.json();
      } catch (e) {
        throw new Error(
          `the site's asset manifest could not be read (${e.message}); offline before the first visit, or the server is down?`,
        );
      }
      state.classifier = await MalariaClassifier.create({
        localCopy: true,
        onProgress: showModelProgress,
      });
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
        // restored cards: the band on their bars
        if (rec && rec.result && card && card.isConnected) card.replaceWith(buildCard(rec));
      }
      applyView();
      chip.textContent = `Model ready · ${info.variant === 'simd' ? 'SIMD' : 'scalar'}`;
      chip.dataset.state = 'ready';
      $('version-info').textContent = `Site version ${assets.version}; model ${state.modelName}.`;
      state.siteVersion = assets.version;
      state.modelMeta = m;
      renderModelCard(info, assets);
      $('model-card-btn').disabled = false;
      const wasFailed = !!state.modelError;
      state.modelError = null;
      $('model-banner').hidden = true;
      document.documentElement.dataset.engine = 'ready';
      if (wasFailed) {
        for (const r of pendingRecords()) updateCard(r);
        announce('The model is loaded.');
      }
      if (pendingRecords().length && $('resume-banner').hidden) runBatch();
    } catch (e) {
      state.modelError = String((e && e.message) || e);
      modelFailed();
      chip.textContent = 'Model failed to load';
      chip.dataset.state = 'error';
      document.documentElement.dataset.engine = 'error';
      showModelFailure();
      for (const r of pendingRecords()) updateCard(r);
      announce(`The model could not be loaded: ${state.modelError}`);
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
  await loadStore();
  // Register the service worker once the model is loaded: its precache then takes the big
  // content-hashed files from the HTTP cache instead of downloading them a second time.
  await loadClassifier();
  setupServiceWorker();
  requestPersistence(false); // show usage; ask for persistence after the first batch
}

main();
