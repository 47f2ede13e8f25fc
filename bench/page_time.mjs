// page_time.mjs -- the real page as a user opens it: a fresh profile opens the built site, waits
// until the engine is ready, gives every file of DIR to the file input (cut-out cells, whole
// fields, or both) and waits until every file has its card (a verdict, a field with its overlay
// drawn, or a refusal) and the batch is idle. Prints the times, cells per second and, for fields,
// red cells counted per second, and the main thread's long tasks (PerformanceObserver
// 'longtask': tasks over 50 ms) while the batch ran.
//
//   ./run serve &                  # or: node web/serve.mjs build-wasm/site --port 8080
//   node bench/page_time.mjs http://127.0.0.1:8080/ DIR [REPEATS] [--throttle 4] [--workers N]
//        [--trace FILE.json] [--json FILE.json]
//
// --throttle N: Chromium's CPU throttling (DevTools' "N x slowdown"), a stand-in for a cheap
// laptop. --workers N: the page sees navigator.hardwareConcurrency = N (it starts one classifier
// Worker per core, up to 4), to compare Worker counts on one machine. --trace FILE: a Chromium
// trace (DevTools' Performance panel can open it) of the last repeat's batch;
// `node bench/tools/trace_summary.mjs FILE` says where the main thread's time went.
// Needs playwright-core (npm ci) and /usr/bin/chromium. Also a module: `pageTime(options)`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchFresh } from './tools/browser.mjs';

const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'disabled-by-default-devtools.timeline.stack',
  'v8.execute',
  'blink.user_timing',
  'loading',
  'toplevel',
  'disabled-by-default-v8.cpu_profiler',
].join(',');

export function listFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Time the page on `files`. Returns {runs: [{ms, cells, counted, longTasks, longestTaskMs,
 * longTaskMs}], hardwareConcurrency, workers, throttle}.
 */
export async function pageTime({ url, files, reps = 2, throttle = 1, workers = 0, trace = null }) {
  const { ctx, profile } = await launchFresh('page-time-');
  try {
    await ctx.addInitScript(
      ({ workers }) => {
        if (workers)
          Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => workers });
        window.__longTasks = [];
        try {
          new PerformanceObserver((l) => {
            for (const e of l.getEntries())
              window.__longTasks.push({ start: e.startTime, ms: e.duration });
          }).observe({ type: 'longtask', buffered: true });
        } catch {
          /* no long-task timing in this browser */
        }
        // frames over 50 ms (Long Animation Frames): what ran in them, for a look at the long
        // tasks above (the script's invoker, e.g. an IndexedDB callback or a frame callback)
        window.__longFrames = [];
        try {
          new PerformanceObserver((l) => {
            for (const e of l.getEntries())
              window.__longFrames.push({
                start: e.startTime,
                ms: e.duration,
                renderMs: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
                scripts: e.scripts.map((x) => ({
                  invoker: x.invoker,
                  ms: Math.round(x.duration),
                  source: `${(x.sourceURL || '').split('/').pop()}@${x.sourceCharPosition}`,
                })),
              });
          }).observe({ type: 'long-animation-frame', buffered: true });
        } catch {
          /* no long-animation-frame timing in this browser */
        }
      },
      { workers },
    );
    const page = ctx.pages()[0] || (await ctx.newPage());
    const cdp = await ctx.newCDPSession(page);
    const runs = [];
    for (let r = 0; r < Number(reps); r++) {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      await page.goto(url);
      await page.waitForFunction(() => document.documentElement.dataset.engine === 'ready', null, {
        timeout: 300000,
      });
      const clear = page.locator('#clear-btn');
      if ((await clear.count()) && (await clear.isEnabled())) {
        page.once('dialog', (d) => d.accept());
        await clear.click();
        await page
          .waitForFunction(() => !document.querySelector('.card'), null, { timeout: 30000 })
          .catch(() => {});
      }
      await page.waitForTimeout(300); // the page settles (session, storage estimate)
      const tracing = trace && r === Number(reps) - 1;
      let chunks = null;
      if (tracing) {
        chunks = [];
        cdp.on('Tracing.dataCollected', (d) => chunks.push(...d.value));
        await cdp.send('Tracing.start', {
          categories: TRACE_CATEGORIES,
          transferMode: 'ReportEvents',
        });
      }
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
      const tStart = await page.evaluate(() => performance.now());
      const t0 = Date.now();
      await page.setInputFiles('#file-input', files);
      await page.waitForFunction(
        (n) => {
          if (document.documentElement.dataset.batch !== 'idle') return false; // cheap while it runs
          const done = document.querySelectorAll(
            '.card[data-label], .card[data-class=error], .card[data-class=refused], ' +
              '.card[data-class=field]',
          );
          const fields = document.querySelectorAll('.card[data-class=field]');
          const drawn = [...fields].every((c) => c.querySelector('svg polygon, svg path'));
          return done.length >= n && drawn;
        },
        files.length,
        { timeout: 900000, polling: 50 },
      );
      const ms = Date.now() - t0;
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      if (tracing) {
        const done = new Promise((res) => cdp.once('Tracing.tracingComplete', res));
        await cdp.send('Tracing.end');
        await done;
        fs.writeFileSync(trace, JSON.stringify({ traceEvents: chunks }));
      }
      const got = await page.evaluate((t) => {
        const lt = window.__longTasks.filter((e) => e.start >= t);
        const fields = [...document.querySelectorAll('.card[data-class=field]')];
        return {
          counted: fields.reduce((s, c) => s + Number(c.dataset.counted || 0), 0),
          cells: document.querySelectorAll('.card[data-label]').length,
          longTasks: lt.length,
          longestTaskMs: lt.reduce((m, e) => Math.max(m, e.ms), 0),
          longTaskMs: lt.reduce((s, e) => s + e.ms, 0),
          longFrames: window.__longFrames.filter((e) => e.start >= t),
          // before the batch: the page opening (reloaded, it reopens the last run's session)
          longFramesOpening: window.__longFrames.filter((e) => e.start < t),
        };
      }, tStart);
      runs.push({ ms, ...got });
    }
    const hc = await page.evaluate(() => navigator.hardwareConcurrency);
    return { runs, hardwareConcurrency: hc, workers: workers || null, throttle };
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// "N (longest M ms: invoker K ms, ...; render R ms)" of a run's long animation frames
function frames(list = []) {
  if (!list.length) return '0';
  const f = list.reduce((a, b) => (b.ms > a.ms ? b : a));
  const what = f.scripts.map((x) => `${x.invoker} ${x.ms} ms`).join(', ') || 'no script';
  return `${list.length} (longest ${f.ms.toFixed(0)} ms: ${what}; render ${f.renderMs.toFixed(0)} ms)`;
}

