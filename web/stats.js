// stats.js -- summaries and exports of a batch (no DOM).

export const INTENDED_USE =
  'Intended use: a screening aid for research and education only. Not a diagnosis and not a ' +
  'medical device. Every call, and above all every "uncertain" call, must be reviewed by a ' +
  'trained microscopist before any clinical decision.';

/** Wilson score interval for k successes out of n (95% by default). */
export function wilson(k, n, z = 1.959963984540054) {
  if (!(n > 0)) return { p: NaN, lo: NaN, hi: NaN };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

export const isField = (r) => !!(r && r.result && r.result.mode === 'field');

/** The core's message for an image that is neither a cut-out cell nor a field. */
export const isRefusal = (msg) => /not a blood-smear image|does not look like a single red-cell image/.test(msg || '');

/**
 * Counts of a list of records ({result?, error?}). Cut-out cell images are counted as before
 * (classified, parasitized, uninfected, uncertain, share); whole fields apart, pooled over the
 * fields: every counted red cell of every field is one trial of the Wilson interval
 * (`fields.pooled`), as the core does for one field.
 */
export function summarize(records) {
  const s = { total: records.length, classified: 0, parasitized: 0, uninfected: 0, uncertain: 0,
              errors: 0, refused: 0, pending: 0 };
  const f = { images: 0, counted: 0, parasitized: 0, uncertain: 0,
              excluded: { border: 0, white: 0, debris: 0, clump: 0 } };
  for (const r of records) {
    if (r.error) { s.errors++; if (isRefusal(r.error)) s.refused++; }
    else if (!r.result) s.pending++;
    else if (isField(r)) {
      const x = r.result;
      f.images++;
      f.counted += x.counted;
      f.parasitized += x.parasitized;
      f.uncertain += x.uncertain;
      for (const k of Object.keys(f.excluded)) f.excluded[k] += (x.excluded && x.excluded[k]) || 0;
    } else {
      s.classified++;
      if (r.result.labelIndex === 1) s.parasitized++; else s.uninfected++;
      if (r.result.band === 'uncertain') s.uncertain++;
    }
  }
  s.share = wilson(s.parasitized, s.classified);
  f.pooled = wilson(f.parasitized, f.counted);
  s.fields = f;
  return s;
}

export const pct = (x, digits = 1) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : '–');

/** "1.2 % (95% CI 0.4–3.1 %) of 168 cells", or a note when no cell was counted. */
export function parasitemiaText(p, lo, hi, n) {
  if (!(n > 0)) return 'no red cells counted';
  const f = (x) => (100 * x).toFixed(1);
  return `${f(p)} % (95% CI ${f(lo)}–${f(hi)} %) of ${n} cell${n === 1 ? '' : 's'}`;
}

function csvField(v) {
  const s = v === undefined || v === null ? '' : String(v);
  // Neutralise spreadsheet formulas and quote where needed.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const excludedText = (e) => Object.entries(e || {}).map(([k, v]) => `${k} ${v}`).join('; ');

/**
 * One row per cut-out cell image (the first ten columns as before, mode 'cell'); a whole field
 * gives one row per counted red cell (mode 'field-cell': its index and box in the field) and
 * then one summary row (mode 'field': counts, excluded by reason, parasitemia and its interval).
 */
export function toCSV(records, meta = {}) {
  const lines = [
    `# ${INTENDED_USE}`,
    `# model: ${meta.model || ''}; exported: ${meta.exported || new Date().toISOString()}`,
    'file,label,p_parasitized,band,logit_uninfected,logit_parasitized,width,height,ms,error,' +
    'mode,cell,x,y,w,h,cells_counted,parasitized,uncertain,excluded,parasitemia,ci95_lo,ci95_hi',
  ];
  const none = Array(12).fill('');
  for (const r of records) {
    const x = r.result;
    if (isField(r)) {
      for (const c of x.cells) {
        if (c.status !== 'counted') continue;
        lines.push([r.name, c.label, c.pParasitized.toFixed(6), c.band, '', '', '', '', '', '',
          'field-cell', c.index, c.x, c.y, c.w, c.h, '', '', '', '', '', '', ''].map(csvField).join(','));
      }
      lines.push([r.name, '', '', '', '', '', x.width, x.height, x.ms.toFixed(1), '',
        'field', '', '', '', '', '', x.counted, x.parasitized, x.uncertain, excludedText(x.excluded),
        x.counted ? x.parasitemia.toFixed(6) : '', x.counted ? x.ci95[0].toFixed(6) : '',
        x.counted ? x.ci95[1].toFixed(6) : ''].map(csvField).join(','));
      continue;
    }
    lines.push([
      r.name, x ? x.label : '', x ? x.pParasitized.toFixed(6) : '', x ? x.band : '',
      x ? x.logits[0].toFixed(6) : '', x ? x.logits[1].toFixed(6) : '',
      x ? x.width : '', x ? x.height : '', x ? x.ms.toFixed(1) : '', r.error || (x ? '' : 'not classified'),
      x ? 'cell' : '', ...none,
    ].map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function toJSON(records, meta = {}) {
  const s = summarize(records);
  const f = s.fields;
  return JSON.stringify({
    intendedUse: INTENDED_USE,
    model: meta.model || null,
    exported: meta.exported || new Date().toISOString(),
    summary: {
      classified: s.classified, parasitized: s.parasitized, uninfected: s.uninfected,
      uncertain: s.uncertain, errors: s.errors, notClassified: s.pending,
      shareParasitized: { value: s.share.p, ci95: [s.share.lo, s.share.hi], denominator: s.classified,
                          method: 'Wilson score interval' },
      fields: {
        images: f.images, counted: f.counted, parasitized: f.parasitized, uncertain: f.uncertain,
        excluded: f.excluded,
        parasitemia: { value: f.pooled.p, ci95: [f.pooled.lo, f.pooled.hi], denominator: f.counted,
                       method: 'Wilson score interval, pooled over the counted red cells of all fields' },
      },
    },
    cells: records.map((r) => ({
      file: r.name,
      ...(isField(r) ? {
        mode: 'field', width: r.result.width, height: r.result.height, counted: r.result.counted,
        parasitized: r.result.parasitized, uncertain: r.result.uncertain, excluded: r.result.excluded,
        parasitemia: r.result.parasitemia, ci95: r.result.ci95, cellDiameter: r.result.cellDiameter,
        ms: r.result.ms,
        cells: r.result.cells.filter((c) => c.status === 'counted').map((c) => ({
          index: c.index, x: c.x, y: c.y, w: c.w, h: c.h, label: c.label, pParasitized: c.pParasitized,
          band: c.band, outline: c.outline,
        })),
      } : r.result ? {
        mode: 'cell', label: r.result.label, pParasitized: r.result.pParasitized, band: r.result.band,
        logits: r.result.logits, width: r.result.width, height: r.result.height, ms: r.result.ms,
      } : {}),
      ...(r.error ? { error: r.error } : {}),
    })),
  }, null, 2) + '\n';
}
