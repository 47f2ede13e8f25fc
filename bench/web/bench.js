// Main-thread side of one benchmark scenario. bench.html?engine=ort&threads=1&mode=...&variant=f32
//   mode=cold     load the engine in a Worker, classify cell 0, report time since navigation
//   mode=latency  load, warm up, batch-1 latency runs, memory
//   mode=batch    load, throughput on a batch in one Worker (batch tensor for the peers)
//   mode=pool     load `workers` Workers (each single-threaded), split the batch between them;
//                 peers=tfjs,ort: those engines at 2 threads in the same page, their batch timed
//                 in the same rounds (alternating with the pool: the same machine state)
// Result (or {error}) lands in window.BENCH_RESULT; the driver polls it.
const q = new URLSearchParams(location.search);
const engine = q.get('engine');
const threads = Number(q.get('threads') || 1);
const mode = q.get('mode') || 'latency';
const model = q.get('model') || undefined;
const num = (k, d) => Number(q.get(k) || d);

class W {
  constructor(eng = engine) {
    this.w = new Worker(`worker.js?engine=${eng}`);
    this.n = 0;
    this.pending = new Map();
    this.w.onmessage = (e) => {
      const { id, result, error } = e.data;
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (error) p.reject(new Error(error));
      else p.resolve(result);
    };
    this.w.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(e.message || 'worker error'));
    };
  }
  call(cmd, args = {}, transfer = []) {
    const id = ++this.n;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, cmd, ...args }, transfer);
    });
  }
}

async function measureUA() {
  if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null;
  try {
    const r = await Promise.race([
      performance.measureUserAgentSpecificMemory(),
      new Promise((res) => setTimeout(() => res(null), 15000)),
    ]);
    return r ? r.bytes : null;
  } catch {
    return null;
  }
}

async function main() {
  const out = {
    engine,
    threads,
    mode,
    model: model || null,
    crossOriginIsolated: self.crossOriginIsolated,
  };
  if (mode === 'cold' || mode === 'latency' || mode === 'batch') {
    // The engine's Worker starts first, as a page would start its engine at once; the bench's
    // own inputs (reference logits, cells) load meanwhile and are not part of any engine's time.
    // pageMarks: ms since navigation start at each step, to see where a cold start goes.
    const marks = { script: performance.now() };
    const w = new W();
    marks.worker = performance.now();
    const refP = fetch('/assets/reference.json').then((r) => r.json());
    const cellsP = fetch('/assets/cells.rgba').then((r) => r.arrayBuffer());
    // the input spec from the URL (the driver puts it there): the load starts at once
    const spec = q.has('S')
      ? { S: num('S', 0), mean: JSON.parse(q.get('mean')), std: JSON.parse(q.get('std')) }
      : await refP;
    const ctx = { threads, S: spec.S, mean: spec.mean, std: spec.std, model };
    const loadP = w.call('load', ctx);
    const ref = await refP;
    marks.ref = performance.now();
    const ld = await loadP;
    marks.loaded = performance.now();
    const cells = await cellsP;
    await w.call('cells', { rgba: cells.slice(0) });
    marks.cells = performance.now();
    const first = await w.call('infer', { start: 0, count: 1 });
    out.firstResultMs = performance.now(); // since navigation start (timeOrigin)
    const nav = performance.getEntriesByType('navigation')[0];
    if (nav)
      for (const k of ['fetchStart', 'responseStart', 'responseEnd', 'domInteractive'])
        marks['nav.' + k] = nav[k];
    out.pageMarks = marks;
    out.loadMs = ld.ms;
    const off = ld.origin - performance.timeOrigin; // the Worker's clock, in the page's
    marks.workerOrigin = off;
    marks.workerScript = off + ld.script;
    marks.workerLoad = off + ld.loadAt;
    out.info = ld.info;
    out.firstInferMs = first.ms;
    out.logits0 = Array.from(first.logits);
    if (mode === 'latency') {
      const r = await w.call('latency', { warmup: num('warmup', 10), runs: num('runs', 50) });
      out.latencyMs = r.ms;
      out.logits0 = Array.from(r.logits);
    } else if (mode === 'batch') {
      const B = num('batch', ref.batch);
      const r = await w.call('batch', { count: B, warmup: 1, reps: num('reps', 3) });
      out.batch = B;
      out.batchMs = r.ms;
      out.logitsBatch = Array.from(r.logits);
    }
    out.mem = await w.call('mem');
    out.uaMemoryBytes = mode === 'cold' ? null : await measureUA();
  } else {
    await others(out);
  }
  return out;
}

