// Our engine: the SIMD128 module of web/ (build-wasm/web/modules/malaria-simd.{mjs,wasm}, copied
// to /assets/ours/ by bench/run.sh) through the C API of wasm/include/malaria.h, loaded the way
// web/engine.js and malaria-classifier.js load it for the page: the wasm compiled with
// WebAssembly.compileStreaming while it downloads (so V8 may cache its optimized code for the
// next visit) and, at the same time, the model read (from the page's local copy in the origin
// private file system when a visit before stored one, else fetched) and hashed once with
// WebCrypto (handed to mc_engine_create_adopt, so the core does not hash 11 MB in wasm, and
// reads the int8 weights that run as stored in place in the buffer it takes over). The
// page checks the model's whole-file sha256 against its asset manifest and then passes the
// preamble's payload digest (the same one hash); it also checks the wasm against the manifest
// (one more digest), which the bench leaves out for every engine alike. After the first result
// the model is stored as the local copy, as the page does (within the visit's linger).
// classify includes our preprocessing (RGBA -> normalized S x S input), as the peers' infer
// includes theirs.
'use strict';

const ERR = 512;

// web/engine.js readModelCopy / writeModelCopy, in a classic worker
async function opfsRead(name) {
  try {
    const dir = await navigator.storage.getDirectory();
    const fh = await dir.getFileHandle(name);
    const file = await fh.getFile();
    return file.size ? new Uint8Array(await file.arrayBuffer()) : null;
  } catch (e) { return null; }
}

self.BENCH_ENGINE = {
  async load(ctx) {
    this.ctx = ctx;
    const base = '/assets/ours/';
    const t0 = performance.now();
    const ph = {};   // when each step finished, ms since load() started (reported in info)
    const mark = (k) => (v) => { ph[k] = +(performance.now() - t0).toFixed(1); return v; };
    const modelUrl = ctx.model || base + 'model-f32.mcb';
    const name = 'bench-' + modelUrl.split('/').pop();   // one copy per blob (f32/f16/int8)
    let fromNet = false;
    const [{ default: factory }, wasm, [blob, digest]] = await Promise.all([
      import(base + 'malaria-simd.mjs').then(mark('glue')),
      WebAssembly.compileStreaming(fetch(base + 'malaria-simd.wasm')).then(mark('compiled')),
      opfsRead(name).then(async (b) => {
        if (!b) {
          fromNet = true;
          const r = await fetch(modelUrl);
          if (!r.ok) throw new Error(`model ${modelUrl}: HTTP ${r.status}`);
          b = new Uint8Array(await r.arrayBuffer());
        }
        mark('model')();
        return [b, new Uint8Array(await crypto.subtle.digest('SHA-256', b.subarray(64)))];
      }).then(mark('digest')),
    ]);
    const M = await factory({
      instantiateWasm: (imports, receive) => {
        WebAssembly.instantiate(wasm, imports).then((inst) => receive(inst, wasm));
        return {};
      },
      print: () => {}, printErr: () => {},
    });
    mark('instantiated')();
    this.M = M;
    const bytes = blob;
    const err = M._malloc(ERR);
    const p = M._malloc(bytes.length);
    const d = M._malloc(32);
    M.HEAPU8.fill(0, err, err + ERR);
    M.HEAPU8.set(bytes, p);
    M.HEAPU8.set(digest, d);
    this.e = M._mc_engine_create_adopt(p, bytes.length, d, err, ERR);   // takes over p
    M._free(d);
    mark('created')();
    if (!this.e) {
      let s = '';
      for (let i = err; M.HEAPU8[i]; i++) s += String.fromCharCode(M.HEAPU8[i]);
      throw new Error('model rejected: ' + s);
    }
    if (fromNet) {
      setTimeout(async () => {
        try {
          const dir = await navigator.storage.getDirectory();
          const fh = await dir.getFileHandle(name, { create: true });
          const w = await fh.createWritable();
          await w.write(bytes);
          await w.close();
        } catch (e) { /* no OPFS: fine */ }
      }, 100);
    }
    this.err = err;
    this.res = M._malloc(32);
    this.px = M._malloc(ctx.S * ctx.S * 4);
    return { S: M._mc_input_size(this.e), modelBytes: bytes.length, phases: ph,
             modelSource: fromNet ? 'network' : 'local copy' };
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
