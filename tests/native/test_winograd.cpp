// Winograd F(2x2, 3x3) and F(4x4, 3x3) f32 convolution: transform microkernels SIMD vs scalar (bit
// for bit) at awkward channel counts, and the operator against the direct convolution (same packed
// weights) at awkward shapes, with and without residual (also in place) and ReLU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "ops/conv_winograd_f32.h"
#include "ops/ops.h"

namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Runs the Winograd convolution; res_mode 0 = none, 1 = separate residual, 2 = in place.
std::vector<float> run_winograd(const mc::ConvShape& s, int m, const std::vector<float>& in,
                                const std::vector<float>& packed, const std::vector<float>& res,
                                int res_mode, bool relu, mc::Isa isa) {
  std::vector<float> wg(mc::conv_winograd_f32_packed_size(s, m));
  REQUIRE(mc::conv_winograd_f32_pack_from_igemm(s, m, packed.data(), wg.data()));
  std::vector<float> scratch(mc::conv_winograd_f32_scratch_size(s, m), 12345.0f);
  std::vector<const float*> ind(mc::conv_winograd_f32_indirection_size(s, m));
  std::vector<float> zero(size_t(s.in_c), 0.0f);
  mc::conv_winograd_f32_setup(s, m, in.data(), zero.data(), scratch.data(), ind.data());
  std::vector<float> out = res_mode == 2 ? res : std::vector<float>(res.size(), 777.0f);
  const float* r = res_mode == 0 ? nullptr : res_mode == 1 ? res.data() : out.data();
  mc::conv_winograd_f32_run(s, m, ind.data(), wg.data(), scratch.data(), out.data(), r, relu, isa);
  return out;
}

std::vector<float> run_direct(const mc::ConvShape& s, const std::vector<float>& in,
                              const std::vector<float>& packed, const std::vector<float>& res,
                              int res_mode, bool relu) {
  std::vector<const float*> ind(mc::conv_indirection_size(s));
  std::vector<float> zero(size_t(s.in_c), 0.0f);
  mc::conv_setup_indirection(s, in.data(), zero.data(), ind.data());
  std::vector<float> out(res.size(), 777.0f);
  mc::conv_run_f32(s, ind.data(), packed.data(), out.data(), res_mode ? res.data() : nullptr, relu,
                   mc::Isa::Scalar);
  return out;
}

}  // namespace

TEST_CASE("winograd: applicability", "[winograd]") {
  for (int m : {2, 4}) {
    CHECK(mc::conv_winograd_f32_applicable(mc::ConvShape{16, 16, 64, 64, 3, 3, 1, 1}, m));
    CHECK(mc::conv_winograd_f32_applicable(mc::ConvShape{1, 1, 1, 1, 3, 3, 1, 1}, m));
    CHECK_FALSE(mc::conv_winograd_f32_applicable(mc::ConvShape{16, 16, 64, 64, 3, 3, 2, 1}, m));
    CHECK_FALSE(mc::conv_winograd_f32_applicable(mc::ConvShape{16, 16, 64, 64, 1, 1, 1, 0}, m));
    CHECK_FALSE(mc::conv_winograd_f32_applicable(mc::ConvShape{16, 16, 64, 64, 3, 3, 1, 0}, m));
    CHECK_FALSE(mc::conv_winograd_f32_applicable(mc::ConvShape{16, 16, 0, 64, 3, 3, 1, 1}, m));
    CHECK(mc::conv_winograd_f32_packed_size(mc::ConvShape{16, 16, 64, 64, 3, 3, 2, 1}, m) == 0);
  }
  CHECK_FALSE(mc::conv_winograd_f32_applicable(mc::ConvShape{16, 16, 64, 64, 3, 3, 1, 1}, 3));
}

