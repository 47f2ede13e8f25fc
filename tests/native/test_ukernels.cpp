// Microkernel contract tests: every igemm microkernel called directly for every row count
// (1..MR) and channel count (1..8), with an output stride wider than the tile, checking the
// values against the scalar reference and that nothing outside the tile is written.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "kernels/kernels.h"

namespace {

struct F32Uk {
  mc::kernels::F32IgemmUkernel fn;
  size_t mr;
  const char* name;
};

std::vector<F32Uk> f32_ukernels() {
  std::vector<F32Uk> v{{mc::kernels::f32_igemm_ukernel_2x8__scalar, 2, "scalar 2x8"}};
#if MC_HAVE_SIMD128
  v.push_back({mc::kernels::f32_igemm_ukernel_4x8__simd128, 4, "simd128 4x8"});
  v.push_back({mc::kernels::f32_igemm_ukernel_6x8__simd128, 6, "simd128 6x8"});
  v.push_back({mc::kernels::f32_igemm_ukernel_4x8s4__simd128, 4, "simd128 4x8s4"});
#endif
  return v;
}

}  // namespace

TEST_CASE("f32 igemm microkernels: every mr x nc, untouched outside the tile", "[kernels]") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1, 1);
  const size_t kStride = 11;  // output row stride > 8
  for (size_t kc : {1, 2, 5, 8}) {
    for (size_t ks : {1, 3}) {
      // 6 rows of input per tap (distinct buffers), row-major pointers a[m * ks + t]
      std::vector<float> in(6 * ks * kc);
      for (auto& x : in) x = d(rng);
      std::vector<const float*> a(6 * ks);
      for (size_t m = 0; m < 6; m++)
        for (size_t t = 0; t < ks; t++) a[m * ks + t] = in.data() + (m * ks + t) * kc;
      std::vector<float> w(8 + ks * kc * 8);
      for (auto& x : w) x = d(rng);
      std::vector<float> r(6 * kStride);
      for (auto& x : r) x = d(rng);
      for (bool relu : {false, true})
        for (bool with_r : {false, true})
          for (const auto& uk : f32_ukernels())
            for (size_t mr = 1; mr <= uk.mr; mr++)
              for (size_t nc = 1; nc <= 8; nc++) {
                INFO(uk.name << " kc " << kc << " ks " << ks << " mr " << mr << " nc " << nc
                             << " relu " << relu << " r " << with_r);
                std::vector<float> c(6 * kStride, 777.0f);
                uk.fn(mr, nc, kc, ks, a.data(), ks, w.data(), c.data(), kStride,
                      with_r ? r.data() : nullptr, relu);
                size_t bad = 0;
                for (size_t m = 0; m < 6; m++)
                  for (size_t j = 0; j < kStride; j++) {
                    const float got = c[m * kStride + j];
                    if (m >= mr || j >= nc) {
                      bad += got != 777.0f;
                      continue;
                    }
                    // reference in the kernels' accumulation order: bit-exact
                    float acc = w[j];
                    for (size_t t = 0; t < ks; t++)
                      for (size_t k = 0; k < kc; k++) {
                        const float p = a[m * ks + t][k] * w[8 + (t * kc + k) * 8 + j];
                        acc = p + acc;
                      }
                    if (with_r) acc = acc + r[m * kStride + j];
                    if (relu && acc < 0.0f) acc = 0.0f;
                    bad += got != acc;
                  }
                CHECK(bad == 0);
              }
    }
  }
}

