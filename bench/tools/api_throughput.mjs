// api_throughput.mjs -- the JS API end to end, as shipped: MalariaClassifier.create() with its
// defaults (one Worker a core, up to 4) in a page of the site's origin, N cut-out cell PNG files
// as Blobs kept `inFlight` at a time (decoded in the Workers, classified, answered), best of
// REPEATS runs after one warm-up run. Cells a second, from the first classify() to the last answer.
//
//   node web/serve.mjs build-wasm/site --port 8134 &
//   node bench/tools/api_throughput.mjs http://127.0.0.1:8134/ DIR [REPEATS]
//   node bench/tools/api_throughput.mjs http://127.0.0.1:8134/ DIR --one   (one cell at a time:
//        the median ms from classify() to its answer, 50 runs after 30; apiBatch1 as a module)
// Also a module (bench/page_scenario.mjs): apiThroughput({url, files, reps}) ->
// {workers, inFlight, n, ms: [...], bestMs, cellsPerS}.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchFresh } from './browser.mjs';
import { listFiles } from '../page_time.mjs';

/**
 * Give `files` to the JS API in `page` (a page of the site, its engine ready) as PNG Blobs: makes
 * a classifier and `window.__apiRun()`, which classifies them all with every Worker busy (as
 * many in flight as the classifier takes) and resolves to the ms it took; runs it once (the
 * warm-up: every Worker started, V8's tiers up). `window.__apiClassifier` is the classifier.
 */
export async function installApiRun(page, files) {
  const b64s = files.map((f) => fs.readFileSync(f).toString('base64'));
  await page.evaluate(async (b64s) => {
    const { MalariaClassifier } = await import('./malaria-classifier.js');
    const c = await MalariaClassifier.create();
    const blobs = b64s.map(
      (b) => new Blob([Uint8Array.from(atob(b), (ch) => ch.charCodeAt(0))], { type: 'image/png' }),
    );
    window.__apiClassifier = c;
    // one file at a time (batch-1): the ms from classify() to its answer, for each of `n` files
    window.__apiOneByOne = async (n) => {
      const ms = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await c.classify(blobs[i % blobs.length]);
        ms.push(performance.now() - t0);
      }
      return ms;
    };
    window.__apiRun = async () => {
      let next = 0;
      const t0 = performance.now();
      const lane = async () => {
        while (next < blobs.length) await c.classify(blobs[next++]);
      };
      await Promise.all(Array.from({ length: c.inFlight }, lane));
      return performance.now() - t0;
    };
    await window.__apiRun();
  }, b64s);
}

/**
 * The JS API one cell at a time: `warmup` then `runs` classify() calls each awaited before the
 * next (decode to result, as an embedding page classifying one image gets it). Returns
 * {median, p10, p90, runs, ms}.
 */
/** Run fn(page) in a fresh browser on `url` (its engine ready) with installApiRun(page, files). */
async function withApiPage(url, files, fn) {
  const { ctx, profile } = await launchFresh('api-throughput-');
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(url);
    await page.waitForSelector('html[data-engine="ready"]', { timeout: 90000 });
    await installApiRun(page, files);
    const out = await fn(page);
    await page.evaluate(() => window.__apiClassifier.dispose());
    return out;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The JS API one cell at a time: `warmup` then `runs` classify() calls each awaited before the
 * next (decode to result, as an embedding page classifying one image gets it). Returns
 * {median, p10, p90, runs, ms}.
 */
export async function apiBatch1({ url, files, runs = 50, warmup = 30 }) {
  const ms = await withApiPage(url, files, async (page) => {
    await page.evaluate((n) => window.__apiOneByOne(n), warmup);
    return page.evaluate((n) => window.__apiOneByOne(n), runs);
  });
  const sorted = ms.slice().sort((a, b) => a - b);
  const q = (f) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), runs, ms };
}

export async function apiThroughput({ url, files, reps = 3 }) {
  const r = await withApiPage(url, files, async (page) => {
    const ms = [];
    for (let i = 0; i < reps; i++) ms.push(await page.evaluate(() => window.__apiRun()));
    const c = await page.evaluate(() => ({
      workers: window.__apiClassifier.concurrency,
      inFlight: window.__apiClassifier.inFlight,
    }));
    return { ...c, ms };
  });
  const bestMs = Math.min(...r.ms);
  return { ...r, n: files.length, bestMs, cellsPerS: (files.length / bestMs) * 1000 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const one = argv.includes('--one');
  const [url, dir, reps = '3'] = argv.filter((a) => a !== '--one');
  if (!url || !dir) {
    console.error('usage: node bench/tools/api_throughput.mjs URL DIR [REPEATS] [--one]');
    process.exit(2);
  }
  const files = listFiles(path.resolve(dir));
  if (one) {
    const r = await apiBatch1({ url, files });
    console.log(
      `one cell at a time through the JS API: median ${r.median.toFixed(2)} ms ` +
        `(p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)}, ${r.runs} runs after 30)`,
    );
  } else {
    const r = await apiThroughput({ url, files, reps: Number(reps) });
    console.log(
      `${r.n} PNG cells through the JS API (${r.workers} Workers, ${r.inFlight} in flight): ` +
        `best ${r.bestMs.toFixed(0)} ms, ${r.cellsPerS.toFixed(0)} cells/s; runs ${r.ms.map((x) => x.toFixed(0)).join(', ')} ms`,
    );
  }
}
