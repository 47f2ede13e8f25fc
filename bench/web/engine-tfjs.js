// @tensorflow/tfjs-backend-wasm (XNNPACK inside): ResNet18 built with tf ops from our weights
// (BatchNorm folded, fused conv+bias(+relu), NHWC).
'use strict';
importScripts(
  '/nm/@tensorflow/tfjs-core/dist/tf-core.min.js',
  '/nm/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
);

self.BENCH_ENGINE = {
  W: null,
  async load(ctx) {
    this.ctx = ctx;
    tf.wasm.setWasmPaths('/nm/@tensorflow/tfjs-backend-wasm/dist/');
    // tfjs caps its XNNPACK pool at navigator.hardwareConcurrency / 2 (it assumes 2 hyper-threads
    // per core): on a 2-core machine setThreadsCount(2) would still run 1 thread. Report 2 threads
    // per requested thread so that setThreadsCount(n) really gives n.
    const hc = ctx.threads * 2;
    Object.defineProperty(Object.getPrototypeOf(self.navigator), 'hardwareConcurrency', {
      get: () => hc,
      configurable: true,
    });
    tf.wasm.setThreadsCount(ctx.threads);
    await tf.setBackend('wasm');
    await tf.ready();
    const base = ctx.model || '/assets/tfjs-weights';
    const [man, bin] = await Promise.all([
      fetch(base + '.json').then((r) => r.json()),
      fetch(base + '.bin').then((r) => r.arrayBuffer()),
    ]);
    const f = new Float32Array(bin);
    this.W = {};
    for (const t of man.tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      this.W[t.name] = tf.tensor(f.subarray(t.offset, t.offset + n), t.shape, 'float32');
    }
    const b = tf.backend();
    return {
      version: tf.version_core,
      backend: tf.getBackend(),
      threads: tf.wasm.getThreadsCount(),
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      crossOriginIsolated: self.crossOriginIsolated,
      hasModule: !!(b && b.wasm),
    };
  },
  conv(x, name, stride, pad, relu) {
    return tf.fused.conv2d({
      x,
      filter: this.W[name + '.w'],
      bias: this.W[name + '.b'],
      strides: stride,
      pad,
      activation: relu ? 'relu' : 'linear',
    });
  },
  forward(x) {
    let h = this.conv(x, 'conv1', 2, 3, true);
    h = tf.maxPool(h, 3, 2, 1);
    let c = 64;
    [64, 128, 256, 512].forEach((oc, li) => {
      for (let bi = 0; bi < 2; bi++) {
        const stride = li > 0 && bi === 0 ? 2 : 1;
        const p = `layer${li + 1}.${bi}`;
        const y1 = this.conv(h, p + '.conv1', stride, 1, true);
        const y2 = this.conv(y1, p + '.conv2', 1, 1, false);
        const sc =
          stride !== 1 || c !== oc ? this.conv(h, p + '.downsample.0', stride, 0, false) : h;
        h = tf.relu(tf.add(y2, sc));
        c = oc;
      }
    });
    const g = tf.mean(h, [1, 2]);
    return tf.fused.matMul({ a: g, b: this.W['fc.w'], bias: this.W['fc.b'] });
  },
  async infer(rgba, count) {
    const { S, mean, std } = this.ctx;
    const x = new Float32Array(count * S * S * 3);
    const sc = [1 / std[0], 1 / std[1], 1 / std[2]];
    for (let i = 0, n = count * S * S; i < n; i++) {
      for (let c = 0; c < 3; c++) x[3 * i + c] = (rgba[4 * i + c] / 255 - mean[c]) * sc[c];
    }
    const out = tf.tidy(() => this.forward(tf.tensor4d(x, [count, S, S, 3])));
    const d = await out.data();
    out.dispose();
    return new Float32Array(d);
  },
};
