// bench_kernels -- micro-benchmark of the conv microkernels (f32 and qs8) on ResNet18 shapes.
//
// Usage: bench_kernels [min_seconds_per_measurement=0.2]
// Built with MC_BENCH_XNNPACK=1 (bench/CMakeLists.txt does it natively when the system XNNPACK
// is found), the same layers also run through XNNPACK (single thread, its own ISA choice:
// AVX2/AVX-512 + FMA on x86, so a ceiling rather than a like-for-like SIMD128 comparison),
// interleaved with ours so that both see the same machine load.
// Prints, per layer and per kernel variant, the best time per call and GFLOP/s (2 flops/MAC;
// GOP/s for int8). In V8 (wasm SIMD128), as the engine runs in the browser:
//   NODE_PATH=/usr/share/nodejs em++ -std=c++17 -O3 -msimd128 -DNDEBUG -Iwasm/src \
//     bench/native/bench_kernels.cpp wasm/src/ops/*.cpp wasm/src/kernels/*.cpp \
//     -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -o /tmp/bk.cjs && node /tmp/bk.cjs 0.3
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "ops/conv_winograd_f32.h"
#include "ops/ops.h"
#include "ops/ops_detail.h"
#if MC_BENCH_XNNPACK
#include <xnnpack.h>
#include <cmath>
#endif
#if __has_include("ops/ops_qs8.h")
#include "ops/conv_winograd_qs8.h"
#include "ops/ops_qs8.h"
#define BENCH_QS8 1
#endif

namespace {

double g_min_s = 0.2;

struct Case {
  const char* name;
  const char* unit;
  std::function<void()> fn;
  double best = 1e30;
};

// Interleaves the variants (7 rounds, each a batch of >= min_seconds/7) and keeps each one's
// best time per call: robust against a machine shared with other work.
void run_cases(const char* layer, std::vector<Case>& cases, double flops) {
  using clk = std::chrono::steady_clock;
  for (auto& c : cases) c.fn();  // warm up
  for (int round = 0; round < 7; round++) {
    for (auto& c : cases) {
      int iters = 0;
      const auto t0 = clk::now();
      double el = 0;
      do {
        c.fn();
        iters++;
        el = std::chrono::duration<double>(clk::now() - t0).count();
      } while (el < g_min_s / 7);
      c.best = std::min(c.best, el / iters);
    }
  }
  for (const auto& c : cases)
    std::printf("%-28s %-18s %9.1f us %7.2f %s\n", layer, c.name, c.best * 1e6,
                flops / c.best * 1e-9, c.unit);
}

void bench_layer(const char* name, const mc::ConvShape& s) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1, 1);
  const size_t ks = size_t(s.kh) * s.kw;
  std::vector<float> in(size_t(s.in_h) * s.in_w * s.in_c), w(size_t(s.out_c) * ks * s.in_c),
      b(size_t(s.out_c)), zero(size_t(s.in_c), 0.0f);
  for (auto& x : in) x = d(rng);
  for (auto& x : w) x = d(rng);
  for (auto& x : b) x = d(rng);
  std::vector<float> packed(mc::conv_packed_f32_size(s));
  mc::conv_pack_f32(s, w.data(), b.data(), packed.data());
  std::vector<const float*> ind(mc::conv_indirection_size(s));
  mc::conv_setup_indirection(s, in.data(), zero.data(), ind.data());
  const size_t out_n = size_t(s.out_h()) * s.out_w() * s.out_c;
  std::vector<float> out(out_n);
  const double flops = 2.0 * double(out_n) * double(ks) * s.in_c;
  struct V {
    mc::Isa isa;
    int mr;
    const char* n;
  };
  const V vs[] = {{mc::Isa::Scalar, 2, "f32 scalar 2x8"},
                  {mc::Isa::Simd, 4, "f32 simd128 4x8"},
                  {mc::Isa::Simd, 6, "f32 simd128 6x8"},
                  {mc::Isa::Simd, mc::detail::kF32Mr4x8s4, "f32 simd128 4x8s4"}};
  std::vector<Case> cases;
  // row form (pre-padded input, kh pointers per pixel) for convs with few input channels
  const bool rows = s.in_c <= 4;
  std::vector<float> padf(rows ? mc::conv_padded_input_size(s) : 0, 0.0f);
  std::vector<const float*> rindf(rows ? mc::conv_rows_indirection_size(s) : 0);
  if (rows) mc::conv_rows_setup_indirection(s, padf.data(), rindf.data());
  for (const auto& v : vs) {
    if (rows && v.isa == mc::Isa::Simd && mc::default_isa() == mc::Isa::Simd)
      cases.push_back({v.mr == 4   ? "f32 rows 4x8"
                       : v.mr == 6 ? "f32 rows 6x8"
                                   : "f32 rows 4x8s4",
                       "GFLOP/s", [&, v] {
                         mc::detail::conv_rows_run_f32_tile(s, rindf.data(), packed.data(),
                                                            out.data(), nullptr, true, v.isa, v.mr);
                       }});
    if (v.isa == mc::Isa::Simd && mc::default_isa() != mc::Isa::Simd) continue;
    cases.push_back({v.n, "GFLOP/s", [&, v] {
                       mc::detail::conv_run_f32_tile(s, ind.data(), packed.data(), out.data(),
                                                     nullptr, true, v.isa, v.mr);
                     }});
  }
  // Winograd F(2x2, 3x3) and F(4x4, 3x3) on the same weights (GFLOP/s counted as the direct
  // convolution's)
  std::vector<float> wg[2], wg_scratch[2];
  std::vector<const float*> wg_ind[2];
  for (int v = 0; v < 2; v++) {
    const int m = v == 0 ? 2 : 4;
    wg[v].resize(mc::conv_winograd_f32_packed_size(s, m));
    wg_scratch[v].resize(mc::conv_winograd_f32_scratch_size(s, m));
    wg_ind[v].resize(mc::conv_winograd_f32_indirection_size(s, m));
    if (!mc::conv_winograd_f32_pack_from_igemm(s, m, packed.data(), wg[v].data())) continue;
    mc::conv_winograd_f32_setup(s, m, in.data(), zero.data(), wg_scratch[v].data(),
                                wg_ind[v].data());
    cases.push_back(
        {m == 2 ? "f32 winograd 2x2" : "f32 winograd 4x4", "GFLOP/s (direct)", [&, v, m] {
           mc::conv_winograd_f32_run(s, m, wg_ind[v].data(), wg[v].data(), wg_scratch[v].data(),
                                     out.data(), nullptr, true);
         }});
  }
