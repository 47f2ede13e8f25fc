// page_table.mjs -- the short table of what a user gets, from one run of the page scenario and
// the peers' scenarios (bench/run.sh --page writes bench/out/page-results.json):
//
//   node bench/tools/page_table.mjs bench/out/page-results.json [--write]
//
// Prints the table (markdown) and writes bench/out/page-table.md; --write also puts it into
// README.md and BENCHMARKS.md between their PAGE TABLE markers. The peer's figure beside each of
// ours: its best raw network throughput on all cores (onnxruntime-web and tfjs-backend-wasm, a
// pool of 2 Workers x 1 thread or one Worker with 2 threads, batch tensors of pre-decoded 64x64
// inputs: no decoding, no drawing, no storing), so for a batch or a field the time that network
// alone needs for the same number of cells; its first result and bytes from its cold-start page.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const write = args.includes('--write');
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node bench/tools/page_table.mjs RESULTS.json [--write]');
  process.exit(2);
}
const R = JSON.parse(fs.readFileSync(file, 'utf8'));
const P = R.page;
if (!P || P.error) throw new Error(`no page scenario in ${file}: ${P && P.error}`);

// the peers' best raw throughput on all cores
const rates = [];
for (const e of R.engines || []) {
  if ((e.id === 'ort' || e.id === 'tfjs') && e.pool)
    rates.push({
      who: `${e.label}, ${e.pool.workers} Workers x 1 thread`,
      id: e.id,
      cps: e.pool.cellsPerS,
    });
  if (e.id && e.id.startsWith('ours') && e.pool && e.pool.peers2t)
    for (const [id, p] of Object.entries(e.pool.peers2t))
      rates.push({
        who: `${id === 'ort' ? 'onnxruntime-web' : 'tfjs-backend-wasm'}, 1 Worker x 2 threads`,
        id,
        cps: p.cellsPerS,
      });
}
const peer = rates.sort((a, b) => b.cps - a.cps)[0];
const colds = (R.engines || []).filter((e) => (e.id === 'ort' || e.id === 'tfjs') && e.cold);
const name = (id) => (id === 'ort' ? 'ONNX Runtime Web' : 'TF.js WASM');
const bestBy = (f) => colds.filter((e) => Number.isFinite(f(e))).sort((a, b) => f(a) - f(b))[0];

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const msf = (ms) => `${ms.toFixed(0)} ms`;
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}x` : '');
const rows = [];
const n = P.cells;
const b1 = P.batch[1];
const b4 = P.batch[4];
const peerMs = (cells) => (peer ? (cells / peer.cps) * 1000 : null);
const lt = (b) =>
  `${b.longTasks.join(', ')}${Math.max(...b.longestTaskMs) ? ` (longest ${Math.max(...b.longestTaskMs)} ms)` : ''}`;
rows.push([
  `batch of ${n} cells, drop to every card drawn`,
  `${s(b1.bestMs)} (${((b1.cells / b1.bestMs) * 1000).toFixed(0)} cells/s)`,
  peer ? `${s(peerMs(n))} (${peer.cps.toFixed(0)} cells/s)` : '–',
  peer ? ratio(b1.bestMs, peerMs(n)) : '',
]);
if (b4)
  rows.push([
    `the same, CPU 4x slower (DevTools throttling)`,
    `${s(b4.bestMs)} (${((b4.cells / b4.bestMs) * 1000).toFixed(0)} cells/s)`,
    '(not throttled)',
    '',
  ]);
const f1 = P.field[1];
if (f1)
  rows.push([
    `one 1280x960 field, drop to overlay drawn (${f1.counted} red cells)`,
    s(f1.bestMs),
    peer ? `${s(peerMs(f1.counted))} (network only)` : '–',
    peer ? ratio(f1.bestMs, peerMs(f1.counted)) : '',
  ]);
if (P.api)
  rows.push([
    `the JS API, ${P.api.n} cell files, decode to result (${P.api.workers} Workers)`,
    `${s(P.api.bestMs)} (${P.api.cellsPerS.toFixed(0)} cells/s)`,
    peer ? `${s(peerMs(P.api.n))} (${peer.cps.toFixed(0)} cells/s)` : '–',
    peer ? ratio(P.api.bestMs, peerMs(P.api.n)) : '',
  ]);
// batch-1: the peers' median in a fresh browser at every thread count measured (the latency
// scenario, `--latency-threads 1,2`), the best of them
const lat = [];
for (const e of R.engines || [])
  if (e.id === 'ort' || e.id === 'tfjs')
    for (const [t, l] of Object.entries(e.latency || {}))
      if (l && Number.isFinite(l.median)) lat.push({ id: e.id, t: Number(t), ms: l.median });
const lat1 = lat.sort((a, b) => a.ms - b.ms)[0];
if (P.apiOne)
  rows.push([
    'the JS API, one cell at a time, decode to result (median)',
    `${P.apiOne.median.toFixed(1)} ms`,
    lat1
      ? `${lat1.ms.toFixed(1)} ms (${name(lat1.id)}, ${lat1.t} thread${lat1.t > 1 ? 's' : ''}, network only)`
      : '–',
    lat1 ? ratio(P.apiOne.median, lat1.ms) : '',
  ]);
const ct = P.count;
if (ct)
  rows.push([
    `a count of ${ct.n || 40} fields, drop to every overlay drawn (${ct.counted} red cells)`,
    `${s(ct.bestMs)} (${((ct.counted / ct.bestMs) * 1000).toFixed(0)} cells/s)`,
    peer ? `${s(peerMs(ct.counted))} (network only)` : '–',
    peer ? ratio(ct.bestMs, peerMs(ct.counted)) : '',
  ]);
const fv = bestBy((e) => e.cold.firstVisitMs);
const rv = bestBy((e) => e.cold.repeatMedianMs);
if (P.first) {
  rows.push([
    'first result after opening, first visit',
    msf(P.first.firstVisitMs),
    fv ? `${msf(fv.cold.firstVisitMs)} (${name(fv.id)})` : '–',
    fv ? ratio(P.first.firstVisitMs, fv.cold.firstVisitMs) : '',
  ]);
  rows.push([
    'first result after opening, repeat visit (median)',
    msf(P.first.repeatMedianMs),
    rv ? `${msf(rv.cold.repeatMedianMs)} (${name(rv.id)})` : '–',
    rv ? ratio(P.first.repeatMedianMs, rv.cold.repeatMedianMs) : '',
  ]);
  const by = bestBy((e) => e.cold.bytes && e.cold.bytes.gzip);
  rows.push([
    'downloaded before the first result (gzip)',
    mb(P.first.bytesFirstVisit.gzip),
    by ? `${mb(by.cold.bytes.gzip)} (${name(by.id)})` : '–',
    by ? ratio(P.first.bytesFirstVisit.gzip, by.cold.bytes.gzip) : '',
  ]);
}
const when = `${R.date.slice(0, 16).replace('T', ' ')} UTC`;
const ld = (x) => (x ? x.map((v) => v.toFixed(1)).join(' ') : '?');
const table =
  '| what a user gets | the page | best peer, same run | page / peer |\n| --- | --- | --- | --- |\n' +
  rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
// README gets the table and the run in one line; BENCHMARKS.md the details too
const short =
  `${table}\n\n` +
  `${when}, \`bench/run.sh --page\` (\`${path.relative(REPO, path.resolve(file))}\`); ` +
  `${R.machine.cores} cores, load average ${ld(P.loadBefore)} (other jobs on the machine). ` +
  `Peer: ${peer ? peer.who : 'none measured'}.`;
