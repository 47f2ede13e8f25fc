#!/usr/bin/env node
// The heat map through the JS API in headless Chromium, by hand (not part of ./run test):
// MalariaClassifier.explain() in a Worker (message 'explain') and inline, against the native
// CLI's --cam map of the same fixture cell; a non-cell image is refused; timings printed.
//   node tests/web/explain-browser.mjs [--build build-wasm] [--native build]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { REPO, siteInfo, findNativeCli } from './lib/harness.mjs';
import { decodePNG } from './lib/png.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const buildDir = path.resolve(REPO, opt('--build', 'build-wasm'));
const cli = findNativeCli(path.resolve(REPO, opt('--native', 'build')));
const { site, modelPath } = siteInfo(buildDir);
const CELL = path.join(
  REPO,
  'tests/fixtures/cells/Parasitized_C111P72ThinF_IMG_20150930_112609_cell_170.png',
);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-explain-'));
execFileSync(cli, ['--model', modelPath, '--cam', dir, CELL], { stdio: 'ignore' });
const native = JSON.parse(
  fs.readFileSync(path.join(dir, path.basename(CELL, '.png') + '.cam.json'), 'utf8'),
);
fs.rmSync(dir, { recursive: true, force: true });

const { chromium } = await import(
  pathToFileURL(path.join(REPO, 'node_modules/playwright-core/index.mjs')).href
);
const { startServer } = await import(pathToFileURL(path.join(REPO, 'web/serve.mjs')).href);
const srv = await startServer({ root: site, port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
let failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed++;
};
try {
  const page = await browser.newPage();
  await page.goto(srv.url + 'asset-manifest.json'); // any page of the site's origin
  const img = decodePNG(fs.readFileSync(CELL));
  const r = await page.evaluate(
    async ({ data, width, height }) => {
      const { MalariaClassifier } = await import('./malaria-classifier.js');
      const cell = new ImageData(new Uint8ClampedArray(data), width, height);
      const out = {};
      const c = await MalariaClassifier.create({ workers: 1 });
      const w = [];
      for (let i = 0; i < 3; i++) w.push(await c.explain(cell));
      out.worker = {
        map: Array.from(w[2].map),
        size: w[2].size,
        passes: w[2].passes,
        peak: w[2].peak,
        label: w[2].label,
        ms: w.map((h) => h.ms),
      };
      const flat = new ImageData(200, 200);
      flat.data.fill(255);
      try {
        await c.explain(flat);
        out.flat = 'no error';
      } catch (e) {
        out.flat = e.message;
      }
      const inline = await MalariaClassifier.create({ inline: true });
      const h = await inline.explain(cell);
      out.inline = { map: Array.from(h.map), ms: h.ms };
      c.dispose();
      inline.dispose();
      return out;
    },
    { data: Array.from(img.data), width: img.width, height: img.height },
  );
  const S = native.size;
  let top = 0,
    worst = 0,
    worstInline = 0;
  for (let i = 0; i < S * S; i++) {
    top = Math.max(top, Math.abs(native.map[i]));
    worst = Math.max(worst, Math.abs(r.worker.map[i] - native.map[i]));
    worstInline = Math.max(worstInline, Math.abs(r.inline.map[i] - r.worker.map[i]));
  }
  check(
    r.worker.size === S && r.worker.passes === native.passes,
    `size ${r.worker.size}, passes ${r.worker.passes} (native ${native.passes})`,
  );
  check(
    worst <= 1e-3 * top + 1e-5,
    `Worker map vs native: max |diff| ${worst.toExponential(2)} (largest |value| ${top.toFixed(3)})`,
  );
  check(worstInline === 0, `inline map equals the Worker's (max |diff| ${worstInline})`);
  check(
    Math.abs(r.worker.peak[0] - native.peak[0]) < 0.05 &&
      Math.abs(r.worker.peak[1] - native.peak[1]) < 0.05,
    `peak (${r.worker.peak.map((v) => v.toFixed(2))}) vs native (${native.peak})`,
  );
  check(
    /does not look like a single red-cell image/.test(r.flat),
    `a white square is refused: "${r.flat}"`,
  );
  console.log(
    `Chromium, 1 Worker: ${r.worker.ms.map((v) => v.toFixed(0)).join(', ')} ms (3 runs); ` +
      `inline ${r.inline.ms.toFixed(0)} ms; native CLI ${native.ms.toFixed(0)} ms`,
  );
} finally {
  await browser.close();
  await srv.close();
}
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
