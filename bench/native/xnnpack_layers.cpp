// xnnpack_layers -- every ResNet18 convolution shape at S=64 (batch 1, NHWC), timed natively in
// Debian's XNNPACK (libxnnpack-dev, f32 and qc8 = int8 with per-channel weight scales) and in
// our operators (wasm/src/ops: conv_run_f32 / conv_run_qs8_a16, the SIMD path = SSE4.1 natively),
// single-threaded. Prints JSON: per layer and implementation the best time and GFLOP/s
// (2 flops per multiply-add; GOP/s for int8).
//
// Usage: xnnpack_layers [S=64] [min_seconds_per_measurement=0.3]
// Built by bench/run.sh (g++ -O2, linked with -lXNNPACK; no CMake target of the project).
//
// Under Emscripten (emcc -msimd128, run with node) the same file times only our ops in wasm
// SIMD128; bench/tools/tfjs_layers.mjs times XNNPACK's SIMD128 kernels (tfjs-backend-wasm) on
// the same shapes in the same V8, which is the like-for-like kernel comparison.
//
// Note: XNNPACK picks its kernels for this CPU at run time (AVX-512/AVX2/FMA where present);
// ours are 128-bit (SSE4.1 natively, SIMD128 in wasm). The `xnnpack_isa` field says which.
#ifndef __EMSCRIPTEN__
#include <xnnpack.h>
#define HAVE_XNNPACK 1
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"
#if __has_include("ops/ops_qs8.h")
#include "ops/ops_qs8.h"
#define HAVE_QS8 1
#endif

namespace {

double g_min_s = 0.3;

double best_seconds(const std::function<void()>& fn) {
  using clk = std::chrono::steady_clock;
  fn();  // warm-up
  double best = 1e30, total = 0;
  int reps = 0;
  while (total < g_min_s || reps < 5) {
    auto t0 = clk::now();
    fn();
    double dt = std::chrono::duration<double>(clk::now() - t0).count();
    best = std::min(best, dt);
    total += dt;
    reps++;
  }
  return best;
}

struct Layer {
  std::string name;
  mc::ConvShape s;
};

std::vector<Layer> resnet18_convs(int S) {
  std::vector<Layer> v;
  v.push_back({"conv1", {S, S, 3, 64, 7, 7, 2, 3}});
  int h = (S + 6 - 7) / 2 + 1;
  h = (h + 2 - 3) / 2 + 1;  // maxpool 3x3/2 pad 1
  int c = 64;
  const int outs[4] = {64, 128, 256, 512};
  for (int li = 0; li < 4; li++) {
    for (int bi = 0; bi < 2; bi++) {
      int oc = outs[li];
      int stride = (li > 0 && bi == 0) ? 2 : 1;
      std::string p = "layer" + std::to_string(li + 1) + "." + std::to_string(bi);
      int oh = (h + 2 - 3) / stride + 1;
      v.push_back({p + ".conv1", {h, h, c, oc, 3, 3, stride, 1}});
      v.push_back({p + ".conv2", {oh, oh, oc, oc, 3, 3, 1, 1}});
      if (stride != 1 || c != oc)
        v.push_back({p + ".downsample.0", {h, h, c, oc, 1, 1, stride, 0}});
      h = oh;
      c = oc;
    }
  }
  return v;
}

const char* isa_name() {
#if !HAVE_XNNPACK
  return "none (wasm build)";
#elif defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return "x86-64 with AVX-512 (XNNPACK may use avx512f kernels)";
  if (__builtin_cpu_supports("fma")) return "x86-64 with AVX2+FMA";
  return "x86-64 SSE";
#else
  return "unknown";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  int S = argc > 1 ? std::atoi(argv[1]) : 64;
  if (argc > 2) g_min_s = std::atof(argv[2]);
#if HAVE_XNNPACK
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "xnn_initialize failed\n");
    return 1;
  }
