// cpu_by_thread.mjs -- where the CPU goes while the page (or its JS API) classifies a folder of
// images: the CPU time of every thread of every Chromium process of one fresh profile, read from
// /proc (Linux) before and after each run and summed by process type and thread name. A trace
// shows one thread's tasks; this shows what the browser process (file reads, IndexedDB), the
// renderer's thread pool (image decoding) and the Workers cost beside the page's own thread.
//
//   node web/serve.mjs build-wasm/site --port 8134 &
//   node bench/tools/cpu_by_thread.mjs http://127.0.0.1:8134/ DIR [page|api] [--runs 3]
//
// page: the files through the page's file input until every card is drawn and the batch is idle
// (as bench/page_time.mjs, the session cleared between runs); api: the same files as Blobs
// through MalariaClassifier.classify with every Worker busy (as bench/tools/api_throughput.mjs,
// after one warm-up run). Prints each run's wall time, then the CPU ms of each process:thread
// over all runs and the cores busy on average. The clock-tick resolution of /proc is 10 ms a
// thread: use batches of a second or more. Stop other work on the machine first: a job started
// from another shell takes its share of the cores even at nice 19 (BENCHMARKS.md).
import fs from 'node:fs';
import path from 'node:path';
import { launchFresh } from './browser.mjs';
import { listFiles } from '../page_time.mjs';
import { installApiRun } from './api_throughput.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i >= 0 ? args.splice(i, 2)[1] : d;
};
const runs = Number(opt('--runs', 3));
const [url, dir, mode = 'page'] = args;
if (!url || !dir || !['page', 'api'].includes(mode)) {
  console.error('usage: node bench/tools/cpu_by_thread.mjs URL DIR [page|api] [--runs N]');
  process.exit(2);
}
const files = listFiles(path.resolve(dir));
const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU ms so far of every thread of the Chromium processes of `profile`: Map tid -> {key, ms}. */
function sample(profile, browserPid) {
  const out = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    // the browser has the profile on its command line; its children are of the same process group
    const ours = cmd.includes(profile) || groupOf(pid) === browserPid;
    if (!ours) continue;
    const type = (cmd.match(/--type=([a-z-]+)/) || [null, 'browser'])[1];
    let tids;
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name
        out.set(`${pid}/${tid}`, {
          key: `${type}:${comm.replace(/\d+$/, '#')}`,
          ms: (Number(f[11]) + Number(f[12])) * TICK_MS,
        });
      } catch {
        /* the thread ended */
      }
    }
  }
  return out;
}

function groupOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]); // pgrp
  } catch {
    return -1;
  }
}

const { ctx, profile } = await launchFresh('cpu-by-thread-');
const browserPid = [...sample(profile, -2).keys()]
  .map((k) => Number(k.split('/')[0]))
  .map(groupOf)
  .find((g) => g > 0);
const total = new Map();
let wallMs = 0;
function add(before, after) {
  for (const [id, v] of after) {
    const d = v.ms - (before.get(id) ? before.get(id).ms : 0);
    if (d > 0) total.set(v.key, (total.get(v.key) || 0) + d);
  }
}
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  const open = async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.documentElement.dataset.engine === 'ready', null, {
      timeout: 120000,
    });
  };
  await open();
  if (mode === 'api') await installApiRun(page, files);
  for (let r = 0; r < runs; r++) {
    if (mode === 'page') {
      if (r) await open();
      const clear = page.locator('#clear-btn');
      if ((await clear.count()) && (await clear.isEnabled())) {
        page.once('dialog', (d) => d.accept());
        await clear.click();
        await page.waitForFunction(() => !document.querySelector('.card'), null, {
          timeout: 60000,
        });
      }
      await page.waitForTimeout(1000); // the page settles
    }
    const before = sample(profile, browserPid);
    let ms;
    if (mode === 'api') ms = await page.evaluate(() => window.__apiRun());
    else {
      const t0 = Date.now();
      await page.setInputFiles('#file-input', files);
      await page.waitForFunction(
        (n) =>
          document.documentElement.dataset.batch === 'idle' &&
          document.querySelectorAll(
            '.card[data-label], .card[data-class=error], .card[data-class=refused], .card[data-class=field]',
          ).length >= n,
        files.length,
        { timeout: 900000, polling: 50 },
      );
      ms = Date.now() - t0;
    }
    add(before, sample(profile, browserPid));
    wallMs += ms;
    console.log(`run ${r + 1}: ${ms.toFixed(0)} ms`);
  }
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
const rows = [...total].sort((a, b) => b[1] - a[1]);
const sum = rows.reduce((s, [, v]) => s + v, 0);
console.log(`${mode}, ${files.length} files x ${runs} runs: wall ${wallMs.toFixed(0)} ms; CPU ms:`);
for (const [k, v] of rows)
  if (v >= 2 * TICK_MS)
    console.log(`${String(v).padStart(7)}  ${((100 * v) / sum).toFixed(0).padStart(3)} %  ${k}`);
console.log(
  `${String(sum).padStart(7)}  total: ${(sum / files.length / runs).toFixed(2)} ms a file, ` +
    `${(sum / wallMs).toFixed(2)} cores busy on average`,
);
