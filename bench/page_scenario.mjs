// page_scenario.mjs -- the page as a user gets it, for bench/driver.mjs (scenario `page`): the
// built site (build-wasm/site, served by web/serve.mjs as `./run serve` does), opened in a fresh
// Chromium profile:
//   batch    N cut-out cells through the file input until every card is drawn (bench/page_time.mjs),
//            at 1x and at 4x CPU throttling (DevTools' "4x slowdown", a stand-in for a cheap laptop)
//   field    one 1280x960 microscope field (IML) until its overlay is drawn, 1x and 4x
//   api      the JS API end to end as shipped: the N cells' PNG files as Blobs through
//            MalariaClassifier.create() with its defaults, `inFlight` at a time (decode to result)
//   count    a WHO-style count: 40 fields (the 32 IML dev fields, then the first 8 again under
//            other names, copied to bench/out/page-fields-40) until every overlay is drawn, 1x
//   workers  the batch with the page seeing 1, 2 and 4 cores (it starts one Worker a core, up to 4)
//   first    navigation start to the first result on the page (a cell given to the file input as
//            soon as the page takes files), first visit (empty cache) and repeat visits (the service
//            worker's cache and the model's local copy), and the bytes fetched before the first
//            result (raw, and gzip -9 of the same files: the peers' figure is gzip)
// The cells: the test split's slides (model/splits/test.txt) of ../shared/data/nih_cells, in
// manifest order, those the native CLI reads as a cell (the page refuses the others), copied to
// bench/out/page-cells-N.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchFresh } from './tools/browser.mjs';
import zlib from 'node:zlib';
import { pageTime, listFiles } from './page_time.mjs';
import { apiThroughput, apiBatch1 } from './tools/api_throughput.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const OUT = path.join(HERE, 'out');
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));

function findCli() {
  for (const d of ['bench/out/build-native', 'build']) {
    const dir = path.join(REPO, d);
    if (!fs.existsSync(dir)) continue;
    try {
      const f = execFileSync('find', [
        dir,
        '-name',
        'malaria-classify',
        '-type',
        'f',
        '-perm',
        '-u+x',
      ])
        .toString()
        .split('\n')[0];
      if (f) return f;
    } catch {
      /* none */
    }
  }
  return null;
}