export function describe(res, nFiles) {
  const { runs, throttle, hardwareConcurrency: hc } = res;
  const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  const lt = runs
    .map((x) => `${x.longTasks}${x.longTasks ? ` (longest ${x.longestTaskMs.toFixed(0)} ms)` : ''}`)
    .join(', ');
  return (
    `page (${throttle}x CPU throttling, hardwareConcurrency ${hc}): ${nFiles} files in ` +
    `${runs.map((x) => `${(x.ms / 1000).toFixed(2)} s`).join(', ')}; best ${(best.ms / 1000).toFixed(2)} s: ` +
    `${best.cells} cut-out cells (${((best.cells / best.ms) * 1000).toFixed(0)}/s), ` +
    `${best.counted} red cells counted in fields (${((best.counted / best.ms) * 1000).toFixed(0)}/s); ` +
    `long tasks (> 50 ms) during the batch: ${lt}; ` +
    `frames over 50 ms, what ran in the longest: ${runs.map((x) => frames(x.longFrames)).join(', ')}; ` +
    `while the page opened: ${runs.map((x) => frames(x.longFramesOpening)).join(', ')}`
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (k, d) => {
    const i = args.indexOf(k);
    return i >= 0 ? args.splice(i, 2)[1] : d;
  };
  const throttle = Number(opt('--throttle', 1));
  const workers = Number(opt('--workers', 0));
  const trace = opt('--trace', null);
  const json = opt('--json', null);
  const [url, dir, reps = '2'] = args;
  if (!url || !dir) {
    console.error(
      'usage: node bench/page_time.mjs URL DIR [REPEATS] [--throttle N] [--workers N] [--trace FILE] [--json FILE]',
    );
    process.exit(2);
  }
  const files = listFiles(dir);
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const res = await pageTime({ url, files, reps: Number(reps), throttle, workers, trace });
  const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`${describe(res, files.length)} [load ${load} -> ${loadAfter}]`);
  if (json)
    fs.writeFileSync(
      json,
      JSON.stringify({ ...res, files: files.length, load, loadAfter }, null, 1),
    );
}
