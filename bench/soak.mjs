// soak.mjs -- the page and the JS API under long and faulty work, run by hand (docs/SOAK.md):
//
//   ./run serve 8080 &                       # or: node web/serve.mjs build-wasm/site --port 8080
//   node bench/soak.mjs http://127.0.0.1:8080/ --cells DIR --fields DIR [--only NAME,...] [--scale F]
//
// DIR of cells: the NIH cell set's images (e.g. ../shared/data/nih_cells; both class folders are
// read); fields: any folder of smear fields (e.g. ../shared/data/chula_rbc_dev/images). Scenarios
// (all by default; --scale 0.1 runs a tenth of every count, for a quick try):
//   api      10,000 classifications through the JS API in a page of the site, renderer memory
//            (PSS of its processes) sampled every 1,000
//   page     10,000 cut-out cells through the page's file input (1,000 at a time), then 200
//            fields; memory sampled after each step; every file must get its card
//   folder   a 1,000-file folder with 5% bad files (truncated, text, empty, GIF, ...): 950
//            verdicts and 50 cards that name what is wrong
//   kill     1,000 cells with a Worker terminated at a third of the batch: every card a verdict
//   quota    the origin's storage quota cut to 1 MB while 500 cells run: every card shown, the
//            page says what happened
//   tabs     two tabs of the site, 500 cells each at once: both finish, nothing lost
//   offline  after a first visit the server goes away: a reload still classifies 100 cells
// Prints one line a scenario and writes bench/out/soak-<time>.json. Needs playwright-core (npm ci)
// and /usr/bin/chromium.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchFresh } from './tools/browser.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---- arguments and inputs -------------------------------------------------------------------
const argv = process.argv.slice(2);
const opt = (k, d) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv.splice(i, 2)[1] : d;
};
const abs = (p) => p && path.resolve(p);
const cellsDir = abs(opt('cells'));
const fieldsDir = abs(opt('fields'));
const only = (opt('only', '') || '').split(',').filter(Boolean);
const scale = Number(opt('scale', '1'));
const url = argv[0];
if (!url || !cellsDir || !fieldsDir) {
  console.error(
    'usage: node bench/soak.mjs URL --cells DIR --fields DIR [--only api,page,...] [--scale F]',
  );
  process.exit(2);
}
const n = (x) => Math.max(1, Math.round(x * scale));
const listImages = (dir) => {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listImages(p));
    else if (/\.(png|jpe?g|bmp)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
};
const allCells = listImages(cellsDir);
const allFields = listImages(fieldsDir);
if (allCells.length < 100 || !allFields.length)
  throw new Error(`too few images: ${allCells.length} cells, ${allFields.length} fields`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
/** A folder of `k` copies of `files` (cycled), named uniquely (copies: a folder input skips links). */
function linkFolder(name, files, k, prefix = '') {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < k; i++) {
    const src = files[i % files.length];
    fs.copyFileSync(
      src,
      path.join(dir, `${prefix}${String(i).padStart(5, '0')}-${path.basename(src)}`),
    );
  }
  return dir;
}
const filesOf = (dir) =>
  fs
    .readdirSync(dir)
    .sort()
    .map((f) => path.join(dir, f));
// a spread of cells over the whole set (both classes, many slides), not the first few
const spread = (k) =>
  Array.from(
    { length: Math.min(k, allCells.length) },
    (_, i) => allCells[Math.floor((i * allCells.length) / Math.min(k, allCells.length))],
  );

// ---- the browser ----------------------------------------------------------------------------
const results = {
  url,
  machine: `${os.cpus()[0].model}, ${os.cpus().length} cores`,
  node: process.version,
  scale,
  scenarios: {},
};
async function browser() {
  return launchFresh('profile-', ['--enable-precise-memory-info'], work);
}