let md =
  `${table}\n\n` +
  `Run of ${when} (\`bench/run.sh --page\`; \`${path.relative(REPO, path.resolve(file))}\`), ` +
  `${R.machine.cores} cores (${R.machine.cpu || 'CPU ?'}), load average ${ld(P.loadBefore)} before the page ` +
  `and ${ld(R.machine.loadAfter || P.loadAfter)} after the peers. ` +
  `Peer: ${peer ? peer.who : 'none measured'}, batches of ${R.reference.batch} pre-decoded ` +
  `${R.reference.S}x${R.reference.S} cells (the network alone). Tasks over 50 ms on the page's ` +
  `thread while the batch ran, per run: ${lt(b1)}${b4 ? `; at 4x throttling ${lt(b4)}` : ''}.`;
if (P.workers && Object.keys(P.workers).length) {
  md +=
    '\n\nWorkers (the page seeing 1, 2, 4 cores; it starts one Worker a core, up to 4): ' +
    Object.entries(P.workers)
      .map(([w, r]) => `${w}: ${s(r.bestMs)}`)
      .join(', ') +
    ` for ${n} cells.`;
}
console.log(md);
fs.writeFileSync(path.join(REPO, 'bench/out/page-table.md'), `${md}\n`);
if (write) {
  const BEGIN = '<!-- BEGIN PAGE TABLE (bench/tools/page_table.mjs) -->';
  const END = '<!-- END PAGE TABLE -->';
  for (const f of ['README.md', 'BENCHMARKS.md']) {
    const p = path.join(REPO, f);
    const text = fs.readFileSync(p, 'utf8');
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    if (a < 0 || b < a) {
      console.error(`${f}: no PAGE TABLE markers; not written`);
      continue;
    }
    const body = f === 'README.md' ? short : md;
    fs.writeFileSync(p, `${text.slice(0, a + BEGIN.length)}\n${body}\n${text.slice(b)}`);
    console.error(`${f}: table written`);
  }
}
