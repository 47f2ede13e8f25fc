// stats.js -- summaries and exports of a session (no DOM).
//
// Calls. The model gives every cell a probability p of Parasitized and a band (the blob's
// calibration.band [lo, hi]): p <= lo 'uninfected', p > hi 'parasitized', between 'uncertain'.
// A cell in the band is "to review": it stays in the count (the denominator) and is neither
// parasitized nor uninfected until a microscopist calls it. Parasitized counts are the cells in
// the parasitized band, for cut-out cells as the core does for the cells of a field.
// Review: a technician's call overrides the model's: rec.review = {call} on a cut-out cell,
// rec.reviews = {[cell index]: {call}} on a field (call 'parasitized' | 'uninfected').
//
// Slides: rec.slide (the slide or patient ID; '' when none was given). Summaries and exports are
// per slide; cut-out cells and whole fields are kept apart (cut-out cells were picked by someone,
// so only the counted cells of whole fields give a parasitemia).

import { translate, language, num } from './i18n.js';
import { wilson95 } from './engine.js';

/** The intended-use notice in English: FHIR exports (which stay English) and the default. */
export const INTENDED_USE =
  'Intended use: a screening aid for research and education only. Not a diagnosis and not a ' +
  'medical device. Every call, and above all every "uncertain" call, must be reviewed by a ' +
  'trained microscopist before any clinical decision.';

/** The intended-use notice in the language chosen (page, printable report, CSV and JSON). */
export const intendedUse = (code = language()) => translate(code, 'notice.intendedUse');

/**
 * The share k / n with its Wilson score interval (95%): {p, lo, hi}. The interval is engine.js
 * wilson95 (the core's): [0, 1] for n = 0 (nothing counted: nothing known), where p is NaN (no
 * share). What people see for n = 0 ('–', "no cells", an empty export cell) is up to each caller.
 */
export function wilson(k, n) {
  const [lo, hi] = wilson95(k, n);
  return { p: n > 0 ? k / n : NaN, lo, hi };
}

export const isField = (r) => !!(r && r.result && r.result.mode === 'field');

/** The core's message for an image that is neither a cut-out cell nor a field. */
export const isRefusal = (msg) =>
  /not a blood-smear image|does not look like a single red-cell image/.test(msg || '');

/**
 * What kind of failure a classifier's message tells (its key in web/lang/*.js). The messages are
 * English text made by the core, the decoder policy (image-input.js, the core's words) or the JS
 * API, with no code; the kind is told from the fixed words their templates use
 * (tests/web/i18n.test.mjs runs each template through this). The page shows the kind in its
 * language above the message as it came.
 */
export function errorKind(msg) {
  const m = String(msg || '');
  if (/stopped the classifier twice/.test(m)) return 'error.kindStopped';
  if (/not a blood-smear image/.test(m)) return 'error.kindNotSmear';
  if (/does not look like a single red-cell image/.test(m)) return 'error.kindNotCell';
  if (/greyscale image/.test(m)) return 'error.kindGreyscale';
  if (/too large/.test(m)) return 'error.kindTooLarge';
  if (/\bempty (image|file)\b|too small/.test(m)) return 'error.kindEmpty';
  if (/corrupt|truncated|could not be decoded/.test(m)) return 'error.kindCorrupt';
  if (/not supported|, not an image|not a PNG, JPEG, BMP or WebP image/.test(m))
    return 'error.kindUnsupported';
  if (/out of memory/.test(m)) return 'error.kindMemory';
  return 'error.kindOther';
}

/** Whether a message says the file itself was refused by the input policy (not an image or not
 *  a supported one, too large, empty, corrupt): the page keeps no copy of such a file. */
const INPUT_KINDS = new Set([
  'error.kindUnsupported',
  'error.kindTooLarge',
  'error.kindEmpty',
  'error.kindCorrupt',
]);
export const isInputRefusal = (msg) =>
  !!msg &&
  INPUT_KINDS.has(errorKind(msg)) &&
  // the core's verdicts on a field it read (its cells too small, the field too large for them):
  // the picture is an image, kept like the other refusals of what it shows
  !/the red cells are too small to classify|the field is too large to search/.test(msg);

