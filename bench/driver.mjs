// Runs every benchmark scenario in headless Chromium (playwright-core, Debian's chromium) and
// writes bench/out/results.json.
//
//   node bench/driver.mjs [--only ort,tfjs,ours-f32,...] [--quick] [--port 8099]
//        [--scenarios peak,interleaved,latency,pool,cold,page]   (a subset while iterating; default all;
//        results then go to --out, default bench/out/results-partial-scenarios.json)
//        [--latency-threads 1,2]   (the latency scenario's thread counts; default 1)
//   BENCH_PEERS=tfjs,ort (default) | tfjs | '' : the peers timed in our pool's page (diagnostics:
//        '' shows our pool without them; the target compares with both)
//   BENCH_POOL_WORKERS=2 (default): Workers in the pool scenario (1: one Worker's share, to see
//        how two scale on this machine)
//   scenario `page` (bench/page_scenario.mjs): the built site as a user gets it (BENCH_SITE, default
//        build-wasm/site; BENCH_PAGE_CELLS cells, default 300), beside the peers' figures of the
//        same run (pool and cold scenarios)
//
// Each scenario gets a fresh browser with its own profile (disk HTTP cache), so the renderer's
// peak RSS (VmHWM) belongs to that scenario alone.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import url from 'node:url';
import zlib from 'node:zlib';
import { runPage } from './page_scenario.mjs';
import { QUIET_ARGS } from './tools/browser.mjs';

const HERE = path.dirname(url.fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
const ASSETS = path.join(OUT, 'assets');
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const QUICK = args.includes('--quick');
const PORT = Number(opt('--port', 8099));
const ORIGIN = `http://127.0.0.1:${PORT}`;
const CHROME =
  process.env.CHROMIUM ||
  (fs.existsSync('/usr/lib/chromium/chromium')
    ? '/usr/lib/chromium/chromium'
    : '/usr/bin/chromium');
const RUNS = QUICK ? 10 : Number(opt('--runs', 50));
const SEP_RUNS = QUICK ? 10 : 50;
const SEPARATE_ALL = args.includes('--separate-all');
// --latency-threads 1,2: the thread counts of the one-browser-per-scenario batch-1 runs (default 1;
// --separate-all: every thread count an engine has)
const LATENCY_THREADS = opt('--latency-threads', '1').split(',').map(Number);
const WARMUP = QUICK ? 3 : 30; // a fresh browser: V8 tiers the hot code up within ~30 runs
const REPS = QUICK ? 1 : 3;
const POOL_REPS = QUICK ? 1 : 5,
  POOL_WARMUP = QUICK ? 1 : 3; // pool: timed / warm-up batches
const COLD_REPEATS = Number(process.env.BENCH_COLD_REPEATS || (QUICK ? 2 : 9));
// A visit stays open this long after its first result before the next visit (a user does not
// leave within a second); V8 writes its wasm code cache a moment after the code tiers up.
const LINGER_MS = 3000;
const linger = () => new Promise((r) => setTimeout(r, LINGER_MS));
const TOL = 1e-3; // f32 logits: |a - b| <= TOL * max(1, |ref|)
const TOL_Q = 0.1; // int8 / f16 blobs: relative to the logit range, reported not hidden

// --- engines: peers and ours (one entry per model file of ours that exists)
const ENGINES = [
  { id: 'ort', engine: 'ort', label: 'onnxruntime-web (wasm)', dtype: 'f32', threads: [1, 2] },
  { id: 'tfjs', engine: 'tfjs', label: 'tfjs-backend-wasm', dtype: 'f32', threads: [1, 2] },
];
for (const dt of ['f32', 'f16', 'int8']) {
  if (
    fs.existsSync(path.join(ASSETS, 'ours', `model-${dt}.mcb`)) &&
    fs.existsSync(path.join(ASSETS, 'ours', 'malaria-simd.wasm'))
  ) {
    ENGINES.push({
      id: `ours-${dt}`,
      engine: 'ours',
      label: `ours (${dt})`,
      dtype: dt,
      threads: [1],
      model: `/assets/ours/model-${dt}.mcb`,
    });
  }
}
const only = opt('--only', null);
const SELECTED = only ? ENGINES.filter((e) => only.split(',').includes(e.id)) : ENGINES;
const SCEN = opt('--scenarios', null);
const want = (s) => !SCEN || SCEN.split(',').includes(s);

const ref = JSON.parse(fs.readFileSync(path.join(ASSETS, 'reference.json'), 'utf8'));

// --- server
function startServer() {
  const p = spawn(process.execPath, [path.join(HERE, 'server.mjs'), String(PORT)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SERVER_CHILD: '1' },
  });
  return new Promise((resolve, reject) => {
    p.stdout.once('data', () => resolve(p));
    p.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}
const serverLog = async (reset) => (await fetch(`${ORIGIN}/__log${reset ? '?reset' : ''}`)).json();

const gzCache = new Map();
function gzipSize(file) {
  if (!gzCache.has(file))
    gzCache.set(file, zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length);
  return gzCache.get(file);
}

// --- browser
function rendererPeakKiB(browserPid) {
  // VmHWM of every renderer below this browser; the scenario's page is the largest.
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args=']).toString().trim().split('\n');
  const procs = out.map((l) => {
    const m = l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/);
    return { pid: +m[1], ppid: +m[2], args: m[3] };
  });
  const kids = new Set([browserPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs)
      if (kids.has(p.ppid) && !kids.has(p.pid)) {
        kids.add(p.pid);
        grew = true;
      }
  }
  let best = 0;
  for (const p of procs) {
    if (!kids.has(p.pid) || !p.args.includes('--type=renderer')) continue;
    try {
      const m = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/);
      if (m) best = Math.max(best, +m[1]);
    } catch {
      /* gone */
    }
  }
  return best;
}