#if BENCH_QS8
  std::uniform_int_distribution<int> di(-128, 127);
  std::vector<int8_t> qin(in.size()), qw(w.size()), qout(out_n), qzero(size_t(s.in_c), 3);
  for (auto& x : qin) x = int8_t(di(rng));
  for (auto& x : qw) x = int8_t(di(rng));
  std::vector<float> ws(size_t(s.out_c), 0.01f);
  std::vector<int32_t> qb(size_t(s.out_c), 100);
  std::vector<uint8_t> qpacked(mc::conv_packed_qs8_size(s));
  mc::conv_pack_qs8(s, qw.data(), ws.data(), qb.data(), {0.05f, 3}, {0.1f, -5}, qpacked.data());
  std::vector<int8_t> padq(rows ? mc::conv_padded_input_size(s) : 0, 3);
  std::vector<uint8_t> rpacked(rows ? mc::conv_rows_packed_qs8_size(s) : 0);
  if (rows) mc::conv_rows_repack_qs8(s, qpacked.data(), rpacked.data());
  // int16 activations (conv_run_qs8_a16): the widening copy of the input is timed with the conv;
  // int8 weights as stored, or their w16 form
  std::vector<int16_t> qin16(qin.size()), qzero16(qzero.begin(), qzero.end()), padq16(padq.size());
  std::vector<const int16_t*> qind16(mc::conv_indirection_size(s));
  mc::conv_setup_indirection_qs8_a16(s, qin16.data(), qzero16.data(), qind16.data());
  std::vector<uint8_t> qpacked16(mc::conv_packed_qs8_w16_size(s));
  mc::conv_widen_packed_qs8_w16(s, qpacked.data(), qpacked16.data());
  std::vector<const int16_t*> rindq16(rows ? mc::conv_rows_indirection_size(s) : 0);
  std::vector<uint8_t> rpacked16(rows ? mc::conv_rows_packed_qs8_w16_size(s) : 0);
  if (rows) {
    mc::conv_rows_setup_indirection_qs8_a16(s, padq16.data(), rindq16.data());
    mc::conv_rows_widen_packed_qs8_w16(s, rpacked.data(), rpacked16.data());
  }
  cases.push_back({"qs8 a16 scalar 2x8c2", "GOP/s", [&] {
                     mc::widen_qs8_a16(qin.size(), qin.data(), qin16.data());
                     mc::detail::conv_run_qs8_a16_tile(s, qind16.data(), qpacked.data(), false,
                                                       qout.data(), nullptr, {1.0f, 0}, true,
                                                       mc::Isa::Scalar, 2);
                   }});
  if (mc::default_isa() == mc::Isa::Simd)
    for (bool w16 : {false, true}) {
      if (rows)
        cases.push_back({w16 ? "qs8 rows a16 4x8c2_w16" : "qs8 rows a16 4x8c2", "GOP/s", [&, w16] {
                           mc::widen_qs8_a16(padq.size(), padq.data(), padq16.data());
                           mc::conv_rows_run_qs8_a16(s, rindq16.data(),
                                                     w16 ? rpacked16.data() : rpacked.data(), w16,
                                                     qout.data(), nullptr, {1.0f, 0}, true);
                         }});
      cases.push_back(
          {w16 ? "qs8 a16 simd128 4x8c2_w16" : "qs8 a16 simd128 4x8c2", "GOP/s", [&, w16] {
             mc::widen_qs8_a16(qin.size(), qin.data(), qin16.data());
             mc::conv_run_qs8_a16(s, qind16.data(), w16 ? qpacked16.data() : qpacked.data(), w16,
                                  qout.data(), nullptr, {1.0f, 0}, true);
           }});
    }
  // exact int8 Winograd F(2x2, 3x3) on the same weights (GOP/s counted as the direct conv's)
  std::vector<uint8_t> qwg(mc::conv_winograd_qs8_packed_size(s)),
      qwg_scratch(mc::conv_winograd_qs8_scratch_size(s));
  std::vector<const int8_t*> qwg_ind(mc::conv_winograd_qs8_indirection_size(s));
  if (mc::conv_winograd_qs8_pack_from_igemm(s, qpacked.data(), qwg.data())) {
    mc::conv_winograd_qs8_setup(s, qin.data(), qzero.data(), qwg_ind.data());
    cases.push_back({"qs8 winograd 2x2", "GOP/s (direct)", [&] {
                       mc::conv_winograd_qs8_run(s, qwg_ind.data(), qwg.data(), qwg_scratch.data(),
                                                 qout.data(), nullptr, {1.0f, 0}, true);
                     }});
  }