/** The model's call from a band: 'parasitized', 'uninfected' or 'uncertain' (to review). */
export const modelCall = (band) =>
  band === 'parasitized' || band === 'uninfected' ? band : 'uncertain';

/** The technician's call on a cut-out cell record or on cell `index` of a field record (or null). */
export function reviewOf(rec, index = null) {
  const r = index === null ? rec.review : rec.reviews && rec.reviews[index];
  return r && (r.call === 'parasitized' || r.call === 'uninfected') ? r : null;
}

/** Every classified cell of the records: {rec, index (null for a cut-out cell), cell, model, reviewed, final}. */
export function cellsOf(records) {
  const out = [];
  for (const rec of records) {
    if (!rec.result) continue;
    if (isField(rec)) {
      for (const c of rec.result.cells) {
        if (c.status !== 'counted') continue;
        const rv = reviewOf(rec, c.index);
        out.push({
          rec,
          index: c.index,
          cell: c,
          model: modelCall(c.band),
          reviewed: !!rv,
          final: rv ? rv.call : modelCall(c.band),
        });
      }
    } else {
      const rv = reviewOf(rec);
      out.push({
        rec,
        index: null,
        cell: rec.result,
        model: modelCall(rec.result.band),
        reviewed: !!rv,
        final: rv ? rv.call : modelCall(rec.result.band),
      });
    }
  }
  return out;
}

function tally(cells, key) {
  const t = { n: cells.length, parasitized: 0, uncertain: 0, uninfected: 0 };
  for (const c of cells) t[c[key]]++;
  const w = wilson(t.parasitized, t.n);
  t.share = { value: w.p, lo: w.lo, hi: w.hi, denominator: t.n };
  return t;
}

/**
 * One summary of a group of records (a slide, or all of them):
 *   {images, errors, refused, pending,
 *    fields: {images, counted, excluded: {border, white, debris, clump}, model, reviewed},
 *    crops:  {images, model, reviewed}, reviewedCells}
 * where model / reviewed = {n, parasitized, uncertain, uninfected, share: {value, lo, hi, denominator}}
 * (for fields, share is the parasitemia: parasitized of the counted red cells, Wilson 95%).
 */
export function summarizeGroup(records) {
  const s = { images: records.length, errors: 0, refused: 0, pending: 0, reviewedCells: 0 };
  const excluded = { border: 0, white: 0, debris: 0, clump: 0 };
  let fieldImages = 0,
    cropImages = 0;
  for (const r of records) {
    if (r.error) {
      s.errors++;
      if (isRefusal(r.error)) s.refused++;
    } else if (!r.result) s.pending++;
    else if (isField(r)) {
      fieldImages++;
      for (const k of Object.keys(excluded))
        excluded[k] += (r.result.excluded && r.result.excluded[k]) || 0;
    } else cropImages++;
  }
  const all = cellsOf(records);
  const inFields = all.filter((c) => c.index !== null);
  const crops = all.filter((c) => c.index === null);
  s.reviewedCells = all.filter((c) => c.reviewed).length;
  s.fields = {
    images: fieldImages,
    counted: inFields.length,
    excluded,
    excludedTotal: Object.values(excluded).reduce((a, b) => a + b, 0),
    model: tally(inFields, 'model'),
    reviewed: tally(inFields, 'final'),
    reviewedCells: inFields.filter((c) => c.reviewed).length,
  };
  s.crops = {
    images: cropImages,
    model: tally(crops, 'model'),
    reviewed: tally(crops, 'final'),
    reviewedCells: crops.filter((c) => c.reviewed).length,
  };
  return s;
}

/**
 * Slides from the relative paths of the files of folders ('a/b/c.png'): one folder (picked or
 * dropped alone) that has subfolders gives one slide per subfolder, its first level of folders
 * (files loose in it: a slide named after it); several folders, or one without subfolders, one
 * slide each, named after the folder. A path without a folder gets no slide (undefined: the
 * slide typed on the page). -> {slides: [slide or undefined per path], split, roots}
 */
