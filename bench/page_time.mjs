// page_time.mjs -- the real page as a user opens it: a fresh profile opens the built site, waits
// until the engine is ready, gives every file of DIR to the file input (cut-out cells, whole
// fields, or both) and waits until every file has its card (a verdict, a field with its overlay
// drawn, or a refusal) and the batch is idle. Prints the times, cells per second and, for fields,
// red cells counted per second.
//
//   ./run serve &                  # or: node web/serve.mjs build-wasm/site --port 8080
//   node bench/page_time.mjs http://127.0.0.1:8080/ DIR [REPEATS] [--throttle 4]
//
// --throttle N: Chromium's CPU throttling (DevTools' "N x slowdown"), a stand-in for a cheap
// laptop. Needs playwright-core (npm ci) and /usr/bin/chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = await import(path.join(REPO, 'node_modules/playwright-core/index.mjs'));
const args = process.argv.slice(2);
const ti = args.indexOf('--throttle');
const throttle = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 1;
const [url, dir, reps = '2'] = args;
if (!url || !dir) {
  console.error('usage: node bench/page_time.mjs URL DIR [REPEATS] [--throttle N]');
  process.exit(2);
}
const files = fs
  .readdirSync(dir)
  .filter((f) => !f.startsWith('.'))
  .sort()
  .map((f) => path.join(dir, f));

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'page-time-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1366, height: 768 },
});
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
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  const t0 = Date.now();
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction(
    (n) => {
      const done = document.querySelectorAll(
        '.card[data-label], .card[data-class=error], .card[data-class=refused], ' +
          '.card[data-class=field]',
      );
      const fields = document.querySelectorAll('.card[data-class=field]');
      const drawn = [...fields].every((c) => c.querySelector('svg polygon, svg path'));
      return done.length >= n && drawn && document.documentElement.dataset.batch === 'idle';
    },
    files.length,
    { timeout: 900000, polling: 50 },
  );
  const ms = Date.now() - t0;
  const counted = await page.$$eval('.card[data-class=field]', (cs) =>
    cs.reduce((s, c) => s + Number(c.dataset.counted || 0), 0),
  );
  const cards = await page.$$eval('.card[data-label]', (cs) => cs.length);
  runs.push({ ms, counted, cells: cards });
}
const hc = await page.evaluate(() => navigator.hardwareConcurrency);
await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
console.log(
  `page (${throttle}x CPU throttling, hardwareConcurrency ${hc}): ${files.length} files in ` +
    `${runs.map((x) => (x.ms / 1000).toFixed(2) + ' s').join(', ')}; best ${(best.ms / 1000).toFixed(2)} s: ` +
    `${best.cells} cut-out cells (${((best.cells / best.ms) * 1000).toFixed(0)}/s), ` +
    `${best.counted} red cells counted in fields (${((best.counted / best.ms) * 1000).toFixed(0)}/s)`,
);
