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

/** Counts of a list of records ({result?, error?}). */
export function summarize(records) {
  const s = { total: records.length, classified: 0, parasitized: 0, uninfected: 0, uncertain: 0,
              errors: 0, pending: 0 };
  for (const r of records) {
    if (r.error) s.errors++;
    else if (!r.result) s.pending++;
    else {
      s.classified++;
      if (r.result.labelIndex === 1) s.parasitized++; else s.uninfected++;
      if (r.result.band === 'uncertain') s.uncertain++;
    }
  }
  s.share = wilson(s.parasitized, s.classified);
  return s;
}

export const pct = (x, digits = 1) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : '–');

function csvField(v) {
  const s = v === undefined || v === null ? '' : String(v);
  // Neutralise spreadsheet formulas and quote where needed.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCSV(records, meta = {}) {
  const lines = [
    `# ${INTENDED_USE}`,
    `# model: ${meta.model || ''}; exported: ${meta.exported || new Date().toISOString()}`,
    'file,label,p_parasitized,band,logit_uninfected,logit_parasitized,width,height,ms,error',
  ];
  for (const r of records) {
    const x = r.result;
    lines.push([
      r.name, x ? x.label : '', x ? x.pParasitized.toFixed(6) : '', x ? x.band : '',
      x ? x.logits[0].toFixed(6) : '', x ? x.logits[1].toFixed(6) : '',
      x ? x.width : '', x ? x.height : '', x ? x.ms.toFixed(1) : '', r.error || (x ? '' : 'not classified'),
    ].map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function toJSON(records, meta = {}) {
  const s = summarize(records);
  return JSON.stringify({
    intendedUse: INTENDED_USE,
    model: meta.model || null,
    exported: meta.exported || new Date().toISOString(),
    summary: {
      classified: s.classified, parasitized: s.parasitized, uninfected: s.uninfected,
      uncertain: s.uncertain, errors: s.errors, notClassified: s.pending,
      shareParasitized: { value: s.share.p, ci95: [s.share.lo, s.share.hi], denominator: s.classified,
                          method: 'Wilson score interval' },
    },
    cells: records.map((r) => ({
      file: r.name,
      ...(r.result ? {
        label: r.result.label, pParasitized: r.result.pParasitized, band: r.result.band,
        logits: r.result.logits, width: r.result.width, height: r.result.height, ms: r.result.ms,
      } : {}),
      ...(r.error ? { error: r.error } : {}),
    })),
  }, null, 2) + '\n';
}