async function launch(profile) {
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROME,
    headless: true,
    args: [
      '--no-sandbox',
      '--disk-cache-size=2147483647',
      '--enable-blink-features=ForceEagerMeasureMemory',
      '--no-first-run',
      '--disable-extensions',
    ],
  });
  // the browser's pid: newest chromium process whose cmdline has this profile, without --type=
  const ps = execFileSync('ps', ['-e', '-o', 'pid=,args=']).toString().split('\n');
  const line = ps.find((l) => l.includes(profile) && !l.includes('--type=') && l.includes('chrom'));
  const pid = line ? Number(line.trim().split(/\s+/)[0]) : 0;
  return { ctx, pid };
}

// The input spec rides in the URL, so that the bench page can start the engine's load at once
// instead of waiting for its own reference file (a real page knows its model's input spec).
const INPUT_SPEC = { S: ref.S, mean: JSON.stringify(ref.mean), std: JSON.stringify(ref.std) };
async function scenario(page, query, timeoutMs = 600000) {
  await page.goto(`${ORIGIN}/bench.html?${new URLSearchParams({ ...INPUT_SPEC, ...query })}`);
  await page.waitForFunction(() => window.BENCH_RESULT !== undefined, null, {
    timeout: timeoutMs,
    polling: 50,
  });
  const r = await page.evaluate(() => window.BENCH_RESULT);
  if (r.error) throw new Error(`${JSON.stringify(query)}: ${r.error}`);
  return r;
}

function newProfile() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bench-chromium-'));
}