TEST_CASE(
    "qs8 igemm microkernels (a16, int8 and w16 weights): every mr x nc, untouched outside the tile",
    "[qs8]") {
  std::mt19937 rng(6);
  std::uniform_int_distribution<int> di(-128, 127);
  const size_t kStride = 11;
  using Uk16 = void (*)(size_t, size_t, size_t, size_t, const int16_t* const*, size_t, const void*,
                        int8_t*, size_t, const int8_t*, const mc::kernels::Qs8IgemmParams&);
  struct K16 {  // int16 activations, int8 (w16 = false) or int16 weights
    Uk16 fn;
    size_t mr;
    bool w16;
    const char* name;
  };
  std::vector<K16> uks16{
      {mc::kernels::qs8_igemm_a16_ukernel_2x8c2__scalar, 2, false, "a16 scalar 2x8c2"},
      {mc::kernels::qs8_igemm_a16_ukernel_2x8c2_w16__scalar, 2, true, "a16 scalar 2x8c2_w16"}};
#if MC_HAVE_SIMD128
  uks16.push_back(
      {mc::kernels::qs8_igemm_a16_ukernel_4x8c2__simd128, 4, false, "a16 simd128 4x8c2"});
  uks16.push_back(
      {mc::kernels::qs8_igemm_a16_ukernel_4x8c2_w16__simd128, 4, true, "a16 simd128 4x8c2_w16"});
#endif
  for (size_t kc : {1, 2, 3, 8, 9, 17}) {
    for (size_t ks : {1, 2}) {
      const size_t pairs = (kc + 1) / 2;
      // 4 rows of int16 input values in the int8 range per tap, row-major pointers a[m * ks + t]
      std::vector<int16_t> in16(4 * ks * kc);
      for (auto& x : in16) x = int16_t(di(rng));
      std::vector<const int16_t*> a16(4 * ks);
      for (size_t m = 0; m < 4; m++)
        for (size_t t = 0; t < ks; t++) a16[m * ks + t] = in16.data() + (m * ks + t) * kc;
      // packed panel: bias, scale, weights (second of an odd last pair is 0)
      std::vector<uint8_t> panel(64 + ks * pairs * 16);
      int32_t bias[8];
      float scale[8];
      for (int j = 0; j < 8; j++) {
        bias[j] = di(rng) * 50;
        scale[j] = 0.0005f + 0.0001f * float(j);
      }
      std::memcpy(panel.data(), bias, 32);
      std::memcpy(panel.data() + 32, scale, 32);
      int8_t* wp = reinterpret_cast<int8_t*>(panel.data() + 64);
      for (size_t t = 0; t < ks; t++)
        for (size_t p = 0; p < pairs; p++)
          for (size_t j = 0; j < 8; j++)
            for (size_t h = 0; h < 2; h++)
              wp[((t * pairs + p) * 8 + j) * 2 + h] = (2 * p + h < kc) ? int8_t(di(rng)) : 0;
      // the same panel with int16 weights (the w16 form)
      std::vector<uint8_t> panel16(64 + ks * pairs * 32);
      std::memcpy(panel16.data(), panel.data(), 64);
      for (size_t i = 0; i < ks * pairs * 16; i++) {
        const int16_t v = wp[i];
        std::memcpy(panel16.data() + 64 + 2 * i, &v, 2);
      }
      std::vector<int8_t> r(4 * kStride);
      for (auto& x : r) x = int8_t(di(rng));
      mc::kernels::Qs8IgemmParams prm{};
      prm.out_zero_point = -7;
      prm.out_max = float(127 + 7);
      prm.res_zero_point = 12;
      prm.res_scale = 0.37f;
      for (bool relu : {false, true})
        for (bool with_r : {false, true}) {
          prm.out_min = relu ? 0.0f : float(-128 + 7);
          std::map<std::pair<size_t, size_t>, std::vector<int8_t>> ref;  // (mr, nc) -> tile
          for (const auto& uk : uks16)
            for (size_t mr = 1; mr <= uk.mr; mr++)
              for (size_t nc = 1; nc <= 8; nc++) {
                INFO(uk.name << " kc " << kc << " ks " << ks << " mr " << mr << " nc " << nc
                             << " relu " << relu << " r " << with_r);
                std::vector<int8_t> c(4 * kStride, int8_t(99));
                uk.fn(mr, nc, kc, ks, a16.data(), ks, uk.w16 ? panel16.data() : panel.data(),
                      c.data(), kStride, with_r ? r.data() : nullptr, prm);
                size_t bad = 0;
                for (size_t m = 0; m < 4; m++)
                  for (size_t j = 0; j < kStride; j++) {
                    const int got = c[m * kStride + j];
                    if (m >= mr || j >= nc) {
                      bad += got != 99;
                      continue;
                    }
                    int32_t acc = bias[j];
                    for (size_t t = 0; t < ks; t++)
                      for (size_t k = 0; k < kc; k++)
                        acc += int32_t(a16[m * ks + t][k]) *
                               int32_t(wp[((t * pairs + k / 2) * 8 + j) * 2 + k % 2]);
                    double y = double(float(acc) * scale[j]);
                    if (with_r) y += double(float(int32_t(r[m * kStride + j]) - 12) * 0.37f);
                    y = std::min(double(prm.out_max), std::max(double(prm.out_min), y));
                    const long want = std::lrint(y) - 7;
                    // double vs float epilogue: may differ by one step only at exact ties
                    bad += std::labs(long(got) - want) > 1;
                  }
                CHECK(bad == 0);
                // scalar vs SIMD, int8 vs w16 weights: bit-exact for every shared tile
                auto& first = ref[{mr, nc}];
                if (first.empty())
                  first = c;
                else
                  CHECK(c == first);
              }
        }
    }
  }
}
