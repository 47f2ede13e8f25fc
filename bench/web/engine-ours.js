// Our engine: the SIMD128 module of web/ (build-wasm/web/modules/malaria-simd.{mjs,wasm}, copied
// to /assets/ours/ by bench/run.sh) loaded the way web/classifier-worker.js loads it for the
// page, with the page's own modules (web/engine.js, web/model-copy.js, web/assets.js, served
// under /web/ by bench/server.mjs): the wasm compiled with WebAssembly.compileStreaming while it
// downloads and, at the same time, the model's local copy in the origin private file system
// opened (a visit before stored it); once the instance exists the copy is read straight into
// the wasm heap and checked against the XXH64 in its trailer (Engine.createChecked), else the
// model is fetched, its payload hashed with WebCrypto and checked by the core against the
// preamble (Engine.create). Either way the engine is staged (the Winograd weights are made
// before the second classification, as in the page). On a first visit the fetched model is
// stored as the local copy after the first result. The page also checks the wasm against the
// manifest (one more digest), which the bench leaves out for every engine alike.
// classify includes our preprocessing (RGBA -> normalized S x S input), as the peers' infer
// includes theirs; it calls the C API on buffers made once (the peers get a batch tensor).
// Several cells go through mc_classify_batch_rgba, up to the engine's batch capacity per pass
// (8 for int8), as the page's Worker classifies the images waiting for it.
'use strict';

const ERR = 512;

self.BENCH_ENGINE = {
  async load(ctx) {
    this.ctx = ctx;
    const base = '/assets/ours/';
    const t0 = performance.now();
    const ph = {}; // when each step finished, ms since load() started (reported in info)
    const mark = (k) => (v) => {
      ph[k] = +(performance.now() - t0).toFixed(1);
      return v;
    };
    const modelUrl = ctx.model || base + 'model-f32.mcb';
    const key = 'bench-' + modelUrl.split('/').pop(); // one copy per blob (f32/f16/int8)
    const copyModule = import('/web/model-copy.js');
    const [{ default: factory }, wasm, copy, { Engine, layoutOf }, { payloadDigest }] =
      await Promise.all([
        import(base + 'malaria-simd.mjs').then(mark('glue')),
        WebAssembly.compileStreaming(fetch(base + 'malaria-simd.wasm')).then(mark('compiled')),
        copyModule.then((m) => m.openModelCopy(key)).then(mark('opened')),
        import('/web/engine.js'),
        import('/web/assets.js'),
      ]);
    const M = await factory({
      instantiateWasm: (imports, receive) => {
        WebAssembly.instantiate(wasm, imports).then((inst) => receive(inst, wasm));
        return {};
      },
      print: () => {},
      printErr: () => {},
    });
    mark('instantiated')();
    this.M = M;
    let engine = null,
      netBytes = null,
      copyBytes = 0;
    if (copy) {
      copyBytes =
        (copy.sync ? copy.sync.getSize() : copy.bytes.length) - (await copyModule).COPY_TRAILER;
      try {
        engine = await Engine.createChecked(M, copy, 'simd', key);
      } catch (e) {
        if (e.instanceBroken) throw e; // else: a damaged copy, fetched again below
      } finally {
        if (copy.sync) copy.sync.close();
      }
    }
    if (!engine) {
      const r = await fetch(modelUrl);
      if (!r.ok) throw new Error(`model ${modelUrl}: HTTP ${r.status}`);
      netBytes = new Uint8Array(await r.arrayBuffer());
      mark('model')();
      engine = Engine.create(M, netBytes, 'simd', await payloadDigest(netBytes));
    }
    mark('created')();
    if (netBytes) {
      // the local copy: the checked bytes and their XXH64 trailer
      const { writeModelCopy } = await copyModule;
      setTimeout(() => writeModelCopy(key, netBytes, engine.checksum, { keepOthers: true }), 100);
    }
    this.engine = engine;
    this.e = engine.ptr;
    this.err = M._malloc(ERR);
    this.R = layoutOf(M).result;
    this.res = M._malloc(this.R.size);
    this.px = M._malloc(ctx.S * ctx.S * 4);
    // batch passes: cap cells' pixels, and the pointer / size / status arrays and the results
    const cap = engine.batchCapacity;
    this.cap = cap;
    this.bpx = M._malloc(cap * ctx.S * ctx.S * 4);
    this.arr = M._malloc(cap * (16 + this.R.size));
    for (let k = 0; k < cap; k++) {
      M.HEAPU32[(this.arr >> 2) + k] = this.bpx + k * ctx.S * ctx.S * 4;
      M.HEAP32[(this.arr >> 2) + cap + k] = ctx.S;
      M.HEAP32[(this.arr >> 2) + 2 * cap + k] = ctx.S;
    }
    this.runs = 0;
    return {
      S: engine.size,
      modelBytes: netBytes ? netBytes.length : copyBytes,
      phases: ph,
      modelSource: netBytes ? 'network' : 'local copy',
    };
  },
  async infer(rgba, count) {
    const { M, ctx, cap, arr, R } = this;
    if (this.runs++ > 0) this.engine.finish(); // before the second classification, as the page
    const n = ctx.S * ctx.S * 4;
    const out = new Float32Array(count * 2);
    if (count === 1) {
      M.HEAPU8.set(rgba.subarray(0, n), this.px);
      const rc = M._mc_classify_rgba(this.e, this.px, ctx.S, ctx.S, 4, this.res, this.err, ERR);
      if (rc !== 0) throw new Error('classify failed');
      out[0] = M.HEAPF32[(this.res + R.logits) >> 2];
      out[1] = M.HEAPF32[((this.res + R.logits) >> 2) + 1];
      return out;
    }
    for (let i0 = 0; i0 < count; i0 += cap) {
      const k = Math.min(cap, count - i0);
      M.HEAPU8.set(rgba.subarray(i0 * n, (i0 + k) * n), this.bpx);
      const rc = M._mc_classify_batch_rgba(
        this.e,
        k,
        arr,
        arr + 4 * cap,
        arr + 8 * cap,
        4,
        arr + 16 * cap,
        arr + 12 * cap,
        this.err,
        ERR,
      );
      if (rc !== k) throw new Error('classify failed');
      for (let j = 0; j < k; j++) {
        const r = arr + 16 * cap + R.size * j + R.logits;
        out[2 * (i0 + j)] = M.HEAPF32[r >> 2];
        out[2 * (i0 + j) + 1] = M.HEAPF32[(r >> 2) + 1];
      }
    }
    return out;
  },
};
