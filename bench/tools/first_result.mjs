// first_result.mjs -- the page's first result after opening, alone (the `first` part of the page
// scenario, bench/page_scenario.mjs): a fresh profile, a first visit, then N repeat visits, one
// cut-out cell given in the page the moment it takes files. Serve the site first; to compare two
// builds, serve both on two ports and alternate the runs (the machine's load drifts).
//
//   node web/serve.mjs build-wasm/site --port 8134 &
//   node bench/tools/first_result.mjs http://127.0.0.1:8134/ CELL.png [--repeats 5] [--site DIR]
//
// Prints the first visit, every repeat visit and their median in ms. --site: the served folder
// (only for the bytes-before-the-first-result figure, which needs the files' sizes).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstResult } from '../page_scenario.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i >= 0 ? args.splice(i, 2)[1] : d;
};
const repeats = Number(opt('--repeats', 5));
const siteDir = path.resolve(opt('--site', path.join(REPO, 'build-wasm/site')));
const [url, cell] = args;
if (!url || !cell) {
  console.error('usage: node bench/tools/first_result.mjs URL CELL.png [--repeats N] [--site DIR]');
  process.exit(2);
}
const r = await firstResult({ url, cell, siteDir, repeats });
console.log(
  `${url} first visit ${r.firstVisitMs.toFixed(0)} ms; repeat visits ` +
    `${r.repeatVisitMs.map((x) => x.toFixed(0)).join(' ')} ms, median ${r.repeatMedianMs.toFixed(0)} ms`,
);
