// Benchmark worker (classic): hosts ONE engine, the way the page hosts ours in a Worker.
//   new Worker('worker.js?engine=ort|tfjs|ours')
// Messages in: {id, cmd, ...}; out: {id, result} or {id, error}.
//   load    {threads, S, mean, std, variant, model}  -> {ms, info}
//   cells   {rgba: ArrayBuffer (n images S x S RGBA)} -> {n}
//   infer   {start, count}                            -> {ms, logits: Float32Array}
//   latency {warmup, runs}                            -> {ms: [...], logits}
//   batch   {count, warmup, reps}                     -> {ms: [...], logits}
//   mem                                               -> {wasmBytes, memories}
'use strict';
const T_SCRIPT = performance.now(); // this script starts running (ms since the Worker's time origin)

// --- record every wasm memory the engine creates or exports (before any engine code runs)
const MEMS = [];
(() => {
  const W = WebAssembly;
  const Mem = W.Memory;
  function Memory(desc) {
    const m = new Mem(desc);
    MEMS.push(m);
    return m;
  }
  Memory.prototype = Mem.prototype;
  W.Memory = Memory;
  const grab = (r) => {
    const inst = r && (r.instance || r);
    if (inst && inst.exports) {
      for (const v of Object.values(inst.exports)) if (v instanceof Mem) MEMS.push(v);
    }
    return r;
  };
  const inst = W.instantiate.bind(W);
  W.instantiate = (...a) => inst(...a).then(grab);
  if (W.instantiateStreaming) {
    const st = W.instantiateStreaming.bind(W);
    W.instantiateStreaming = (...a) => st(...a).then(grab);
  }
  const I = W.Instance;
  function Instance(m, imp) {
    const i = new I(m, imp);
    grab(i);
    return i;
  }
  Instance.prototype = I.prototype;
  W.Instance = Instance;
})();

const ENGINE_NAME = new URL(self.location.href).searchParams.get('engine');
let ENGINE = null; // set by the adapter: {load(ctx) -> info, infer(rgba, count) -> Float32Array}
let CTX = null;
let CELLS = null;

function wasmBytes() {
  const seen = new Set();
  let total = 0;
  for (const m of MEMS) {
    const b = m.buffer;
    if (seen.has(b)) continue;
    seen.add(b);
    total += b.byteLength;
  }
  return { wasmBytes: total, memories: seen.size };
}

function slice(start, count) {
  const px = CTX.S * CTX.S * 4;
  const n = CELLS.length / px;
  if (start + count <= n) return CELLS.subarray(start * px, (start + count) * px);
  const out = new Uint8Array(count * px);
  for (let i = 0; i < count; i++)
    out.set(CELLS.subarray(((start + i) % n) * px, (((start + i) % n) + 1) * px), i * px);
  return out;
}

async function timed(start, count) {
  const x = slice(start, count);
  const t0 = performance.now();
  const logits = await ENGINE.infer(x, count);
  return { ms: performance.now() - t0, logits };
}

const COMMANDS = {
  async load(msg) {
    const t0 = performance.now();
    importScripts(`engine-${ENGINE_NAME}.js`);
    ENGINE = self.BENCH_ENGINE;
    CTX = msg;
    const info = await ENGINE.load(msg);
    // when this Worker's clock started (its creation), when its script ran, when load arrived:
    // the page turns them into ms since its own navigation
    return {
      ms: performance.now() - t0,
      info,
      origin: performance.timeOrigin,
      script: T_SCRIPT,
      loadAt: t0,
    };
  },
  cells(msg) {
    CELLS = new Uint8Array(msg.rgba);
    return { n: CELLS.length / (CTX.S * CTX.S * 4) };
  },
  infer(msg) {
    return timed(msg.start || 0, msg.count || 1);
  },
  async latency(msg) {
    for (let i = 0; i < msg.warmup; i++) await timed(0, 1);
    const ms = [];
    let logits;
    for (let i = 0; i < msg.runs; i++) {
      const r = await timed(0, 1);
      ms.push(r.ms);
      logits = r.logits;
    }
    return { ms, logits };
  },
  async batch(msg) {
    const start = msg.start || 0;
    for (let i = 0; i < msg.warmup; i++) await timed(start, msg.count);
    const ms = [];
    let logits;
    for (let i = 0; i < msg.reps; i++) {
      const r = await timed(start, msg.count);
      ms.push(r.ms);
      logits = r.logits;
    }
    return { ms, logits };
  },
  mem() {
    return wasmBytes();
  },
};

self.onmessage = async (ev) => {
  const { id, cmd } = ev.data;
  try {
    const result = await COMMANDS[cmd](ev.data);
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: String((e && e.stack) || e) });
  }
};