// interleaved and pool: the inputs first, then the engines
async function others(out) {
  const ref = await (await fetch('/assets/reference.json')).json();
  const cells = await (await fetch('/assets/cells.rgba')).arrayBuffer();
  const ctx = { threads, S: ref.S, mean: ref.mean, std: ref.std, model };
  if (mode === 'interleaved') {
    // every configuration in its own Worker in this page, loaded once; then rounds in which each
    // configuration runs once, one after the other: a machine whose load drifts during the run
    // hits every engine alike. cfgs = id:engine:threads[:model],...
    const cfgs = q
      .get('cfgs')
      .split(',')
      .map((c) => {
        const [id, eng, t, ...m] = c.split(':');
        return { id, eng, threads: Number(t), model: m.length ? m.join(':') : undefined };
      });
    const failed = [];
    for (const c of cfgs.slice()) {
      // load one at a time (no overlap of loading and compiling)
      c.w = new W(c.eng);
      try {
        const ld = await c.w.call('load', { ...ctx, threads: c.threads, model: c.model });
        c.info = ld.info;
        await c.w.call('cells', { rgba: cells.slice(0) });
      } catch (e) {
        failed.push({ id: c.id, error: String(e.message || e).slice(0, 500) });
        c.w.w.terminate();
        cfgs.splice(cfgs.indexOf(c), 1);
      }
    }
    out.failed = failed;
    const B = num('batch', ref.batch);
    for (const c of cfgs) {
      c.lat = [];
      c.bat = [];
      for (let i = 0; i < num('warmup', 10); i++) await c.w.call('infer', { start: 0, count: 1 });
      await c.w.call('infer', { start: 0, count: B });
    }
    for (let r = 0; r < num('runs', 50); r++) {
      for (const c of cfgs) {
        const x = await c.w.call('infer', { start: 0, count: 1 });
        c.lat.push(x.ms);
        c.logits0 = Array.from(x.logits);
      }
    }
    for (let r = 0; r < num('reps', 3); r++) {
      for (const c of cfgs) {
        const x = await c.w.call('infer', { start: 0, count: B });
        c.bat.push(x.ms);
        c.logitsBatch = Array.from(x.logits);
      }
    }
    out.batch = B;
    out.configs = cfgs.map((c) => ({
      id: c.id,
      engine: c.eng,
      threads: c.threads,
      model: c.model || null,
      info: c.info,
      latencyMs: c.lat,
      batchMs: c.bat,
      logits0: c.logits0,
      logitsBatch: c.logitsBatch,
    }));
  } else if (mode === 'pool') {
    const n = num('workers', 2);
    const B = num('batch', ref.batch);
    const chunk = num('chunk', 8);
    const ws = Array.from({ length: n }, () => new W());
    await Promise.all(ws.map((w) => w.call('load', { ...ctx, threads: 1 })));
    await Promise.all(ws.map((w) => w.call('cells', { rgba: cells.slice(0) })));
    const peers = (q.get('peers') || '')
      .split(',')
      .filter(Boolean)
      .map((eng) => ({ eng, w: new W(eng) }));
    for (const p of peers) {
      // one at a time, after ours (no overlap of loading and compiling)
      await p.w.call('load', { ...ctx, threads: 2, model: undefined });
      await p.w.call('cells', { rgba: cells.slice(0) });
    }
    const per = Math.ceil(B / n);
    const part = (i) => ({ start: i * per, count: Math.min(per, B - i * per) });
    // requests of `chunk` cells (one pass of the engine each), two in flight per Worker so that
    // the next is already queued when one finishes: what the page's Workers get when the page
    // keeps a batch and two images in flight per Worker. Each Worker takes a contiguous share.
    const runOnce = () =>
      Promise.all(
        ws.map(async (w, i) => {
          const { start, count } = part(i);
          const logits = new Array(Math.ceil(count / chunk));
          let k = 0;
          const lane = async () => {
            for (let j = k++; j * chunk < count; j = k++) {
              logits[j] = (
                await w.call('infer', {
                  start: start + j * chunk,
                  count: Math.min(chunk, count - j * chunk),
                })
              ).logits;
            }
          };
          await Promise.all([lane(), lane()]);
          return logits.flatMap((l) => Array.from(l));
        }),
      );
    // warm-up: a fresh browser, so the engines' code starts in V8's baseline tier and tiers up
    // while the first batches run (on 2 cores the optimizing compiler competes with the two
    // Workers); the peers' 2-thread throughput is measured after many runs, so this is too.
    const pause = () => new Promise((res) => setTimeout(res, 100)); // let thread pools settle
    for (let r = 0; r < num('warmupBatches', 3); r++) {
      await runOnce();
      for (const p of peers) await p.w.call('infer', { start: 0, count: B });
    }
    const ms = [];
    let lg;
    for (const p of peers) p.ms = [];
    for (let r = 0; r < num('reps', 5); r++) {
      await pause();
      const t0 = performance.now();
      lg = await runOnce();
      ms.push(performance.now() - t0);
      for (const p of peers) {
        await pause();
        const x = await p.w.call('infer', { start: 0, count: B });
        p.ms.push(x.ms);
        p.logitsBatch = Array.from(x.logits);
      }
    }
    out.workers = n;
    out.chunk = chunk;
    out.batch = B;
    out.batchMs = ms;
    out.logitsBatch = lg.flat();
    out.peers = Object.fromEntries(
      peers.map((p) => [p.eng, { threads: 2, batchMs: p.ms, logitsBatch: p.logitsBatch }]),
    );
    const mems = await Promise.all(ws.map((w) => w.call('mem')));
    out.mem = { wasmBytes: mems.reduce((a, m) => a + m.wasmBytes, 0), memories: mems.length };
    out.uaMemoryBytes = await measureUA();
  }
  return out;
}

// report=1: no automation client is attached (driver.mjs starts Chromium on this URL by itself):
// the result goes to the server, and with chain=N the page then lingers and opens itself again
// (a repeat visit in the same tab) until N visits more are done.
function report(r) {
  window.BENCH_RESULT = r;
  if (!q.has('report')) return;
  const chain = num('chain', 0);
  fetch('/__result', { method: 'POST', body: JSON.stringify({ ...r, chain }) }).finally(() => {
    if (chain <= 0) return;
    const next = new URL(location.href);
    next.searchParams.set('chain', String(chain - 1));
    setTimeout(() => location.replace(next.href), num('linger', 3000));
  });
}
main().then(report, (e) => report({ error: String((e && e.stack) || e), engine, threads, mode }));