// Cold start with no automation client attached: Playwright's instrumentation of every new page
// and Worker (scripts injected into the page, each Worker held until the driver has set it up)
// costs tens of ms on this machine before any engine code runs, the same for every engine. Here
// Chromium is started by itself on the bench page (fresh profile); the page reports its result
// to the server (/__result) and, after lingering, opens itself again (chain): a first visit,
// then COLD_REPEATS repeat visits in the same tab.
async function unattendedCold(base) {
  const profile = newProfile();
  const url = `${ORIGIN}/bench.html?${new URLSearchParams({
    ...INPUT_SPEC,
    ...base,
    threads: 1,
    mode: 'cold',
    report: 1,
    chain: COLD_REPEATS,
    linger: LINGER_MS,
  })}`;
  await fetch(`${ORIGIN}/__result`); // drop anything left over
  const proc = spawn(
    CHROME,
    [
      '--headless',
      ...QUIET_ARGS,
      '--disable-extensions',
      '--disk-cache-size=2147483647',
      `--user-data-dir=${profile}`,
      url,
    ],
    { stdio: 'ignore' },
  );
  const got = [];
  try {
    const deadline = Date.now() + 60000 + COLD_REPEATS * (LINGER_MS + 10000);
    while (got.length < COLD_REPEATS + 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      got.push(...(await (await fetch(`${ORIGIN}/__result`)).json()));
    }
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill();
    await exited;
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      /* a helper process still writing: leave it */
    }
  }
  const bad = got.find((r) => r.error);
  if (bad) throw new Error(`unattended cold start: ${bad.error}`);
  if (got.length < COLD_REPEATS + 1)
    throw new Error(`unattended cold start: ${got.length} of ${COLD_REPEATS + 1} visits reported`);
  const repeat = got.slice(1).map((r) => r.firstResultMs);
  return {
    firstVisitMs: got[0].firstResultMs,
    repeatVisitMs: repeat,
    repeatMedianMs: median(repeat),
    repeatBreakdown: got.slice(1).map((r) => ({
      workerLoadMs: r.loadMs,
      firstInferMs: r.firstInferMs,
      phases: r.info && r.info.phases,
      pageMarks: r.pageMarks,
      firstResultMs: r.firstResultMs,
    })),
    logits0: got[0].logits0,
  };
}

async function fresh(query) {
  const profile = newProfile();
  const { ctx, pid } = await launch(profile);
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`  [console] ${m.text()}`);
    });
    const r = await scenario(page, query);
    r.rendererPeakKiB = rendererPeakKiB(pid);
    return r;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// --- statistics and checks
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

function compare(logits, refRows) {
  // max |a-b| and max |a-b| / max(1, |ref|) over all given rows
  let absd = 0,
    reld = 0,
    agree = 0;
  const k = refRows[0].length;
  refRows.forEach((row, i) => {
    let am = 0,
      bm = 0;
    row.forEach((v, j) => {
      const d = Math.abs(logits[i * k + j] - v);
      absd = Math.max(absd, d);
      reld = Math.max(reld, d / Math.max(1, Math.abs(v)));
      if (logits[i * k + j] > logits[i * k + am]) am = j;
      if (v > row[bm]) bm = j;
    });
    if (am === bm) agree++;
  });
  return {
    maxAbsDiff: absd,
    maxRelDiff: reld,
    labelAgreement: agree / refRows.length,
    n: refRows.length,
  };
}

function assetBytes(log) {
  const files = log.filter(
    (l) =>
      l.status === 200 &&
      l.file &&
      !/\/(reference\.json|cells\.rgba)$/.test(l.path) &&
      !/\/bench\.(html|js)$/.test(l.path) &&
      !/\/worker\.js$/.test(l.path),
  );
  const byPath = new Map();
  for (const l of files) byPath.set(l.path, l);
  const list = [...byPath.values()].map((l) => ({
    path: l.path,
    raw: l.bytes,
    gzip: gzipSize(l.file),
  }));
  return {
    raw: list.reduce((a, l) => a + l.raw, 0),
    gzip: list.reduce((a, l) => a + l.gzip, 0),
    requests: files.length,
    files: list,
  };
}

