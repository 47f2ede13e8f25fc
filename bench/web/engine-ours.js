// Our engine: the SIMD128 module of web/ (build-wasm/web/modules/malaria-simd.{mjs,wasm}, copied
// to /assets/ours/ by bench/run.sh) through the C API of wasm/include/malaria.h, loaded the way
// web/engine.js loads it (wasm bytes fetched, handed in as wasmBinary). classify includes our
// preprocessing (RGBA -> normalized S x S input), as the peers' infer includes theirs.
'use strict';

const ERR = 512;

self.BENCH_ENGINE = {
  async load(ctx) {
    this.ctx = ctx;
    const base = '/assets/ours/';
    const [{ default: factory }, wasm, blob] = await Promise.all([
      import(base + 'malaria-simd.mjs'),
      fetch(base + 'malaria-simd.wasm').then((r) => r.arrayBuffer()),
      fetch(ctx.model || base + 'model-f32.mcb').then((r) => {
        if (!r.ok) throw new Error(`model ${ctx.model}: HTTP ${r.status}`);
        return r.arrayBuffer();
      }),
    ]);
    const M = await factory({ wasmBinary: wasm, print: () => {}, printErr: () => {} });
    this.M = M;
    const bytes = new Uint8Array(blob);
    const err = M._malloc(ERR);
    const p = M._malloc(bytes.length);
    M.HEAPU8.fill(0, err, err + ERR);
    M.HEAPU8.set(bytes, p);
    this.e = M._mc_engine_create(p, bytes.length, err, ERR);
    M._free(p);
    if (!this.e) {
      let s = '';
      for (let i = err; M.HEAPU8[i]; i++) s += String.fromCharCode(M.HEAPU8[i]);
      throw new Error('model rejected: ' + s);
    }
    this.err = err;
    this.res = M._malloc(32);
    this.px = M._malloc(ctx.S * ctx.S * 4);
    return { S: M._mc_input_size(this.e), modelBytes: bytes.length };
  },
  async infer(rgba, count) {
    const { M, ctx } = this;
    const n = ctx.S * ctx.S * 4;
    const out = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      M.HEAPU8.set(rgba.subarray(i * n, (i + 1) * n), this.px);
      const rc = M._mc_classify_rgba(this.e, this.px, ctx.S, ctx.S, 4, this.res, this.err, ERR);
      if (rc !== 0) throw new Error('classify failed');
      out[2 * i] = M.HEAPF32[this.res >> 2];
      out[2 * i + 1] = M.HEAPF32[(this.res >> 2) + 1];
    }
    return out;
  },
};
