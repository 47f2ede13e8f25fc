// onnxruntime-web, wasm execution provider (SIMD, threads = ort.env.wasm.numThreads).
'use strict';
importScripts('/nm/onnxruntime-web/dist/ort.wasm.min.js');

function toNCHW(rgba, count, S, mean, std) {
  const x = new Float32Array(count * 3 * S * S);
  const plane = S * S;
  const sc = [1 / std[0], 1 / std[1], 1 / std[2]];
  for (let n = 0; n < count; n++) {
    const src = n * plane * 4;
    const dst = n * 3 * plane;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        x[dst + c * plane + i] = (rgba[src + 4 * i + c] / 255 - mean[c]) * sc[c];
      }
    }
  }
  return x;
}

self.BENCH_ENGINE = {
  session: null,
  async load(ctx) {
    this.ctx = ctx;
    ort.env.wasm.numThreads = ctx.threads;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = '/nm/onnxruntime-web/dist/';
    this.session = await ort.InferenceSession.create(ctx.model || '/assets/resnet18.onnx', {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    return {
      version: ort.env.versions && ort.env.versions.web,
      numThreads: ort.env.wasm.numThreads,
      crossOriginIsolated: self.crossOriginIsolated,
    };
  },
  async infer(rgba, count) {
    const { S, mean, std } = this.ctx;
    const t = new ort.Tensor('float32', toNCHW(rgba, count, S, mean, std), [count, 3, S, S]);
    const out = await this.session.run({ input: t });
    const d = out.logits.data;
    t.dispose && t.dispose();
    return new Float32Array(d);
  },
};