// --- scenarios
async function runEngine(E) {
  const res = {
    id: E.id,
    label: E.label,
    dtype: E.dtype,
    latency: {},
    batch: {},
    pool: null,
    cold: null,
  };
  const base = { engine: E.engine, ...(E.model ? { model: E.model } : {}) };
  const tol = E.dtype === 'f32' ? TOL : TOL_Q;
  const checks = [];
  const check = (what, logits, rows) => {
    const c = { what, ...compare(logits, rows) };
    c.ok = E.dtype === 'f32' ? c.maxRelDiff <= tol : c.labelAgreement === 1 || c.maxRelDiff <= tol;
    checks.push(c);
    if (!c.ok)
      console.log(
        `  !! ${E.id} ${what}: logits differ from PyTorch (max rel ${c.maxRelDiff.toExponential(2)})`,
      );
    return c;
  };
  // one browser per scenario: memory (wasm, RSS) and a latency cross-check at 1 thread; with
  // --separate-all also 2 threads and the batch runs (the interleaved run has those already)
  const sepThreads = !want('latency')
    ? []
    : SEPARATE_ALL
      ? E.threads
      : E.threads.filter((t) => LATENCY_THREADS.includes(t));
  for (const t of sepThreads) {
    console.log(`${E.id}: latency, ${t} thread(s)`);
    // (the headline latency is the interleaved run's; this one is for memory and a cross-check)
    const r = await fresh({ ...base, threads: t, mode: 'latency', runs: SEP_RUNS, warmup: WARMUP });
    const ms = r.latencyMs;
    res.latency[t] = {
      median: median(ms),
      p10: pct(ms, 0.1),
      p90: pct(ms, 0.9),
      min: Math.min(...ms),
      runs: ms.length,
      ms,
      loadMs: r.loadMs,
      wasmBytes: r.mem.wasmBytes,
      wasmMemories: r.mem.memories,
      uaMemoryBytes: r.uaMemoryBytes,
      rendererPeakKiB: r.rendererPeakKiB,
      info: r.info,
      crossOriginIsolated: r.crossOriginIsolated,
    };
    res.latency[t].check = check(`batch-1, ${t} thread(s)`, r.logits0, ref.logits.slice(0, 1));
    res.logits0 = r.logits0;
    console.log(
      `   median ${res.latency[t].median.toFixed(2)} ms, wasm ${(r.mem.wasmBytes / 2 ** 20).toFixed(1)} MiB, renderer peak ${(r.rendererPeakKiB / 1024).toFixed(0)} MiB`,
    );
  }
  for (const t of SEPARATE_ALL ? E.threads : []) {
    console.log(`${E.id}: batch ${ref.batch}, ${t} thread(s)`);
    const r = await fresh({ ...base, threads: t, mode: 'batch', reps: REPS });
    const m = median(r.batchMs);
    res.batch[t] = {
      batch: r.batch,
      medianMs: m,
      cellsPerS: (r.batch / m) * 1000,
      ms: r.batchMs,
      wasmBytes: r.mem.wasmBytes,
      uaMemoryBytes: r.uaMemoryBytes,
      rendererPeakKiB: r.rendererPeakKiB,
    };
    res.batch[t].check = check(
      `batch ${r.batch}, ${t} thread(s)`,
      r.logitsBatch,
      ref.logits.slice(0, r.batch),
    );
    console.log(`   ${res.batch[t].cellsPerS.toFixed(1)} cells/s`);
  }
  if (want('pool')) {
    // the peers' 2-thread batch in the same page, timed in the same rounds (alternating)
    const workers = Number(process.env.BENCH_POOL_WORKERS || 2);
    console.log(
      `${E.id}: pool of ${workers} Workers x 1 thread, batch ${ref.batch}` +
        (E.id.startsWith('ours') ? '; ort and tfjs at 2 threads alongside' : ''),
    );
    const r = await fresh({
      ...base,
      threads: 1,
      mode: 'pool',
      workers,
      reps: POOL_REPS,
      warmupBatches: POOL_WARMUP,
      ...(E.id.startsWith('ours') ? { peers: process.env.BENCH_PEERS ?? 'tfjs,ort' } : {}),
    });
    const m = median(r.batchMs);
    res.pool = {
      workers,
      chunk: r.chunk,
      batch: r.batch,
      medianMs: m,
      cellsPerS: (r.batch / m) * 1000,
      ms: r.batchMs,
      wasmBytes: r.mem.wasmBytes,
      uaMemoryBytes: r.uaMemoryBytes,
      rendererPeakKiB: r.rendererPeakKiB,
    };
    res.pool.check = check('pool of 2 Workers', r.logitsBatch, ref.logits.slice(0, r.batch));
    res.pool.peers2t = {};
    for (const [id, p] of Object.entries(r.peers || {})) {
      const pm = median(p.batchMs);
      res.pool.peers2t[id] = {
        threads: 2,
        medianMs: pm,
        cellsPerS: (r.batch / pm) * 1000,
        ms: p.batchMs,
        check: {
          what: `${id} 2 threads beside the pool`,
          ...compare(p.logitsBatch, ref.logits.slice(0, r.batch)),
        },
      };
      const c = res.pool.peers2t[id].check;
      c.ok = c.maxRelDiff <= TOL; // the peers run f32
      checks.push(c);
      if (!c.ok)
        console.log(
          `  !! ${id} beside the pool: logits differ from PyTorch (max rel ${c.maxRelDiff.toExponential(2)})`,
        );
    }
    console.log(
      `   ${res.pool.cellsPerS.toFixed(1)} cells/s` +
        (r.peers ? '; beside it at 2 threads: ' : '') +
        Object.entries(res.pool.peers2t)
          .map(([id, p]) => `${id} ${p.cellsPerS.toFixed(1)}`)
          .join(', '),
    );
  }
  if (want('cold')) {
    // cold start: first visit with an empty cache (bytes downloaded), then repeat visits in the
    // same profile with every asset in the HTTP (disk) cache; the engine's default thread count
    // (1 for ours and the peers: the page's setting).
    console.log(`${E.id}: cold start`);
    const profile = newProfile();
    const { ctx } = await launch(profile);
    try {
      const page = ctx.pages()[0] || (await ctx.newPage());
      await serverLog(true);
      const first = await scenario(page, { ...base, threads: 1, mode: 'cold' });
      const bytes = assetBytes(await serverLog(true));
      await linger();
      const repeat = [],
        breakdown = [];
      let netRepeat = null;
      await page.goto('about:blank');
      for (let i = 0; i < COLD_REPEATS; i++) {
        const p2 = await ctx.newPage();
        const r = await scenario(p2, { ...base, threads: 1, mode: 'cold' });
        repeat.push(r.firstResultMs);
        breakdown.push({
          workerLoadMs: r.loadMs,
          firstInferMs: r.firstInferMs,
          phases: r.info && r.info.phases,
          pageMarks: r.pageMarks,
          firstResultMs: r.firstResultMs,
        });
        const lg = await serverLog(true);
        await linger();
        netRepeat = lg.filter((l) => l.status === 200).reduce((a, l) => a + l.bytes, 0);
        await p2.close();
      }
      res.cold = {
        firstVisitMs: first.firstResultMs,
        repeatVisitMs: repeat,
        repeatMedianMs: median(repeat),
        cache:
          'HTTP disk cache (Cache-Control: max-age=31536000, immutable); ours: the model from its OPFS copy',
        bytesRepeatVisit: netRepeat,
        bytes,
        repeatBreakdown: breakdown,
        firstVisitBreakdown: {
          workerLoadMs: first.loadMs,
          firstInferMs: first.firstInferMs,
          phases: first.info && first.info.phases,
        },
      };
      res.cold.check = check('cold start, first result', first.logits0, ref.logits.slice(0, 1));
      res.cold.unattended = await unattendedCold(base);
      res.cold.unattended.check = check(
        'cold start with no automation attached',
        res.cold.unattended.logits0,
        ref.logits.slice(0, 1),
      );
      delete res.cold.unattended.logits0;
      console.log(
        `   no automation attached: first visit ${res.cold.unattended.firstVisitMs.toFixed(0)} ms, ` +
          `repeat median ${res.cold.unattended.repeatMedianMs.toFixed(0)} ms`,
      );
      console.log(
        `   repeat visits: worker load ${breakdown.map((x) => x.workerLoadMs.toFixed(0)).join(' ')} ms, first infer ${breakdown.map((x) => x.firstInferMs.toFixed(1)).join(' ')} ms`,
      );
      console.log(
        `   first visit ${first.firstResultMs.toFixed(0)} ms, repeat median ${res.cold.repeatMedianMs.toFixed(0)} ms, ` +
          `${(bytes.raw / 1e6).toFixed(2)} MB raw / ${(bytes.gzip / 1e6).toFixed(2)} MB gzip`,
      );
    } finally {
      await ctx.close();
      try {
        fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
      } catch {
        /* a helper process still writing: leave it */
      }
    }
  }
  res.checks = checks;
  res.checksOk = checks.every((c) => c.ok);
  return res;
}