/** PSS (MiB) of this run's Chromium renderer processes: the page's and its Workers' memory. */
function rendererMiB() {
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter(Boolean)
    .map(([, pid, ppid, args]) => ({ pid: +pid, ppid: +ppid, args }));
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    // descendants of this node process
    grew = false;
    for (const p of ps)
      if (mine.has(p.ppid) && !mine.has(p.pid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  let kb = 0;
  for (const p of ps) {
    if (!mine.has(p.pid) || !p.args.includes('--type=renderer')) continue;
    try {
      const m = fs.readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m);
      if (m) kb += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

async function openPage(ctx, u = url) {
  const page = await ctx.newPage();
  page.on('dialog', (d) => d.accept());
  await page.goto(u);
  await page.waitForFunction(() => document.documentElement.dataset.engine === 'ready', null, {
    timeout: 300000,
  });
  return page;
}
const cardCounts = (page) =>
  page.evaluate(() => ({
    all: document.querySelectorAll('.card').length,
    cells: document.querySelectorAll('.card[data-label]').length,
    fields: document.querySelectorAll('.card[data-class=field]').length,
    errors: document.querySelectorAll('.card[data-class=error], .card[data-class=refused]').length,
    pending: document.querySelectorAll('.card[data-class=pending]').length,
  }));
async function waitDone(page, total, timeout = 1800000) {
  await page.waitForFunction(
    (k) => {
      const done = document.querySelectorAll(
        '.card[data-label], .card[data-class=error], .card[data-class=refused], .card[data-class=field]',
      );
      return done.length >= k && document.documentElement.dataset.batch === 'idle';
    },
    total,
    { timeout, polling: 250 },
  );
}
async function clearPage(page) {
  const clear = page.locator('#clear-btn');
  if ((await clear.count()) && (await clear.isEnabled())) {
    await clear.click();
    await page
      .waitForFunction(() => !document.querySelector('.card'), null, { timeout: 60000 })
      .catch(() => {});
  }
}
const gc = async (page) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
  await cdp.detach();
};
/** Renderer memory growth per 1,000 items: least squares over the samples after the first `warm`. */
function slope(samples, warm = 1) {
  const s = samples.slice(warm);
  if (s.length < 2) return null;
  const mx = s.reduce((a, p) => a + p.items, 0) / s.length;
  const my = s.reduce((a, p) => a + p.mib, 0) / s.length;
  const num = s.reduce((a, p) => a + (p.items - mx) * (p.mib - my), 0);
  const den = s.reduce((a, p) => a + (p.items - mx) ** 2, 0);
  return den ? (1000 * num) / den : null;
}
const log = (name, line, data) => {
  console.log(`${name.padEnd(8)} ${line}`);
  results.scenarios[name] = data;
};

// ---- scenarios ------------------------------------------------------------------------------
const scenarios = {
  async api() {
    const { ctx } = await browser();
    try {
      const page = await openPage(ctx);
      const distinct = spread(500).map((f) => [...fs.readFileSync(f)]);
      await page.evaluate(async (bytes) => {
        const { MalariaClassifier } = await import('./malaria-classifier.js');
        window.__c = await MalariaClassifier.create();
        window.__blobs = bytes.map((b) => new Blob([new Uint8Array(b)], { type: 'image/png' }));
      }, distinct);
      const total = n(10000),
        step = Math.max(1, Math.round(total / 10));
      const samples = [];
      let errors = 0;
      const t0 = Date.now();
      for (let done = 0; done < total; done += step) {
        errors += await page.evaluate(
          async ([from, k]) => {
            const c = window.__c,
              b = window.__blobs;
            const rs = await Promise.allSettled(
              Array.from({ length: k }, (_, i) =>
                c.classify(b[(from + i) % b.length], { mode: 'cell' }),
              ),
            );
            return rs.filter((r) => r.status === 'rejected').length; // the cell gate's refusals among them
          },
          [done, Math.min(step, total - done)],
        );
        await gc(page);
        samples.push({ items: Math.min(total, done + step), mib: +rendererMiB().toFixed(1) });
      }
      const s = slope(samples);
      log(
        'api',
        `${total} classifications in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${errors} refused (the cell gate); renderer ${samples[0].mib} -> ${samples.at(-1).mib} MiB, ${s === null ? '-' : s.toFixed(2)} MiB per 1,000 after the first ${step}`,
        { total, errors, ms: Date.now() - t0, samples, mibPer1000: s },
      );
    } finally {
      await ctx.close();
    }
  },

  async page() {
    const { ctx } = await browser();
    try {
      const page = await openPage(ctx);
      const total = n(10000),
        step = Math.max(1, Math.round(total / 10));
      const dir = linkFolder('page-cells', spread(total), total);
      const files = filesOf(dir);
      const samples = [];
      const t0 = Date.now();
      for (let done = 0; done < total; done += step) {
        await page.setInputFiles('#file-input', files.slice(done, done + step));
        await waitDone(page, Math.min(total, done + step));
        await gc(page);
        samples.push({ items: Math.min(total, done + step), mib: +rendererMiB().toFixed(1) });
      }
      const cellMs = Date.now() - t0;
      const afterCells = await cardCounts(page);
      const nf = n(200);
      const fdir = linkFolder('page-fields', allFields, nf, 'field-');
      const t1 = Date.now();
      await page.setInputFiles('#file-input', filesOf(fdir));
      await waitDone(page, total + nf);
      const fieldMs = Date.now() - t1;
      await gc(page);
      samples.push({ items: total + nf, mib: +rendererMiB().toFixed(1), fields: nf });
      const counts = await cardCounts(page);
      const lost = total + nf - (counts.cells + counts.fields + counts.errors);
      await clearPage(page);
      await gc(page);
      const cleared = +rendererMiB().toFixed(1);
      const s = slope(samples.slice(0, -1));
      log(
        'page',
        `${total} cells in ${(cellMs / 1000).toFixed(1)} s (${((total / cellMs) * 1000).toFixed(0)}/s), ${nf} fields in ${(fieldMs / 1000).toFixed(1)} s; cards: ${afterCells.cells} cells, ${counts.fields} fields, ${counts.errors} errors, ${lost} lost; renderer ${samples[0].mib} -> ${samples.at(-2).mib} MiB over the cells (${s === null ? '-' : s.toFixed(2)} MiB per 1,000 cards kept), ${samples.at(-1).mib} with the fields, ${cleared} after Clear`,
        {
          total,
          fields: nf,
          cellMs,
          fieldMs,
          counts,
          lost,
          samples,
          mibPer1000: s,
          afterClearMiB: cleared,
        },
      );
    } finally {
      await ctx.close();
    }
  },

  async folder() {
    const { ctx } = await browser();
    try {
      const page = await openPage(ctx);
      const total = n(1000),
        bad = Math.max(1, Math.round(total * 0.05));
      const dir = linkFolder('folder', spread(total - bad), total - bad);
      const policy = path.join(REPO, 'tests/fixtures/policy');
      const kinds = [
        'cell_truncated.png',
        'cell_truncated.jpg',
        'notes.png',
        'empty.png',
        'cell.gif',
        'cell_cmyk.jpg',
        'cell_apng.png',
        'cell.tiff',
        'cell.pdf',
        'cell_gray.png',
      ];
      for (let i = 0; i < bad; i++) {
        const k = kinds[i % kinds.length];
        fs.copyFileSync(
          path.join(policy, k),
          path.join(dir, `bad-${String(i).padStart(3, '0')}-${k}`),
        );
      }
      const t0 = Date.now();
      await page.setInputFiles('#folder-input', dir);
      await waitDone(page, total);
      const counts = await cardCounts(page);
      const named = await page.$$eval(
        '.card[data-class=error], .card[data-class=refused]',
        (cs) => cs.filter((c) => (c.querySelector('.card-error') || {}).textContent).length,
      );
      log(
        'folder',
        `${total} files (${bad} bad) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${counts.cells} verdicts, ${counts.errors} cards with an error (${named} with a message), ${total - counts.cells - counts.errors} lost`,
        { total, bad, counts, named, ms: Date.now() - t0 },
      );
    } finally {
      await ctx.close();
    }
  },

  async kill() {
    const { ctx } = await browser();
    try {
      await ctx.addInitScript(() => {
        const W = window.Worker;
        window.__workers = [];
        window.Worker = class extends W {
          constructor(...a) {
            super(...a);
            window.__workers.push(this);
          }
        };
      });
      const page = await openPage(ctx);
      const total = n(1000);
      const dir = linkFolder('kill', spread(total), total);
      const t0 = Date.now();
      await page.setInputFiles('#file-input', filesOf(dir));
      await page.waitForFunction(
        (k) => document.querySelectorAll('.card[data-label]').length >= k,
        Math.round(total / 3),
        { timeout: 600000, polling: 50 },
      );
      const at = (await cardCounts(page)).cells;
      await page.evaluate(() => {
        const w = window.__workers[0];
        w.terminate();
        w.dispatchEvent(new ErrorEvent('error', { message: 'killed by the soak' }));
      });
      await waitDone(page, total);
      const counts = await cardCounts(page);
      const notice = await page.textContent('#worker-notice-text').catch(() => '');
      log(
        'kill',
        `${total} cells, a Worker killed at ${at}: ${counts.cells} verdicts, ${counts.errors} errors, ${total - counts.cells - counts.errors} lost in ${((Date.now() - t0) / 1000).toFixed(1)} s; notice: "${notice.trim()}"`,
        { total, killedAt: at, counts, notice },
      );
    } finally {
      await ctx.close();
    }
  },

  async quota() {
    const { ctx } = await browser();
    try {
      // the quota is cut before the page opens its storage (an override made later is not seen)
      const blank = await ctx.newPage();
      const cdp = await ctx.newCDPSession(blank);
      const origin = new URL(url).origin;
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1 << 20 });
      const page = await openPage(ctx);
      const total = n(500);
      const dir = linkFolder('quota', spread(total), total);
      const t0 = Date.now();
      await page.setInputFiles('#file-input', filesOf(dir));
      await waitDone(page, total);
      const counts = await cardCounts(page);
      const said = await page.evaluate(() =>
        [...document.querySelectorAll('#alert, [role=status], [role=alert], .notice, #status')]
          .map((e) => e.textContent.trim())
          .filter((t) => /storage|quota|space|saved/i.test(t))
          .join(' | '),
      );
      const est = await page.evaluate(() => navigator.storage.estimate());
      await cdp.send('Storage.overrideQuotaForOrigin', { origin }).catch(() => {});
      log(
        'quota',
        `${total} cells with a 1 MB quota: ${counts.cells} verdicts, ${counts.errors} errors, ${total - counts.cells - counts.errors} lost in ${((Date.now() - t0) / 1000).toFixed(1)} s; storage ${(est.usage / 1048576).toFixed(2)} of ${(est.quota / 1048576).toFixed(2)} MiB; the page says: "${said || '(nothing about storage)'}"`,
        { total, counts, said, estimate: est },
      );
    } finally {
      await ctx.close();
    }
  },

  async tabs() {
    const { ctx } = await browser();
    try {
      const [a, b] = [await openPage(ctx), await openPage(ctx)];
      const total = n(500);
      const da = linkFolder(
        'tab-a',
        spread(2 * total).filter((_, i) => i % 2 === 0),
        total,
        'a-',
      );
      const db = linkFolder(
        'tab-b',
        spread(2 * total).filter((_, i) => i % 2 === 1),
        total,
        'b-',
      );
      const t0 = Date.now();
      await Promise.all([
        a.setInputFiles('#file-input', filesOf(da)),
        b.setInputFiles('#file-input', filesOf(db)),
      ]);
      await Promise.all([waitDone(a, total), waitDone(b, total)]);
      const ca = await cardCounts(a),
        cb = await cardCounts(b);
      await a.reload();
      await a.waitForFunction(() => document.documentElement.dataset.engine === 'ready', null, {
        timeout: 300000,
      });
      await a.waitForTimeout(2000);
      const restored = await cardCounts(a);
      log(
        'tabs',
        `two tabs, ${total} cells each, in ${((Date.now() - t0) / 1000).toFixed(1)} s: A ${ca.cells} verdicts, B ${cb.cells}; tab A reloaded shows ${restored.all} cards`,
        { total, a: ca, b: cb, restored },
      );
    } finally {
      await ctx.close();
    }
  },

  async offline() {
    const { ctx } = await browser();
    try {
      const page = await openPage(ctx);
      await page
        .waitForFunction(
          () => navigator.serviceWorker && navigator.serviceWorker.controller,
          null,
          { timeout: 60000 },
        )
        .catch(() => page.reload());
      await ctx.setOffline(true);
      await page.reload();
      await page.waitForFunction(() => document.documentElement.dataset.engine === 'ready', null, {
        timeout: 300000,
      });
      const total = n(100);
      const dir = linkFolder('offline', spread(total), total);
      await page.setInputFiles('#file-input', filesOf(dir));
      await waitDone(page, total);
      const counts = await cardCounts(page);
      log(
        'offline',
        `network off after the first visit: reloaded, ${counts.cells} of ${total} cells classified`,
        { total, counts },
      );
    } finally {
      await ctx.close();
    }
  },
};

for (const [name, run] of Object.entries(scenarios)) {
  if (only.length && !only.includes(name)) continue;
  try {
    await run();
  } catch (e) {
    log(name, `FAILED: ${e.message.split('\n')[0]}`, { error: e.message });
  }
}
const out = path.join(REPO, 'bench/out');
fs.mkdirSync(out, { recursive: true });
const file = path.join(
  out,
  `soak-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}.json`,
);
fs.writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
console.log(`written: ${path.relative(REPO, file)}`);
fs.rmSync(work, { recursive: true, force: true });
