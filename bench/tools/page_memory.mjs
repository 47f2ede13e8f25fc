// page_memory.mjs -- how much a file makes the page's renderer grow: a fresh profile opens the
// site, waits for the engine, gives one file to the file input and waits until its card is done
// (a verdict, or a field with its overlay drawn); prints each renderer process's resident memory
// and its peak (VmRSS, VmHWM from /proc: Linux only) before and after. The page, its Workers and
// their wasm heaps live in one renderer process; the peak's growth is the most the file took.
//
//   node web/serve.mjs build-wasm/site --port 8134 &
//   node bench/tools/page_memory.mjs http://127.0.0.1:8134/ FILE
import fs from 'node:fs';
import { launchFresh } from './browser.mjs';

const [url, file] = process.argv.slice(2);
if (!url || !file) {
  console.error('usage: node bench/tools/page_memory.mjs URL FILE');
  process.exit(2);
}
const renderers = () =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer');
      } catch {
        return false;
      }
    });
const mb = (pid, key) => {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${key}:\\s+(\\d+)`));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
const others = new Set(renderers());
const { ctx, profile } = await launchFresh('page-memory-');
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  await page.goto(url);
  await page.waitForSelector('html[data-engine="ready"]', { timeout: 90000 });
  await page.waitForTimeout(1500); // the page settles
  const pids = renderers().filter((p) => !others.has(p));
  const before = pids.map((p) => [mb(p, 'VmRSS'), mb(p, 'VmHWM')]);
  await page.setInputFiles('#file-input', [file]);
  await page.waitForFunction(
    () =>
      document.documentElement.dataset.batch === 'idle' &&
      document.querySelector(
        '.card[data-label], .card[data-class=field] svg polygon, .card[data-class=error], .card[data-class=refused]',
      ),
    null,
    { timeout: 300000, polling: 50 },
  );
  pids.forEach((p, i) => {
    const [rss, peak] = [mb(p, 'VmRSS'), mb(p, 'VmHWM')];
    console.log(
      `renderer ${p}: resident ${before[i][0].toFixed(0)} -> ${rss.toFixed(0)} MB, ` +
        `peak ${before[i][1].toFixed(0)} -> ${peak.toFixed(0)} MB (+${(peak - before[i][1]).toFixed(0)})`,
    );
  });
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