export function slidesFromPaths(paths) {
  const parts = paths.map((p) => p.split('/'));
  const roots = [...new Set(parts.filter((p) => p.length > 1).map((p) => p[0]))];
  const split =
    roots.length === 1 && parts.every((p) => p.length > 1) && parts.some((p) => p.length > 2);
  const slides = parts.map((p) => (p.length < 2 ? undefined : split && p.length > 2 ? p[1] : p[0]));
  return { slides, split, roots };
}

/** The records grouped by slide, in the order each slide first appears: [{slide, records, summary}]. */
export function slidesOf(records) {
  const m = new Map();
  for (const r of records) {
    const k = r.slide || '';
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return [...m].map(([slide, recs]) => ({ slide, records: recs, summary: summarizeGroup(recs) }));
}

/**
 * Counts of a list of records for the page's tiles (the model's calls): cut-out cells
 * (classified, parasitized, uninfected, uncertain: in the count, share) and whole fields pooled
 * (`fields.pooled`: every counted red cell of every field is one trial of the Wilson interval).
 */
export function summarize(records) {
  const g = summarizeGroup(records);
  const c = g.crops.model,
    f = g.fields.model;
  const s = {
    total: records.length,
    classified: c.n,
    parasitized: c.parasitized,
    uninfected: c.uninfected,
    uncertain: c.uncertain,
    errors: g.errors,
    refused: g.refused,
    pending: g.pending,
  };
  s.share = wilson(c.parasitized, c.n);
  s.fields = {
    images: g.fields.images,
    counted: f.n,
    parasitized: f.parasitized,
    uncertain: f.uncertain,
    excluded: g.fields.excluded,
    pooled: wilson(f.parasitized, f.n),
  };
  s.group = g;
  return s;
}

/** A share as a percentage for people ("12.5%"; "12,5 %" in French): never in exports. */
export const pct = (x, digits = 1, code = language()) =>
  Number.isFinite(x) ? translate(code, 'stats.percent', { x: num(100 * x, digits, code) }) : '–';

/** "1.2 % (95% CI 0.4–3.1 %) of 168 cells", or a note when no cell was counted (for people). */
export function parasitemiaText(p, lo, hi, n, code = language()) {
  if (!(n > 0)) return translate(code, 'stats.noCells');
  const f = (x) => num(100 * x, 1, code);
  return translate(code, 'stats.parasitemia', { p: f(p), lo: f(lo), hi: f(hi), n });
}

// ---------------------------------------------------------------------------------------------
// Exports. CSV (RFC 4180, CRLF): numbers are written as numbers (a negative logit stays
// -3.306405); only a text cell that begins with = + - @ (or a tab or CR) and is not a number is
// prefixed with ' so that a spreadsheet does not run it as a formula. So is one where = + - @
// follows a ; , or tab (after spaces): a spreadsheet set to French, Portuguese or Spanish splits
// a CSV opened by double-click on ';', so "cell;=1+1;.png" would give a formula cell there (such
// a cell is quoted too, as is any with a ';' or a tab). The first row is one quoted field: the
// notice, the model, its digest and its band.

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]|[;,\t] *[=+\-@]/;

