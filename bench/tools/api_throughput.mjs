// api_throughput.mjs -- the JS API end to end, as shipped: MalariaClassifier.create() with its
// defaults (one Worker a core, up to 4) in a page of the site's origin, N cut-out cell PNG files
// as Blobs kept `inFlight` at a time (decoded in the Workers, classified, answered), best of
// REPEATS runs after one warm-up run. Cells a second, from the first classify() to the last answer.
//
//   node web/serve.mjs build-wasm/site --port 8134 &
//   node bench/tools/api_throughput.mjs http://127.0.0.1:8134/ DIR [REPEATS]
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

export async function apiThroughput({ url, files, reps = 3 }) {
  const { ctx, profile } = await launchFresh('api-throughput-');
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(url);
    await page.waitForSelector('html[data-engine="ready"]', { timeout: 90000 });
    await installApiRun(page, files);
    const ms = [];
    for (let i = 0; i < reps; i++) ms.push(await page.evaluate(() => window.__apiRun()));
    const r = await page.evaluate(() => {
      const c = window.__apiClassifier;
      const out = { workers: c.concurrency, inFlight: c.inFlight };
      c.dispose();
      return out;
    });
    const bestMs = Math.min(...ms);
    return { ...r, n: files.length, ms, bestMs, cellsPerS: (files.length / bestMs) * 1000 };
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, dir, reps = '3'] = process.argv.slice(2);
  if (!url || !dir) {
    console.error('usage: node bench/tools/api_throughput.mjs URL DIR [REPEATS]');
    process.exit(2);
  }
  const r = await apiThroughput({ url, files: listFiles(path.resolve(dir)), reps: Number(reps) });
  console.log(
    `${r.n} PNG cells through the JS API (${r.workers} Workers, ${r.inFlight} in flight): ` +
      `best ${r.bestMs.toFixed(0)} ms, ${r.cellsPerS.toFixed(0)} cells/s; runs ${r.ms.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
}