#endif
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> U(-1.f, 1.f);
  std::printf(
      "{\"S\": %d, \"threads\": 1, \"xnnpack_isa\": \"%s\", \"ours_isa\": \"%s\", \"layers\": [\n",
      S, isa_name(),
      mc::default_isa() != mc::Isa::Simd ? "scalar"
#ifdef __EMSCRIPTEN__
                                         : "wasm SIMD128");
#else
                                         : "128-bit SIMD (SSE4.1)");
#endif
  auto layers = resnet18_convs(S);
  double tot_x = 0, tot_o = 0, tot_xq = 0, tot_oq = 0, tot_flops = 0;
  for (size_t li = 0; li < layers.size(); li++) {
    const auto& L = layers[li];
    const mc::ConvShape& s = L.s;
    const int oh = s.out_h(), ow = s.out_w();
    const double flops = 2.0 * oh * ow * s.out_c * s.in_c * s.kh * s.kw;
    std::vector<float> in((size_t)s.in_h * s.in_w * s.in_c),
        w((size_t)s.out_c * s.kh * s.kw * s.in_c), b(s.out_c), out_x((size_t)oh * ow * s.out_c),
        out_o(out_x.size());
    for (auto& x : in) x = U(rng);
    for (auto& x : w) x = U(rng) * 0.1f;
    for (auto& x : b) x = U(rng);

    double tx = 0;
#if HAVE_XNNPACK
    // XNNPACK f32 (kernel OHWI, the same layout as ours)
    xnn_operator_t op = nullptr;
    if (xnn_create_convolution2d_nhwc_f32(
            s.pad, s.pad, s.pad, s.pad, s.kh, s.kw, s.stride, s.stride, 1, 1, 1, s.in_c, s.out_c,
            s.in_c, s.out_c, w.data(), b.data(), 0.f, INFINITY, 0, &op) != xnn_status_success ||
        xnn_setup_convolution2d_nhwc_f32(op, 1, s.in_h, s.in_w, in.data(), out_x.data(), nullptr) !=
            xnn_status_success) {
      std::fprintf(stderr, "xnnpack f32 setup failed for %s\n", L.name.c_str());
      return 1;
    }
    tx = best_seconds([&] { xnn_run_operator(op, nullptr); });
    xnn_delete_operator(op);
#endif

    // ours f32
    std::vector<float> packed(mc::conv_packed_f32_size(s));
    mc::conv_pack_f32(s, w.data(), b.data(), packed.data());
    std::vector<float> zero(s.in_c, 0.f);
    std::vector<const float*> ind(mc::conv_indirection_size(s));
    mc::conv_setup_indirection(s, in.data(), zero.data(), ind.data());
    double to = best_seconds(
        [&] { mc::conv_run_f32(s, ind.data(), packed.data(), out_o.data(), nullptr, true); });
    double maxd = 0;
    for (size_t i = 0; tx > 0 && i < out_x.size(); i++)
      maxd = std::max(maxd, (double)std::fabs(out_x[i] - out_o[i]));

    double txq = 0, toq = 0;
#if HAVE_QS8
    {
      // int8: the same weights, per-channel symmetric; input / output scales from the f32 ranges
      std::vector<int8_t> wq(w.size()), inq(in.size()), oq_x(out_x.size()), oq_o(out_x.size());
      std::vector<float> ws(s.out_c);
      std::vector<int32_t> bq(s.out_c);
      mc::QuantParams qin = mc::choose_qs8_params(-1.f, 1.f);
      float omax = 0;
      for (float v : out_o) omax = std::max(omax, v);
      mc::QuantParams qout = mc::choose_qs8_params(0.f, std::max(omax, 1e-3f));
      mc::quantize_f32_qs8(in.size(), in.data(), qin, inq.data());
      mc::quantize_conv_weights_qs8(s, w.data(), b.data(), qin.scale, wq.data(), ws.data(),
                                    bq.data());
#if HAVE_XNNPACK
      xnn_operator_t opq = nullptr;
      const int8_t lo = (int8_t)std::max(-128, qout.zero_point);
      if (xnn_create_convolution2d_nhwc_qc8(
              s.pad, s.pad, s.pad, s.pad, s.kh, s.kw, s.stride, s.stride, 1, 1, 1, s.in_c, s.out_c,
              s.in_c, s.out_c, (int8_t)qin.zero_point, qin.scale, ws.data(), wq.data(), bq.data(),
              (int8_t)qout.zero_point, qout.scale, lo, 127, 0, &opq) == xnn_status_success &&
          xnn_setup_convolution2d_nhwc_qc8(opq, 1, s.in_h, s.in_w, inq.data(), oq_x.data(),
                                           nullptr) == xnn_status_success) {
        txq = best_seconds([&] { xnn_run_operator(opq, nullptr); });
      }
      if (opq) xnn_delete_operator(opq);
#endif
      std::vector<uint8_t> pq(mc::conv_packed_qs8_size(s));
      mc::conv_pack_qs8(s, wq.data(), ws.data(), bq.data(), qin, qout, pq.data());
      std::vector<int16_t> inq16(inq.size()), zq16(s.in_c, (int16_t)qin.zero_point);
      std::vector<const int16_t*> indq(mc::conv_indirection_size(s));
      mc::conv_setup_indirection_qs8_a16(s, inq16.data(), zq16.data(), indq.data());
      toq = best_seconds([&] {  // the widening copy of the input is part of the run
        mc::widen_qs8_a16(inq.size(), inq.data(), inq16.data());
        mc::conv_run_qs8_a16(s, indq.data(), pq.data(), false, oq_o.data(), nullptr, qout, true);
      });
    }
#endif
    tot_x += tx;
    tot_o += to;
    tot_xq += txq;
    tot_oq += toq;
    tot_flops += flops;
    std::printf(
        "  {\"name\": \"%s\", \"in\": [%d, %d, %d], \"out_c\": %d, \"k\": %d, \"stride\": %d, "
        "\"mflop\": %.3f, "
        "\"xnnpack_f32_ms\": %.4f, \"ours_f32_ms\": %.4f, \"xnnpack_f32_gflops\": %.2f, "
        "\"ours_f32_gflops\": %.2f, \"f32_max_abs_diff\": %.3g, \"xnnpack_qc8_ms\": %.4f, "
        "\"ours_qs8_ms\": %.4f, \"xnnpack_qc8_gops\": %.2f, \"ours_qs8_gops\": %.2f}%s\n",
        L.name.c_str(), s.in_h, s.in_w, s.in_c, s.out_c, s.kh, s.stride, flops / 1e6, tx * 1e3,
        to * 1e3, tx > 0 ? flops / tx / 1e9 : 0.0, flops / to / 1e9, maxd, txq * 1e3, toq * 1e3,
        txq > 0 ? flops / txq / 1e9 : 0.0, toq > 0 ? flops / toq / 1e9 : 0.0,
        li + 1 < layers.size() ? "," : "");
  }
  std::printf(
      "], \"total\": {\"mflop\": %.3f, \"xnnpack_f32_ms\": %.4f, \"ours_f32_ms\": %.4f, "
      "\"xnnpack_f32_gflops\": %.2f, \"ours_f32_gflops\": %.2f, \"xnnpack_qc8_ms\": %.4f, "
      "\"ours_qs8_ms\": %.4f, \"xnnpack_qc8_gops\": %.2f, \"ours_qs8_gops\": %.2f}}\n",
      tot_flops / 1e6, tot_x * 1e3, tot_o * 1e3, tot_x > 0 ? tot_flops / tot_x / 1e9 : 0.0,
      tot_flops / tot_o / 1e9, tot_xq * 1e3, tot_oq * 1e3,
      tot_xq > 0 ? tot_flops / tot_xq / 1e9 : 0.0, tot_oq > 0 ? tot_flops / tot_oq / 1e9 : 0.0);
  return 0;
}
