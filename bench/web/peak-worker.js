// SIMD128 peak: runs bench/simd/peak.c (peak.wasm) chains; see peak.html.
'use strict';
let X = null;
async function init() {
  const bytes = await (await fetch('/assets/peak.wasm')).arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, {
    wasi_snapshot_preview1: { proc_exit() {} },
    env: {},
  });
  X = instance.exports;
  X.init_buf();
  // tier up (V8 has no on-stack replacement for wasm: later calls get the optimized code)
  for (let i = 0; i < 50; i++) {
    X.f32_chains(20000, 0.9999999, 1e-7);
    X.dot_chains(20000, 3);
    X.f32_mem(20000, 1e-3);
    X.dot_mem(20000, 3);
  }
}
function rate(kind, seconds) {
  const f = {
    f32_reg: (n) => X.f32_chains(n, 0.9999999, 1e-7),
    dot_reg: (n) => X.dot_chains(n, 3),
    f32_mem: (n) => X.f32_mem(n, 1e-3),
    dot_mem: (n) => X.dot_mem(n, 3),
  }[kind];
  const opsPerRound = kind.startsWith('f32') ? 12 * 8 : 12 * 16;
  let n = 100000;
  for (;;) {
    // calibrate: one call ~ 50 ms
    const t0 = performance.now();
    f(n);
    const dt = performance.now() - t0;
    if (dt > 40) break;
    n *= 2;
  }
  let best = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    f(n);
    const dt = (performance.now() - t0) / 1000;
    best = Math.max(best, (n * opsPerRound) / dt / 1e9);
  }
  return best;
}
self.onmessage = async (e) => {
  if (e.data.cmd === 'init') {
    await init();
    self.postMessage({ ok: true });
    return;
  }
  self.postMessage({ gops: rate(e.data.kind, e.data.seconds || 2) });
};