#endif
#if MC_BENCH_XNNPACK
  xnn_operator_t xop = nullptr, xqop = nullptr;
  std::vector<float> xout(out_n);
  if (xnn_create_convolution2d_nhwc_f32(s.pad, s.pad, s.pad, s.pad, s.kh, s.kw, s.stride, s.stride,
                                        1, 1, 1, s.in_c, s.out_c, s.in_c, s.out_c, w.data(),
                                        b.data(), 0.0f, INFINITY, 0, &xop) == xnn_status_success &&
      xnn_setup_convolution2d_nhwc_f32(xop, 1, s.in_h, s.in_w, in.data(), xout.data(), nullptr) ==
          xnn_status_success)
    cases.push_back({"xnnpack f32", "GFLOP/s", [&] { xnn_run_operator(xop, nullptr); }});
#if BENCH_QS8
  std::vector<int8_t> xqout(out_n);
  if (xnn_create_convolution2d_nhwc_qs8(s.pad, s.pad, s.pad, s.pad, s.kh, s.kw, s.stride, s.stride,
                                        1, 1, 1, s.in_c, s.out_c, s.in_c, s.out_c, 3, 0.05f, 0.01f,
                                        qw.data(), qb.data(), -5, 0.1f, -5, 127, 0,
                                        &xqop) == xnn_status_success &&
      xnn_setup_convolution2d_nhwc_qs8(xqop, 1, s.in_h, s.in_w, qin.data(), xqout.data(),
                                       nullptr) == xnn_status_success)
    cases.push_back({"xnnpack qs8", "GOP/s", [&] { xnn_run_operator(xqop, nullptr); }});
#endif
#endif
  run_cases(name, cases, flops);
#if MC_BENCH_XNNPACK
  if (xop) xnn_delete_operator(xop);
  if (xqop) xnn_delete_operator(xqop);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_min_s = std::max(0.01, std::atof(argv[1]));
#if MC_BENCH_XNNPACK
  if (xnn_initialize(nullptr) != xnn_status_success) std::printf("xnn_initialize failed\n");
#endif
  std::printf("default isa: %s\n", mc::default_isa() == mc::Isa::Simd ? "simd128" : "scalar");
  bench_layer("3x3 64->64 @16x16", {16, 16, 64, 64, 3, 3, 1, 1});
  bench_layer("stem 7x7/2 3->64 @64", {64, 64, 3, 64, 7, 7, 2, 3});
  bench_layer("3x3/2 64->128 @16", {16, 16, 64, 128, 3, 3, 2, 1});
  bench_layer("3x3 128->128 @8x8", {8, 8, 128, 128, 3, 3, 1, 1});
  bench_layer("3x3 256->256 @4x4", {4, 4, 256, 256, 3, 3, 1, 1});
  bench_layer("3x3 512->512 @2x2", {2, 2, 512, 512, 3, 3, 1, 1});
  bench_layer("3x3 64->64 @24x24 (S=96)", {24, 24, 64, 64, 3, 3, 1, 1});
  return 0;
}
