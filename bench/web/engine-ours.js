// Our engine: the SIMD128 module of web/ (build-wasm/web/modules/malaria-simd.{mjs,wasm}, copied
// to /assets/ours/ by bench/run.sh) through the C API of wasm/include/malaria.h, loaded the way
// web/classifier-worker.js loads it for the page: the wasm compiled with
// WebAssembly.compileStreaming while it downloads and, at the same time, the model's local copy
// in the origin private file system opened (a visit before stored it); once the instance exists
// the copy is read straight into the wasm heap (a sync access handle), hashed with WebCrypto off
// this thread while mc_engine_create_adopt builds the engine from it (reading the int8 weights
// that run as stored in place), and the engine is kept only if the hash matches. The page checks
// the whole file against its asset manifest's sha256, the bench the payload against the
// preamble's (no manifest here): one SHA-256 either way. The page also checks the wasm against
// the manifest (one more digest), which the bench leaves out for every engine alike. On a first
// visit the model is fetched and, after the first result, stored as the local copy.
// classify includes our preprocessing (RGBA -> normalized S x S input), as the peers' infer
// includes theirs. Several cells go through mc_classify_batch_rgba, up to the engine's batch
// capacity per pass (8 for int8), as the page's Worker classifies the images waiting for it;
// the peers get a batch tensor.
'use strict';

const ERR = 512;

// web/engine.js openModelCopy / readModelCopyInto / writeModelCopy, in a classic worker: the
// local copy is opened while the module compiles and read straight into wasm memory once the
// instance exists (a sync access handle: no Blob round trip, no second copy); getFile() where
// sync handles are missing.
async function opfsOpen(name) {
  try {
    const fh = await (await navigator.storage.getDirectory()).getFileHandle(name);
    if (fh.createSyncAccessHandle) {
      for (const opt of [{ mode: 'read-only' }, undefined]) {
        try { return { sync: await fh.createSyncAccessHandle(opt) }; } catch (e) { /* next */ }
      }
    }
    const file = await fh.getFile();
    return file.size ? { bytes: new Uint8Array(await file.arrayBuffer()) } : null;
  } catch (e) { return null; }
}

async function opfsWrite(name, bytes) {
  try {
    const fh = await (await navigator.storage.getDirectory()).getFileHandle(name, { create: true });
    const w = await fh.createWritable();
    await w.write(bytes);
    await w.close();
  } catch (e) { /* no OPFS: fine */ }
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
    const [{ default: factory }, wasm, copy] = await Promise.all([
      import(base + 'malaria-simd.mjs').then(mark('glue')),
      WebAssembly.compileStreaming(fetch(base + 'malaria-simd.wasm')).then(mark('compiled')),
      opfsOpen(name).then(mark('opened')),
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
    // the model into wasm memory: the local copy straight in, else its bytes or the network's
    let p = 0, n = 0, netBytes = null;
    if (copy && copy.sync) {
      try {
        n = copy.sync.getSize();
        p = n > 64 ? M._malloc(n) : 0;
        if (p && copy.sync.read(M.HEAPU8.subarray(p, p + n), { at: 0 }) !== n) { M._free(p); p = 0; }
      } finally { copy.sync.close(); }
    }
    if (!p) {
      let b = copy && copy.bytes;
      if (!b) {
        const r = await fetch(modelUrl);
        if (!r.ok) throw new Error(`model ${modelUrl}: HTTP ${r.status}`);
        b = netBytes = new Uint8Array(await r.arrayBuffer());
      }
      n = b.length;
      p = M._malloc(n);
      M.HEAPU8.set(b, p);
    }
    mark('model')();
    // integrity: the payload's SHA-256 (WebCrypto, off this thread: it copies the bytes now)
    // while the engine is created from them; nothing is used until it matches the preamble's
    const digestP = crypto.subtle.digest('SHA-256', M.HEAPU8.subarray(p + 64, p + n));
    const pre = M.HEAPU8.slice(p + 32, p + 64);
    const err = M._malloc(ERR);
    const d = M._malloc(32);
    M.HEAPU8.fill(0, err, err + ERR);
    M.HEAPU8.set(pre, d);
    this.e = M._mc_engine_create_adopt(p, n, d, err, ERR);   // takes over p
    M._free(d);
    mark('created')();
    const digest = new Uint8Array(await digestP);
    mark('digest')();
    if (!this.e) {
      let s = '';
      for (let i = err; M.HEAPU8[i]; i++) s += String.fromCharCode(M.HEAPU8[i]);
      throw new Error('model rejected: ' + s);
    }
    if (digest.some((v, i) => v !== pre[i])) {
      M._mc_engine_destroy(this.e);
      this.e = 0;
      throw new Error('model rejected: payload checksum mismatch');
    }
    if (netBytes) setTimeout(() => opfsWrite(name, netBytes), 100);
    this.err = err;
    this.res = M._malloc(32);
    this.px = M._malloc(ctx.S * ctx.S * 4);
    // batch passes: cap cells' pixels, and the pointer / size / status / result arrays
    const cap = this.cap = M._mc_batch_capacity(this.e);
    this.bpx = M._malloc(cap * ctx.S * ctx.S * 4);
    this.arr = M._malloc(cap * 36);
    for (let k = 0; k < cap; k++) {
      M.HEAPU32[(this.arr >> 2) + k] = this.bpx + k * ctx.S * ctx.S * 4;
      M.HEAP32[(this.arr >> 2) + cap + k] = ctx.S;
      M.HEAP32[(this.arr >> 2) + 2 * cap + k] = ctx.S;
    }
    return { S: M._mc_input_size(this.e), modelBytes: n, phases: ph,
             modelSource: netBytes ? 'network' : 'local copy' };
  },
  async infer(rgba, count) {
    const { M, ctx, cap, arr } = this;
    const n = ctx.S * ctx.S * 4;
    const out = new Float32Array(count * 2);
    if (count === 1) {
      M.HEAPU8.set(rgba.subarray(0, n), this.px);
      const rc = M._mc_classify_rgba(this.e, this.px, ctx.S, ctx.S, 4, this.res, this.err, ERR);
      if (rc !== 0) throw new Error('classify failed');
      out[0] = M.HEAPF32[this.res >> 2];
      out[1] = M.HEAPF32[(this.res >> 2) + 1];
      return out;
    }
    for (let i0 = 0; i0 < count; i0 += cap) {
      const k = Math.min(cap, count - i0);
      M.HEAPU8.set(rgba.subarray(i0 * n, (i0 + k) * n), this.bpx);
      const rc = M._mc_classify_batch_rgba(this.e, k, arr, arr + 4 * cap, arr + 8 * cap, 4,
                                           arr + 16 * cap, arr + 12 * cap, this.err, ERR);
      if (rc !== k) throw new Error('classify failed');
      for (let j = 0; j < k; j++) {
        out[2 * (i0 + j)] = M.HEAPF32[(arr + 16 * cap + 20 * j) >> 2];
        out[2 * (i0 + j) + 1] = M.HEAPF32[((arr + 16 * cap + 20 * j) >> 2) + 1];
      }
    }
    return out;
  },
};