export function csvField(v) {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  let s = String(v);
  if (typeof v !== 'number' && FORMULA_START.test(s) && !NUMBER.test(s)) s = `'${s}`;
  return /[",;\t\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvLine = (cells) => cells.map(csvField).join(',');
const fixed = (x, d = 6) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

/** The band as text: "uncertain band 0.204 < p <= 0.980" (in English unless `code` is given;
 *  the numbers keep their dots in every language: this is export text). */
export function bandText(band, code = 'en') {
  return Array.isArray(band) && band.length === 2
    ? translate(code, 'export.band', { lo: band[0].toFixed(3), hi: band[1].toFixed(3) })
    : translate(code, 'export.bandUnknown');
}

/** The CSVs' first row: the notice and the metadata in the language chosen (its numbers, the
 *  digest and the time as machines write them). */
function metaLine(meta) {
  const code = language();
  const tr = (k, p) => translate(code, k, p);
  return tr('export.meta', {
    notice: intendedUse(code),
    model: meta.model || tr('export.unknown'),
    digest: meta.digest || tr('export.unknown'),
    band: bandText(meta.band, code),
    operator: meta.operator ? tr('export.operator', { name: meta.operator }) : '',
    session: meta.session ? tr('export.session', { session: meta.session }) : '',
    exported: meta.exported || new Date().toISOString(),
  });
}

export const CELL_COLUMNS = [
  'slide',
  'file',
  'mode',
  'cell',
  'x',
  'y',
  'w',
  'h',
  'label',
  'p_parasitized',
  'band',
  'model_call',
  'reviewed',
  'reviewed_call',
  'final_call',
  'logit_uninfected',
  'logit_parasitized',
  'width',
  'height',
  'ms',
  'error',
];
const CALL_TEXT = { parasitized: 'parasitized', uninfected: 'uninfected', uncertain: 'to review' };

/** Rows of the per-cell export: one per cut-out cell image, one per counted red cell of a field,
 *  one per image that gave no result (its error). Objects keyed by CELL_COLUMNS. */
export function cellRows(records) {
  const rows = [];
  const byRec = new Map();
  for (const c of cellsOf(records)) {
    if (!byRec.has(c.rec)) byRec.set(c.rec, []);
    byRec.get(c.rec).push(c);
  }
  for (const rec of records) {
    const base = { slide: rec.slide || '', file: rec.name };
    if (!rec.result) {
      rows.push({ ...base, error: rec.error || 'not classified' });
      continue;
    }
    for (const c of byRec.get(rec) || []) {
      const x = c.cell;
      const rv = c.index === null ? reviewOf(rec) : reviewOf(rec, c.index);
      rows.push({
        ...base,
        mode: c.index === null ? 'cell' : 'field-cell',
        cell: c.index,
        x: c.index === null ? null : x.x,
        y: c.index === null ? null : x.y,
        w: c.index === null ? null : x.w,
        h: c.index === null ? null : x.h,
        label: x.label,
        p_parasitized: fixed(x.pParasitized),
        band: x.band,
        model_call: CALL_TEXT[c.model],
        reviewed: c.reviewed ? 1 : 0,
        reviewed_call: rv ? rv.call : null,
        final_call: CALL_TEXT[c.final],
        logit_uninfected: c.index === null ? fixed(x.logits[0]) : null,
        logit_parasitized: c.index === null ? fixed(x.logits[1]) : null,
        width: c.index === null ? x.width : rec.result.width,
        height: c.index === null ? x.height : rec.result.height,
        ms: c.index === null ? fixed(x.ms, 1) : null,
        error: null,
      });
    }
  }
  return rows;
}

export const SLIDE_COLUMNS = [
  'slide',
  'source',
  'images',
  'cells',
  'parasitized',
  'to_review',
  'uninfected',
  'share_parasitized',
  'ci95_lo',
  'ci95_hi',
  'denominator',
  'reviewed_cells',
  'reviewed_parasitized',
  'reviewed_to_review',
  'reviewed_uninfected',
  'reviewed_share_parasitized',
  'reviewed_ci95_lo',
  'reviewed_ci95_hi',
  'excluded_border',
  'excluded_white',
  'excluded_debris',
  'excluded_clump',
  'images_not_read',
];

/** Rows of the per-slide export: per slide, one row for its whole fields (share = parasitemia of
 *  the counted red cells) and one for its cut-out cells, each with the model's and the reviewed
 *  figures; a slide with neither gets one row (source '') with its unreadable images. */
export function slideRows(records) {
  const rows = [];
  for (const { slide, summary: s } of slidesOf(records)) {
    const parts = [];
    if (s.fields.images) parts.push(['fields', s.fields, s.fields.images]);
    if (s.crops.images) parts.push(['cut-out cells', s.crops, s.crops.images]);
    if (!parts.length) parts.push(['', null, 0]);
    parts.forEach(([source, g, images], i) => {
      const m = g && g.model,
        v = g && g.reviewed;
      const ex = source === 'fields' ? g.excluded : {};
      rows.push({
        slide,
        source,
        images,
        cells: m ? m.n : 0,
        parasitized: m ? m.parasitized : 0,
        to_review: m ? m.uncertain : 0,
        uninfected: m ? m.uninfected : 0,
        share_parasitized: m ? fixed(m.share.value) : null,
        // no cell: no share and no interval (empty cells), although wilson gives [0, 1]
        ci95_lo: m && m.n ? fixed(m.share.lo) : null,
        ci95_hi: m && m.n ? fixed(m.share.hi) : null,
        denominator: m ? m.n : 0,
        reviewed_cells: g ? g.reviewedCells : 0,
        reviewed_parasitized: v ? v.parasitized : 0,
        reviewed_to_review: v ? v.uncertain : 0,
        reviewed_uninfected: v ? v.uninfected : 0,
        reviewed_share_parasitized: v ? fixed(v.share.value) : null,
        reviewed_ci95_lo: v && v.n ? fixed(v.share.lo) : null,
        reviewed_ci95_hi: v && v.n ? fixed(v.share.hi) : null,
        excluded_border: source === 'fields' ? ex.border : null,
        excluded_white: source === 'fields' ? ex.white : null,
        excluded_debris: source === 'fields' ? ex.debris : null,
        excluded_clump: source === 'fields' ? ex.clump : null,
        // the slide's unreadable or refused images, on its first row
        images_not_read: i === 0 ? s.errors : 0,
      });
    });
  }
  return rows;
}

function toCSVRows(meta, columns, rows) {
  const lines = [
    csvLine([metaLine(meta)]),
    csvLine(columns),
    ...rows.map((r) => csvLine(columns.map((k) => r[k]))),
  ];
  // the metadata row is always one quoted field (it holds commas and quotes)
  if (!lines[0].startsWith('"')) lines[0] = `"${lines[0]}"`;
  return lines.join('\r\n') + '\r\n';
}

/** The per-cell CSV (see cellRows). */
export function toCSV(records, meta = {}) {
  return toCSVRows(meta, CELL_COLUMNS, cellRows(records));
}
/** The per-slide CSV (see slideRows). */
export function toSlidesCSV(records, meta = {}) {
  return toCSVRows(meta, SLIDE_COLUMNS, slideRows(records));
}

// A tally for the JSON export: with no cell its share has no value and no interval (null), although
// wilson gives [0, 1].
const tallyJSON = (t) => (t.n > 0 ? t : { ...t, share: { ...t.share, lo: null, hi: null } });

const summaryJSON = (s) => ({
  images: s.images,
  notRead: s.errors,
  refused: s.refused,
  notClassified: s.pending,
  reviewedCells: s.reviewedCells,
  fields: {
    images: s.fields.images,
    counted: s.fields.counted,
    excluded: s.fields.excluded,
    model: tallyJSON(s.fields.model),
    reviewed: tallyJSON(s.fields.reviewed),
    reviewedCells: s.fields.reviewedCells,
    method: 'parasitemia: parasitized of the counted red cells, Wilson score interval (95%)',
  },
  crops: {
    images: s.crops.images,
    model: tallyJSON(s.crops.model),
    reviewed: tallyJSON(s.crops.reviewed),
    reviewedCells: s.crops.reviewedCells,
    method:
      'share of cut-out cell images called parasitized, Wilson score interval (95%); not a parasitemia',
  },
});

/** JSON: the notice and model, a summary per slide and in all, and every image with its cells. */
export function toJSON(records, meta = {}) {
  const s = summarize(records);
  const f = s.fields;
  return (
    JSON.stringify(
      {
        intendedUse: intendedUse(),
        language: language(),
        model: meta.model || null,
        modelSha256: meta.digest || null,
        uncertainBand: Array.isArray(meta.band)
          ? {
              low: meta.band[0],
              high: meta.band[1],
              meaning:
                'p(Parasitized) in (low, high]: to review, in the count, neither parasitized nor uninfected',
            }
          : null,
        operator: meta.operator || null,
        session: meta.session || null,
        exported: meta.exported || new Date().toISOString(),
        summary: {
          // all slides together (the model's calls)
          classified: s.classified,
          parasitized: s.parasitized,
          uninfected: s.uninfected,
          uncertain: s.uncertain,
          errors: s.errors,
          notClassified: s.pending,
          shareParasitized: {
            value: s.share.p,
            ci95: s.classified > 0 ? [s.share.lo, s.share.hi] : [null, null],
            denominator: s.classified,
            method: 'Wilson score interval',
          },
          fields: {
            images: f.images,
            counted: f.counted,
            parasitized: f.parasitized,
            uncertain: f.uncertain,
            excluded: f.excluded,
            parasitemia: {
              value: f.pooled.p,
              ci95: f.counted > 0 ? [f.pooled.lo, f.pooled.hi] : [null, null],
              denominator: f.counted,
              method: 'Wilson score interval, pooled over the counted red cells of all fields',
            },
          },
        },
        slides: slidesOf(records).map(({ slide, summary }) => ({ slide, ...summaryJSON(summary) })),
        cells: records.map((r) => ({
          slide: r.slide || '',
          file: r.name,
          ...(isField(r)
            ? {
                mode: 'field',
                width: r.result.width,
                height: r.result.height,
                counted: r.result.counted,
                parasitized: r.result.parasitized,
                uncertain: r.result.uncertain,
                excluded: r.result.excluded,
                parasitemia: r.result.parasitemia,
                ci95: r.result.ci95,
                cellDiameter: r.result.cellDiameter,
                ms: r.result.ms,
                cells: r.result.cells
                  .filter((c) => c.status === 'counted')
                  .map((c) => {
                    const rv = reviewOf(r, c.index);
                    return {
                      index: c.index,
                      x: c.x,
                      y: c.y,
                      w: c.w,
                      h: c.h,
                      label: c.label,
                      pParasitized: c.pParasitized,
                      band: c.band,
                      reviewed: !!rv,
                      reviewedCall: rv ? rv.call : null,
                      outline: c.outline,
                    };
                  }),
              }
            : r.result
              ? {
                  mode: 'cell',
                  label: r.result.label,
                  pParasitized: r.result.pParasitized,
                  band: r.result.band,
                  logits: r.result.logits,
                  width: r.result.width,
                  height: r.result.height,
                  ms: r.result.ms,
                  reviewed: !!reviewOf(r),
                  reviewedCall: reviewOf(r) ? reviewOf(r).call : null,
                }
              : {}),
          ...(r.error ? { error: r.error } : {}),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}

// ---------------------------------------------------------------------------------------------
// FHIR R4: a Bundle of type 'collection' with one Observation per slide and source (its whole
// fields: the parasitemia; its cut-out cells: the share called parasitized). No LOINC code: the
// value is an unreviewed machine estimate from images, not the laboratory test a LOINC code
// names, so the code is text only (CodeableConcept.text), and the status 'preliminary' until a
// technician has reviewed every cell to review ('final' is never claimed by this tool).

const UCUM = 'http://unitsofmeasure.org';
const pctQ = (x) => ({ value: Number((100 * x).toFixed(4)), unit: '%', system: UCUM, code: '%' });
const countC = (text, n) => ({ code: { text }, valueInteger: n });

function uuid(seed) {
  // a stable, RFC 4122-shaped (version 4 bits) identifier from a string: FNV-1a over the seed
  const h = [0x811c9dc5, 0x01000193, 0x6b43a9b5, 0x2f6d3c1e];
  for (let i = 0; i < seed.length; i++) {
    for (let j = 0; j < 4; j++) h[j] = Math.imul(h[j] ^ seed.charCodeAt(i) ^ j, 0x01000193) >>> 0;
  }
  const hex = h.map((x) => x.toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[parseInt(hex[16], 16) & 3]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function toFHIR(records, meta = {}) {
  const exported = meta.exported || new Date().toISOString();
  const entries = [];
  for (const { slide, summary: s } of slidesOf(records)) {
    for (const [source, g] of [
      ['fields', s.fields],
      ['cut-out cells', s.crops],
    ]) {
      if (!g.model.n) continue;
      const m = g.model,
        v = g.reviewed;
      const reviewedAll = g.reviewedCells > 0 && v.uncertain === 0;
      const useReviewed = g.reviewedCells > 0;
      const shown = useReviewed ? v : m;
      const id = uuid(`${meta.session || ''}|${slide}|${source}|${exported}`);
      const obs = {
        resourceType: 'Observation', // no id: the entry's fullUrl (urn:uuid) names it
        status: 'preliminary',
        category: [
          {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/observation-category',
                code: 'laboratory',
                display: 'Laboratory',
              },
            ],
          },
        ],
        code: {
          text:
            source === 'fields'
              ? 'Plasmodium-infected red blood cells, percent of the counted red cells (automated screening of thin-smear images)'
              : 'Cut-out red cell images called Plasmodium-infected, percent (automated screening; a selection, not a parasitemia)',
        },
        effectiveDateTime: exported,
        issued: exported,
        ...(slide ? { specimen: { display: `Slide ${slide}`, identifier: { value: slide } } } : {}),
        valueQuantity: pctQ(shown.share.value),
        method: {
          text:
            `Automated classification of ${source === 'fields' ? 'the red cells found in whole-field images' : 'cut-out cell images'}` +
            ` by ${meta.model || 'the model'} (blob sha256 ${meta.digest || 'unknown'}); ${bandText(meta.band)}: cells in the band are to review` +
            `${useReviewed ? `; ${g.reviewedCells} cell${g.reviewedCells === 1 ? '' : 's'} reviewed by the technician` : '; not reviewed'}`,
        },
        device: { display: `${meta.model || 'malaria-screen model'}` },
        note: [
          { text: INTENDED_USE },
          {
            text:
              `${useReviewed ? 'Value and counts after review' : "Value and counts are the model's calls"}; ` +
              `model's calls: ${m.parasitized} parasitized, ${m.uncertain} to review, ${m.uninfected} uninfected of ${m.n}.` +
              `${reviewedAll ? ' Every cell to review has been reviewed.' : ''}`,
          },
        ],
        component: [
          {
            code: { text: 'Parasitized share, 95% Wilson interval, lower bound' },
            valueQuantity: pctQ(shown.share.lo),
          },
          {
            code: { text: 'Parasitized share, 95% Wilson interval, upper bound' },
            valueQuantity: pctQ(shown.share.hi),
          },
          countC(
            source === 'fields'
              ? 'Red cells counted (denominator)'
              : 'Cut-out cells classified (denominator)',
            m.n,
          ),
          countC('Cells called parasitized', shown.parasitized),
          countC('Cells to review (uncertain, in the denominator)', shown.uncertain),
          countC('Cells called uninfected', shown.uninfected),
          countC('Cells reviewed by the technician', g.reviewedCells),
          ...(source === 'fields'
            ? [
                countC(
                  'Regions left out (cut by the border, white cells, debris, clumps)',
                  g.excludedTotal,
                ),
              ]
            : []),
        ],
      };
      if (meta.operator) obs.performer = [{ display: meta.operator }];
      entries.push({ fullUrl: `urn:uuid:${id}`, resource: obs });
    }
  }
  return (
    JSON.stringify(
      {
        resourceType: 'Bundle',
        id: uuid(`bundle|${meta.session || ''}|${exported}`),
        meta: { lastUpdated: exported },
        type: 'collection',
        timestamp: exported,
        entry: entries,
      },
      null,
      2,
    ) + '\n'
  );
}