/** A folder of n cut-out cells the cell gate accepts (made once, then reused). */
export function pageCells(n, data = path.join(REPO, '../shared/data/nih_cells')) {
  const dir = path.join(OUT, `page-cells-${n}`);
  if (fs.existsSync(dir) && listFiles(dir).length === n) return dir;
  const test = new Set(
    fs.readFileSync(path.join(REPO, 'model/splits/test.txt'), 'utf8').split(/\s+/).filter(Boolean),
  );
  const rows = fs
    .readFileSync(path.join(data, 'manifest.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((r) => test.has(r[3]))
    .map((r) => path.join(data, r[0], r[1]));
  const cli = findCli();
  const picked = [];
  for (let i = 0; picked.length < n && i < rows.length; i += 2 * n) {
    const part = rows.slice(i, i + 2 * n);
    if (!cli) {
      picked.push(...part);
      continue;
    }
    let out;
    try {
      out = execFileSync(cli, ['--mode', 'auto', '--format', 'jsonl', ...part], {
        maxBuffer: 1 << 26,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
    } catch (e) {
      // exit status 1: some image was refused (its line says why); the others' lines are there
      if (e.status !== 1 || !e.stdout) throw new Error(`${cli} failed: status ${e.status}`);
      out = e.stdout.toString();
    }
    const ok = new Set(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.mode === 'cell' && r.label)
        .map((r) => r.file),
    );
    picked.push(...part.filter((f) => ok.has(f)));
  }
  if (picked.length < n) throw new Error(`only ${picked.length} cells for the page scenario`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of picked.slice(0, n)) fs.copyFileSync(f, path.join(dir, path.basename(f)));
  return dir;
}

/**
 * First result after opening: navigation start to the first drawn verdict of the cell given to
 * the file input as soon as the page takes files (in the page, the moment it marks
 * <html data-engine>: no round trip to this script); first visit, then `repeats` repeat visits
 * in the same profile (each after the previous one lingered LINGER_MS, as a user does not leave
 * at once). Each visit's cell has its own name: the cards of earlier visits, restored from the
 * session, do not count.
 */
export async function firstResult({ url, cell, siteDir, repeats = 5, lingerMs = 3000 }) {
  const { ctx, profile } = await launchFresh('page-first-');
  try {
    // The visit's cell given to the file input once the page takes files, and the moment its
    // card gets a verdict, in the page's own clock (from navigation start). window.__firstFile
    // ({name, b64}) is set by the visit's own init script (they run in the order added).
    await ctx.addInitScript(() => {
      window.__firstResult = null;
      let given = false;
      new MutationObserver((_, obs) => {
        const want = window.__firstFile;
        const input = document.getElementById('file-input');
        if (!given && want && input && document.documentElement.dataset.engine) {
          given = true;
          const bytes = Uint8Array.from(atob(want.b64), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], want.name, { type: 'image/png' }));
          input.files = dt.files;
          input.dispatchEvent(new Event('change', { bubbles: true }));
        }
        const cards = given ? document.querySelectorAll('.card[data-label]') : [];
        if ([...cards].some((c) => c.dataset.name === want.name)) {
          window.__firstResult = performance.now();
          obs.disconnect();
        }
      }).observe(document, { subtree: true, childList: true, attributes: true });
    });
    let fetched = [];
    ctx.on('requestfinished', async (req) => {
      const at = Date.now();
      try {
        const s = await req.sizes();
        fetched.push({ url: req.url(), at, bytes: Math.max(0, s.responseBodySize) }); // -1: from a cache
      } catch {
        /* gone */
      }
    });
    const visits = [];
    let page = ctx.pages()[0] || (await ctx.newPage());
    for (let v = 0; v <= repeats; v++) {
      if (v > 0) {
        await page.close();
        page = await ctx.newPage();
      }
      const name = `first-visit-${v}.png`;
      await ctx.addInitScript(
        (f) => {
          window.__firstFile = f;
        },
        { name, b64: fs.readFileSync(cell).toString('base64') },
      );
      fetched = [];
      const t0 = Date.now();
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(() => window.__firstResult !== null, null, {
        timeout: 300000,
        polling: 'raf',
      });
      const ms = await page.evaluate(() => window.__firstResult);
      const tFirst = t0 + ms;
      const before = fetched.filter((f) => f.at <= tFirst + 50);
      const bytes = { raw: 0, gzip: 0, requests: before.length };
      for (const f of before) {
        bytes.raw += f.bytes;
        const p = decodeURIComponent(new URL(f.url).pathname).replace(/^\/+/, '') || 'index.html';
        const onDisk = path.join(siteDir, p);
        if (f.bytes > 0 && fs.existsSync(onDisk) && fs.statSync(onDisk).isFile())
          bytes.gzip += zlib.gzipSync(fs.readFileSync(onDisk), { level: 9 }).length;
        else bytes.gzip += f.bytes;
      }
      visits.push({ ms, bytes });
      await page.waitForTimeout(lingerMs);
    }
    const repeat = visits.slice(1).map((x) => x.ms);
    const s = [...repeat].sort((a, b) => a - b);
    return {
      firstVisitMs: visits[0].ms,
      bytesFirstVisit: visits[0].bytes,
      repeatVisitMs: repeat,
      repeatMedianMs: s.length ? s[Math.floor((s.length - 1) / 2)] : null,
      bytesRepeatVisit: visits.slice(1).map((x) => x.bytes),
    };
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** A folder of n IML dev fields: all of them, then again from the first under other names. */
export function pageFields(n, data = path.join(REPO, '../shared/data/iml_fields_dev/images')) {
  const dir = path.join(OUT, `page-fields-${n}`);
  if (fs.existsSync(dir) && listFiles(dir).length === n) return dir;
  const all = listFiles(data);
  if (!all.length) throw new Error(`no fields in ${data}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const f = all[i % all.length];
    const again = Math.floor(i / all.length);
    fs.copyFileSync(f, path.join(dir, `${again ? `again${again}-` : ''}${path.basename(f)}`));
  }
  return dir;
}

/** The whole page scenario; `quick`: fewer repeats. */
export async function runPage({ site, port, quick = false, cells = 300, log = console.log }) {
  const { startServer } = await import(path.join(REPO, 'web/serve.mjs'));
  const siteDir = path.resolve(REPO, site);
  const srv = await startServer({ root: siteDir, port });
  const url = `http://127.0.0.1:${port}/`;
  const reps = quick ? 1 : 3;
  const res = { site, url, cells, loadBefore: load(), batch: {}, field: {}, workers: {} };
  try {
    const cellDir = pageCells(cells);
    const files = listFiles(cellDir);
    const fieldDir = path.join(REPO, '../shared/data/iml_fields_dev/images');
    const field = listFiles(fieldDir)[0];
    res.fieldFile = path.relative(REPO, field);
    const brief = (r) => {
      const best = r.runs.reduce((a, b) => (b.ms < a.ms ? b : a));
      return {
        bestMs: best.ms,
        ms: r.runs.map((x) => x.ms),
        cells: best.cells,
        counted: best.counted,
        longTasks: r.runs.map((x) => x.longTasks),
        longestTaskMs: r.runs.map((x) => Math.round(x.longestTaskMs)),
        hardwareConcurrency: r.hardwareConcurrency,
      };
    };
    for (const throttle of [1, 4]) {
      log(`page: ${files.length} cells, ${throttle}x CPU throttling`);
      res.batch[throttle] = {
        ...brief(await pageTime({ url, files, reps, throttle })),
        load: load(),
      };
      const b = res.batch[throttle];
      log(
        `   best ${(b.bestMs / 1000).toFixed(2)} s (${((b.cells / b.bestMs) * 1000).toFixed(0)} cells/s); ` +
          `runs ${b.ms.map((m) => (m / 1000).toFixed(2)).join(', ')} s; long tasks ${b.longTasks.join(', ')}`,
      );
      log(`page: one field (${path.basename(field)}), ${throttle}x CPU throttling`);
      res.field[throttle] = {
        ...brief(await pageTime({ url, files: [field], reps, throttle })),
        load: load(),
      };
      const f = res.field[throttle];
      log(`   best ${(f.bestMs / 1000).toFixed(2)} s, ${f.counted} red cells counted`);
    }
    log(`page: the JS API, ${files.length} cells`);
    res.api = await apiThroughput({ url, files, reps: quick ? 1 : 3 });
    log(`   best ${res.api.bestMs.toFixed(0)} ms (${res.api.cellsPerS.toFixed(0)} cells/s)`);
    log('page: the JS API, one cell at a time (batch-1)');
    res.apiOne = await apiBatch1({ url, files, runs: quick ? 10 : 50, warmup: quick ? 3 : 30 });
    log(`   median ${res.apiOne.median.toFixed(2)} ms (p10 ${res.apiOne.p10.toFixed(2)})`);
    const fields = listFiles(pageFields(quick ? 8 : 40));
    log(`page: a count of ${fields.length} fields`);
    res.count = {
      ...brief(await pageTime({ url, files: fields, reps: 1 })),
      n: fields.length,
      load: load(),
    };
    log(
      `   ${(res.count.bestMs / 1000).toFixed(1)} s, ${res.count.counted} red cells counted ` +
        `(${((res.count.counted / res.count.bestMs) * 1000).toFixed(0)}/s)`,
    );
    for (const w of [1, 2, 4]) {
      log(`page: ${files.length} cells, the page seeing ${w} core(s)`);
      res.workers[w] = {
        ...brief(await pageTime({ url, files, reps: quick ? 1 : 2, workers: w })),
        load: load(),
      };
      log(`   best ${(res.workers[w].bestMs / 1000).toFixed(2)} s`);
    }
    log('page: first result after opening (first visit, repeat visits)');
    res.first = await firstResult({ url, cell: files[0], siteDir, repeats: quick ? 2 : 5 });
    log(
      `   first visit ${res.first.firstVisitMs.toFixed(0)} ms (${(res.first.bytesFirstVisit.raw / 1e6).toFixed(2)} MB, ` +
        `gzip ${(res.first.bytesFirstVisit.gzip / 1e6).toFixed(2)} MB), repeat median ${res.first.repeatMedianMs.toFixed(0)} ms`,
    );
  } finally {
    await srv.close();
  }
  res.loadAfter = load();
  return res;
}