#if MC_HAVE_SIMD128
TEST_CASE("winograd transform microkernels: simd128 == scalar, bit for bit",
          "[winograd][kernels]") {
  using InUk = void (*)(size_t, const float* const*, float*, size_t);
  using OutUk = void (*)(size_t, const float*, size_t, const float*, float*, size_t, size_t, size_t,
                         const float*, bool);
  struct Fam {
    size_t a;
    InUk in_s, in_v;
    OutUk out_s, out_v;
  };
  const Fam fams[] = {{4, mc::kernels::f32_winograd_input_ukernel_4x4__scalar,
                       mc::kernels::f32_winograd_input_ukernel_4x4__simd128,
                       mc::kernels::f32_winograd_output_ukernel_4x4__scalar,
                       mc::kernels::f32_winograd_output_ukernel_4x4__simd128},
                      {6, mc::kernels::f32_winograd_input_ukernel_6x6__scalar,
                       mc::kernels::f32_winograd_input_ukernel_6x6__simd128,
                       mc::kernels::f32_winograd_output_ukernel_6x6__scalar,
                       mc::kernels::f32_winograd_output_ukernel_6x6__simd128}};
  std::mt19937 rng(11);
  for (const Fam& f : fams)
    for (size_t c : {1, 3, 4, 13, 64, 127}) {
      INFO("tile " << f.a << " c " << c);
      const size_t P = f.a * f.a, om = f.a - 2;  // positions, outputs per tile side
      // input: P distinct pixel vectors, v stride wider than c
      const size_t vs = c + 5;
      std::vector<float> pix = random_vec(P * c, rng);
      std::vector<const float*> d(P);
      for (size_t x = 0; x < P; x++) d[x] = pix.data() + ((x * 7) % P) * c;
      std::vector<float> v0(P * vs, 9.0f), v1(P * vs, 9.0f);
      f.in_s(c, d.data(), v0.data(), vs);
      f.in_v(c, d.data(), v1.data(), vs);
      CHECK(v0 == v1);
      // output: every rows x cols, with and without residual / relu
      const size_t ms = c + 3, ys = (om + 1) * c;  // an output row holds om + 1 pixels
      std::vector<float> m = random_vec(P * ms, rng, -3, 3);
      std::vector<float> bias = random_vec(c, rng);
      std::vector<float> res = random_vec(om * ys, rng);
      for (size_t rows = 1; rows <= om; rows++)
        for (size_t cols = 1; cols <= om; cols++)
          for (bool relu : {false, true})
            for (bool with_r : {false, true}) {
              std::vector<float> y0(om * ys, 5.0f), y1(om * ys, 5.0f);
              f.out_s(c, m.data(), ms, bias.data(), y0.data(), ys, rows, cols,
                      with_r ? res.data() : nullptr, relu);
              f.out_v(c, m.data(), ms, bias.data(), y1.data(), ys, rows, cols,
                      with_r ? res.data() : nullptr, relu);
              CHECK(y0 == y1);
              // nothing outside rows x cols written
              for (size_t i = 0; i < om; i++)
                for (size_t j = 0; j <= om; j++)
                  if (i >= rows || j >= cols)
                    for (size_t k = 0; k < c; k++) CHECK(y1[i * ys + j * c + k] == 5.0f);
            }
    }
}
#endif

TEST_CASE("winograd conv == direct conv (rounding only), simd == scalar", "[winograd]") {
  std::mt19937 rng(3);
  struct Dims {
    int h, w;
  };
  const Dims sizes[] = {{1, 1}, {3, 3}, {5, 7}, {7, 5}, {13, 13}, {2, 16}, {16, 16}};
  const int chans[][2] = {{1, 1}, {3, 13}, {13, 3}, {127, 13}, {13, 127}, {64, 64}};
  double worst[5] = {0, 0, 0, 0, 0};
  for (int m : {2, 4})
    for (const Dims& d : sizes)
      for (const auto& ch : chans) {
        const mc::ConvShape s{d.h, d.w, ch[0], ch[1], 3, 3, 1, 1};
        REQUIRE(mc::conv_winograd_f32_applicable(s, m));
        const size_t n_in = size_t(d.h) * d.w * ch[0], n_out = size_t(d.h) * d.w * ch[1];
        std::vector<float> in = random_vec(n_in, rng);
        std::vector<float> w = random_vec(size_t(ch[1]) * 9 * ch[0], rng, -0.3f, 0.3f);
        std::vector<float> b = random_vec(size_t(ch[1]), rng);
        std::vector<float> packed(mc::conv_packed_f32_size(s));
        mc::conv_pack_f32(s, w.data(), b.data(), packed.data());
        std::vector<float> res = random_vec(n_out, rng);
        for (int res_mode : {0, 1, 2})
          for (bool relu : {false, true}) {
            INFO("m " << m << " " << d.h << "x" << d.w << " in_c " << ch[0] << " out_c " << ch[1]
                      << " res " << res_mode << " relu " << relu);
            const std::vector<float> ref = run_direct(s, in, packed, res, res_mode, relu);
            const std::vector<float> sc =
                run_winograd(s, m, in, packed, res, res_mode, relu, mc::Isa::Scalar);
            const std::vector<float> si =
                run_winograd(s, m, in, packed, res, res_mode, relu, mc::Isa::Simd);
            // scale of the error: the largest output magnitude (Winograd's rounding grows with
            // the magnitudes of the transformed inputs, not of each output)
            double scale = 1;
            for (float v : ref) scale = std::max(scale, double(std::fabs(v)));
            double e = 0;
            for (size_t i = 0; i < ref.size(); i++)
              e = std::max(e, double(std::fabs(sc[i] - ref[i])));
            worst[m] = std::max(worst[m], e / scale);
            CHECK(e <= 1e-4 * scale);
            CHECK(sc == si);
          }
      }
  WARN("winograd vs direct, worst error / largest output: F(2x2) " << worst[2] << ", F(4x4) "
                                                                   << worst[4]);
}