async function runPeak() {
  if (!fs.existsSync(path.join(ASSETS, 'peak.wasm'))) return null;
  console.log('SIMD128 peak microbenchmark');
  const profile = newProfile();
  const { ctx } = await launch(profile);
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(`${ORIGIN}/peak.html`);
    await page.waitForFunction(() => window.PEAK_RESULT !== undefined, null, {
      timeout: 300000,
      polling: 100,
    });
    const r = await page.evaluate(() => window.PEAK_RESULT);
    if (r.error) throw new Error(r.error);
    console.log(
      `   f32x4 mul+add ${r.f32[1].toFixed(1)} GFLOP/s (1 worker), ${r.f32[2].toFixed(1)} (2 workers); ` +
        `i32x4.dot_i16x8_s ${r.dot[1].toFixed(1)} GOP/s (1), ${r.dot[2].toFixed(1)} (2)`,
    );
    return r;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function runInterleaved() {
  const cfgs = [];
  for (const E of SELECTED) for (const t of E.threads) cfgs.push({ E, t, id: `${E.id}@${t}` });
  if (!cfgs.length) return null;
  console.log(`interleaved: ${cfgs.map((c) => c.id).join(', ')}`);
  const spec = cfgs
    .map((c) => [c.id, c.E.engine, c.t, ...(c.E.model ? [c.E.model] : [])].join(':'))
    .join(',');
  const r = await fresh({
    mode: 'interleaved',
    cfgs: spec,
    runs: RUNS,
    warmup: WARMUP,
    reps: REPS,
  });
  const out = { batch: r.batch, configs: [], failed: r.failed || [] };
  for (const f of out.failed) console.log(`   !! ${f.id} failed to load: ${f.error}`);
  for (const c of r.configs) {
    const cf = cfgs.find((x) => x.id === c.id);
    const tol = cf.E.dtype === 'f32' ? TOL : TOL_Q;
    const k1 = compare(c.logits0, ref.logits.slice(0, 1));
    const kb = compare(c.logitsBatch, ref.logits.slice(0, r.batch));
    const ok = [k1, kb].every((k) =>
      cf.E.dtype === 'f32' ? k.maxRelDiff <= tol : k.labelAgreement === 1 || k.maxRelDiff <= tol,
    );
    const mb = median(c.batchMs);
    out.configs.push({
      id: c.id,
      engine: cf.E.id,
      label: cf.E.label,
      dtype: cf.E.dtype,
      threads: c.threads,
      info: c.info,
      median: median(c.latencyMs),
      p10: pct(c.latencyMs, 0.1),
      p90: pct(c.latencyMs, 0.9),
      min: Math.min(...c.latencyMs),
      runs: c.latencyMs.length,
      latencyMs: c.latencyMs,
      batchMs: c.batchMs,
      batchMedianMs: mb,
      cellsPerS: (r.batch / mb) * 1000,
      check: { batch1: k1, batch: kb, ok },
    });
    console.log(
      `   ${c.id}: median ${median(c.latencyMs).toFixed(2)} ms (p10 ${pct(c.latencyMs, 0.1).toFixed(2)}), ` +
        `batch ${((r.batch / mb) * 1000).toFixed(1)} cells/s${ok ? '' : ' !! logits differ'}`,
    );
  }
  return out;
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const server = await startServer();
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      server.kill();
      console.log(`driver: ${sig}, stopping`);
      process.exit(130);
    });
  }
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpu: (execFileSync('lscpu')
        .toString()
        .match(/Model name:\s*(.*)/) || [])[1],
      cores: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      loadBefore: os.loadavg(),
    },
    versions: {},
    reference: {
      S: ref.S,
      batch: ref.batch,
      flops: ref.flops,
      torch: ref.torch,
      weights: ref.weights,
    },
    settings: {
      runs: RUNS,
      separateRuns: SEP_RUNS,
      warmup: WARMUP,
      reps: REPS,
      poolReps: POOL_REPS,
      poolWarmup: POOL_WARMUP,
      coldRepeats: COLD_REPEATS,
      tolF32: TOL,
      quick: QUICK,
    },
    engines: [],
    peak: null,
  };
  try {
    const b = await chromium.launch({
      executablePath: CHROME,
      headless: true,
      args: ['--no-sandbox'],
    });
    results.versions.chromium = b.version();
    await b.close();
    const pkg = (p) =>
      JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', p, 'package.json'), 'utf8'))
        .version;
    results.versions['onnxruntime-web'] = pkg('onnxruntime-web');
    results.versions['@tensorflow/tfjs-core'] = pkg('@tensorflow/tfjs-core');
    results.versions['@tensorflow/tfjs-backend-wasm'] = pkg('@tensorflow/tfjs-backend-wasm');
    results.versions['playwright-core'] = pkg('playwright-core');
    results.versions.node = process.version;
    try {
      results.versions.ours = fs
        .readFileSync(path.join(ASSETS, 'ours', 'BUILD_INFO.txt'), 'utf8')
        .trim();
    } catch {
      /* none */
    }
    try {
      results.versions.emscripten = execFileSync('emcc', ['--version']).toString().split('\n')[0];
    } catch {
      /* none */
    }
    if (want('peak')) results.peak = await runPeak();
    try {
      if (want('interleaved')) results.interleaved = await runInterleaved();
    } catch (e) {
      console.log(`!! interleaved run failed: ${e.message}`);
      results.interleaved = { error: String(e.message).slice(0, 2000) };
    }
    if (want('page')) {
      // the page first: its figures and the peers' below come from the same run
      try {
        results.page = await runPage({
          site: process.env.BENCH_SITE || 'build-wasm/site',
          port: PORT + 1,
          quick: QUICK,
          cells: Number(process.env.BENCH_PAGE_CELLS || 300),
        });
      } catch (e) {
        console.log(`!! page scenario failed: ${e.message}`);
        results.page = { error: String(e.message).slice(0, 2000) };
      }
    }
    for (const E of SELECTED) {
      try {
        results.engines.push(await runEngine(E));
      } catch (e) {
        console.log(`!! ${E.id} failed: ${e.message}`);
        results.engines.push({
          id: E.id,
          label: E.label,
          dtype: E.dtype,
          error: String(e.message).slice(0, 2000),
        });
      }
      fs.writeFileSync(path.join(OUT, 'results.partial.json'), JSON.stringify(results, null, 1));
    }
    results.machine.loadAfter = os.loadavg();
    // cross-check: every peer against ours (f32), on the batch-1 input
    const ours = results.engines.find((e) => e.id === 'ours-f32' && e.logits0);
    for (const e of results.engines) {
      if (ours && e.logits0 && e !== ours) {
        e.vsOurs = compare(e.logits0, [ours.logits0]);
      }
    }
  } finally {
    server.kill();
  }
  const file = opt(
    '--out',
    path.join(OUT, SCEN ? 'results-partial-scenarios.json' : 'results.json'),
  );
  fs.writeFileSync(file, JSON.stringify(results, null, 1));
  console.log(`wrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
