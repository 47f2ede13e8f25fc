// XNNPACK's wasm SIMD128 kernels (inside @tensorflow/tfjs-backend-wasm, 1 thread) on every
// ResNet18 conv shape, under Node (same V8 as Chromium). Counterpart of the wasm build of
// bench/native/xnnpack_layers.cpp (our ops); together they compare kernels like for like.
//
//   node bench/tools/tfjs_layers.mjs [S=64] [min_seconds=0.3] > bench/out/tfjs_layers.json
//
// Each call is tf.fused.conv2d (bias + ReLU, NHWC, weights HWIO) + dataSync of the output, so the
// time includes tfjs' per-op overhead (a few tens of microseconds) on top of XNNPACK's kernel.
import * as tf from '@tensorflow/tfjs-core';
import * as wasm from '@tensorflow/tfjs-backend-wasm';

const S = Number(process.argv[2] || 64);
const MIN_S = Number(process.argv[3] || 0.3);

function layers(S) {
  const v = [['conv1', S, 3, 64, 7, 2, 3]];
  let h = Math.floor((S + 6 - 7) / 2) + 1;
  h = Math.floor((h + 2 - 3) / 2) + 1;
  let c = 64;
  [64, 128, 256, 512].forEach((oc, li) => {
    for (let bi = 0; bi < 2; bi++) {
      const stride = li > 0 && bi === 0 ? 2 : 1;
      const p = `layer${li + 1}.${bi}`;
      const oh = Math.floor((h + 2 - 3) / stride) + 1;
      v.push([p + '.conv1', h, c, oc, 3, stride, 1]);
      v.push([p + '.conv2', oh, oc, oc, 3, 1, 1]);
      if (stride !== 1 || c !== oc) v.push([p + '.downsample.0', h, c, oc, 1, stride, 0]);
      h = oh;
      c = oc;
    }
  });
  return v;
}

wasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
const out = {
  S,
  threads: wasm.getThreadsCount(),
  simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
  tfjs: tf.version_core,
  layers: [],
};
let totMs = 0,
  totFlops = 0;
for (const [name, h, ic, oc, k, stride, pad] of layers(S)) {
  const x = tf.randomUniform([1, h, h, ic], -1, 1);
  const w = tf.randomUniform([k, k, ic, oc], -0.1, 0.1);
  const b = tf.randomUniform([oc], -1, 1);
  const run = () => {
    const y = tf.fused.conv2d({ x, filter: w, bias: b, strides: stride, pad, activation: 'relu' });
    y.dataSync();
    y.dispose();
  };
  for (let i = 0; i < 5; i++) run();
  let best = Infinity,
    total = 0,
    n = 0;
  while (total < MIN_S * 1000 || n < 5) {
    const t0 = performance.now();
    run();
    const dt = performance.now() - t0;
    best = Math.min(best, dt);
    total += dt;
    n++;
  }
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const flops = 2 * oh * oh * oc * ic * k * k;
  totMs += best;
  totFlops += flops;
  out.layers.push({
    name,
    mflop: flops / 1e6,
    tfjs_xnnpack_ms: best,
    tfjs_xnnpack_gflops: flops / best / 1e6,
  });
  tf.dispose([x, w, b]);
}
out.total = {
  mflop: totFlops / 1e6,
  tfjs_xnnpack_ms: totMs,
  tfjs_xnnpack_gflops: totFlops / totMs / 1e6,
};
console.log(JSON.stringify(out, null, 1));
