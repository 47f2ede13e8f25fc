// What V8 does with our wasm module at a (repeat) page load, in headless Chromium: which
// functions it compiles with Liftoff at their first call and how long that takes, which ones it
// then optimizes with TurboFan in the background (CPU that competes with the load on a small
// machine), and whether the module came out of V8's code cache. A diagnostic for the cold start
// (BENCHMARKS.md, "Cold start"), not a benchmark: the page runs the load on its main thread.
//
//   node bench/tools/wasm_startup.mjs MODULE_DIR MODEL.mcb [--visits 4] [--first-cells 50]
//        [--js-flags "--wasm-caching-timeout-ms=0"] [--linger-ms 3000] [--profile]
// --profile: a CPU profile of each visit (100 us samples), the functions with the most self time.
//
// MODULE_DIR holds malaria-simd.{mjs,wasm}; for function names, build it with a name section:
//   emcmake cmake -S . -B build-prof -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXE_LINKER_FLAGS=--profiling-funcs
//   cmake --build build-prof --target malaria-simd      # -> build-prof/web/modules
// Visit 1 classifies --first-cells cells (a session's work: what V8's tiering sees), every later
// visit 3; each visit lingers 3 s (as the bench's cold start does; --linger-ms) so that V8 may
// cache.
import { chromium } from 'playwright-core';
import http from 'node:http';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const [dir, model] = args.filter(
  (a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')),
);
if (!dir || !model) {
  console.error(
    'usage: node bench/tools/wasm_startup.mjs MODULE_DIR MODEL.mcb [--visits N] [--first-cells N] [--js-flags F]',
  );
  process.exit(2);
}
const VISITS = Number(opt('--visits', 4));
const FIRST = Number(opt('--first-cells', 50));
const LINGER = Number(opt('--linger-ms', 3000));
const PROFILE = args.includes('--profile'); // a CPU profile of each visit: where the load's time goes
const JSFLAGS = ['--trace-wasm-compilation-times', opt('--js-flags', '')].filter(Boolean).join(' ');
const CHROME =
  process.env.CHROMIUM ||
  (fs.existsSync('/usr/lib/chromium/chromium')
    ? '/usr/lib/chromium/chromium'
    : '/usr/bin/chromium');

// function index -> name, from the module's name section (if any)
function wasmNames(file) {
  const b = fs.readFileSync(file);
  let i = 8;
  const leb = () => {
    let r = 0,
      s = 0,
      x;
    do {
      x = b[i++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  const names = new Map();
  while (i < b.length) {
    const id = b[i++],
      n = leb(),
      end = i + n;
    if (id === 0) {
      const l = leb(),
        nm = b.subarray(i, i + l).toString();
      i += l;
      if (nm === 'name') {
        while (i < end) {
          const sub = b[i++],
            sl = leb(),
            se = i + sl;
          if (sub === 1) {
            for (let k = leb(); k > 0; k--) {
              const idx = leb(),
                ln = leb();
              names.set(idx, b.subarray(i, i + ln).toString());
              i += ln;
            }
          }
          i = se;
        }
      }
    }
    i = end;
  }
  return names;
}
const names = wasmNames(path.join(dir, 'malaria-simd.wasm'));

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
const q = new URLSearchParams(location.search), t0 = performance.now(), m = {};
const mark = (k) => { m[k] = +(performance.now() - t0).toFixed(1); };
const [{ default: factory }, { layoutOf }, wasm, bytes] = await Promise.all([
  import('./malaria-simd.mjs'), import('./web/engine.js'), WebAssembly.compileStreaming(fetch('malaria-simd.wasm')),
  fetch('model.mcb').then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b))]);
mark('loaded');
const M = await factory({ instantiateWasm: (imp, rcv) => { WebAssembly.instantiate(wasm, imp).then((i) => rcv(i, wasm)); return {}; }, print() {}, printErr() {} });
mark('instantiated');
const L = layoutOf(M).params;   // mc_engine_params: the blob taken over, its digest from the preamble
const err = M._malloc(512), p = M._malloc(bytes.length), d = M._malloc(32), par = M._malloc(L.size);
M.HEAPU8.fill(0, err, err + 512); M.HEAPU8.set(bytes, p); M.HEAPU8.copyWithin(d, p + 32, p + 64);
M.HEAPU8.fill(0, par, par + L.size);
M.HEAPU32[(par + L.blob) >> 2] = p; M.HEAPU32[(par + L.blob_len) >> 2] = bytes.length;
M.HEAPU32[(par + L.payload_sha256) >> 2] = d; M.HEAP32[(par + L.adopt) >> 2] = 1;
mark('copied');
const e = M._mc_engine_create(par, err, 512);
if (!e) throw new Error('model rejected');
mark('created');
const S = M._mc_input_size(e), px = M._malloc(S * S * 4), res = M._malloc(32);
for (let i = 0; i < Number(q.get('n')); i++) { M._mc_classify_rgba(e, px, S, S, 4, res, err, 512); if (i < 3) mark('classify' + i); }
window.DONE = m;
</script>`;
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const WEB = path.join(path.dirname(new URL(import.meta.url).pathname), '../../web'); // engine.js and its imports
const server = http
  .createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const file =
      p === '/model.mcb'
        ? model
        : p.startsWith('/web/')
          ? path.join(WEB, path.basename(p))
          : path.join(dir, path.basename(p));
    if (p === '/blank') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return res.end('<!doctype html>');
    }
    if (p === '/' || p === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return res.end(PAGE);
    }
    if (!fs.existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Cache-Control': 'max-age=31536000, immutable',
    });
    res.end(fs.readFileSync(file));
  })
  .listen(0);
const port = server.address().port;

// Chromium started here (its stdout carries V8's compile trace), driven over CDP
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-startup-'));
const lines = [];
const proc = spawn(
  CHROME,
  [
    '--headless',
    '--no-sandbox',
    '--no-first-run',
    '--disable-gpu',
    '--disable-quic',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--remote-debugging-port=0',
    `--js-flags=${JSFLAGS}`,
    'about:blank',
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let outBuf = '';
proc.stdout.on('data', (d) => {
  outBuf += d;
  const parts = outBuf.split('\n');
  outBuf = parts.pop();
  for (const l of parts) if (l.includes('Compiled function')) lines.push(l);
});
const wsUrl = await new Promise((resolve, reject) => {
  let errBuf = '';
  proc.stderr.on('data', (d) => {
    errBuf += d;
    const m = errBuf.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  proc.once('exit', (c) => reject(new Error(`chromium exited (${c}): ${errBuf.slice(-500)}`)));
});
const browser = await chromium.connectOverCDP(wsUrl);
const ctx = browser.contexts()[0];
try {
  for (let v = 1; v <= VISITS; v++) {
    lines.length = 0;
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    const events = [];
    cdp.on('Tracing.dataCollected', (ev) => events.push(...ev.value));
    const traced = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.start', {
      traceConfig: { includedCategories: ['v8.wasm', 'disabled-by-default-devtools.timeline'] },
      transferMode: 'ReportEvents',
    });
    if (PROFILE) {
      // same origin first, so that the profiled page stays in this renderer
      await page.goto(`http://127.0.0.1:${port}/blank`);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }
    await page.goto(`http://127.0.0.1:${port}/?n=${v === 1 ? FIRST : 3}`);
    await page.waitForFunction(() => window.DONE, null, { polling: 20, timeout: 120000 });
    const prof = PROFILE ? (await cdp.send('Profiler.stop')).profile : null;
    const marks = await page.evaluate(() => window.DONE);
    await new Promise((r) => setTimeout(r, LINGER));
    await cdp.send('Tracing.end');
    await traced;
    await page.close();
    const tiers = { Liftoff: { n: 0, ms: 0 }, TurboFan: { n: 0, ms: 0 } };
    const tf = new Map();
    for (const l of lines) {
      const m = l.match(/#(\d+) using (\w+), took (\d+) μs/);
      if (!m || !tiers[m[2]]) continue;
      const ms = Number(m[3]) / 1000;
      tiers[m[2]].n++;
      tiers[m[2]].ms += ms;
      if (m[2] === 'TurboFan') {
        const nm = (names.get(Number(m[1])) || `#${m[1]}`)
          .replace(/\(.*$/, '')
          .replace(/<.*>/, '<…>');
        tf.set(nm, (tf.get(nm) || 0) + ms);
      }
    }
    const count = (n) => events.filter((e) => e.name === n).length;
    console.log(`visit ${v}: ${JSON.stringify(marks)}`);
    console.log(
      `  Liftoff: ${tiers.Liftoff.n} functions, ${tiers.Liftoff.ms.toFixed(1)} ms (lazy, at first call, on the loading thread)`,
    );
    console.log(
      `  TurboFan: ${tiers.TurboFan.n} functions, ${tiers.TurboFan.ms.toFixed(1)} ms (background): ` +
        [...tf]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
          .join(', '),
    );
    if (prof) {
      // self time per function over the whole visit (100 us samples)
      const byId = new Map(prof.nodes.map((n) => [n.id, n]));
      const self = new Map();
      for (let i = 0; i < prof.samples.length; i++) {
        const n = byId.get(prof.samples[i]);
        const dt = (prof.timeDeltas[i + 1] || 0) / 1000;
        const cf = n.callFrame;
        const nm =
          (cf.functionName || '(anon)').replace(/<.*>/, '<…>').slice(0, 90) +
          (cf.url && !cf.url.includes('wasm') ? ' ' + cf.url.split('/').pop() : '');
        self.set(nm, (self.get(nm) || 0) + dt);
      }
      console.log(
        '  profile (self ms): ' +
          [...self]
            .filter(([k]) => k !== '(idle)' && k !== '(program)')
            .sort((a, b) => b[1] - a[1])
            .slice(0, 18)
            .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
            .join(', '),
      );
    }
    console.log(
      `  code cache: ${count('v8.wasm.moduleCacheHit') ? 'hit' : 'miss'}, module cached ${count('v8.wasm.cachedModule')} time(s) during the visit`,
    );
  }
} finally {
  await browser.close().catch(() => {});
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill();
  await exited;
  server.close();
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  } catch {
    /* a helper process still writing: leave it */
  }
}
