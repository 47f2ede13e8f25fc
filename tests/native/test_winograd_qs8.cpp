// Exact int8 Winograd F(2x2, 3x3): the three microkernels SIMD vs scalar (bit for bit) at
// awkward sizes, and the operator against the direct int8 convolution (same packed weights):
// the int8 outputs must be identical, at awkward shapes, with and without residual (also in
// place) and ReLU, and at the accumulation extremes (where the int32 sums wrap on the way).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "ops/conv_winograd_qs8.h"
#include "ops/ops.h"
#include "ops/ops_qs8.h"

namespace {

struct Case {
  mc::ConvShape s;
  mc::QuantParams qin, qout, qres;
  std::vector<int8_t> in, res;
  std::vector<uint8_t> packed;  // direct layout
};

// Random int8 tensors and weights; extreme = inputs all -128 / 127 and weights +-127 in a
// pattern that drives the Winograd-domain sums towards their largest magnitudes.
Case make_case(const mc::ConvShape& s, uint32_t seed, bool extreme) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d8(-128, 127), dw(-127, 127), dzp(-128, 127);
  Case c;
  c.s = s;
  c.qin = {0.03f, dzp(rng)};
  c.qres = {0.05f, dzp(rng)};
  const size_t ks = 9, kc = size_t(s.in_c);
  const size_t in_n = size_t(s.in_h) * s.in_w * kc, out_n = size_t(s.out_h()) * s.out_w() * s.out_c;
  c.in.resize(in_n);
  c.res.resize(out_n);
  std::vector<int8_t> w(size_t(s.out_c) * ks * kc);
  for (size_t i = 0; i < in_n; i++)
    c.in[i] = int8_t(extreme ? ((i / kc) % 3 ? -128 : 127) : d8(rng));
  for (auto& x : c.res) x = int8_t(d8(rng));
  for (size_t i = 0; i < w.size(); i++) {
    const size_t t = (i / kc) % ks;  // OHWI: tap of this weight
    w[i] = int8_t(extreme ? ((t == 4 || t % 2 == 1) ? -127 : 127) : dw(rng));
  }
  std::vector<float> ws(size_t(s.out_c));
  std::vector<int32_t> bq(size_t(s.out_c));
  for (auto& x : ws) x = 0.001f * float(1 + rng() % 50);
  // output scale: a typical |sum| (acc) times the mean weight scale (0.025) maps to ~50, so
  // that most outputs land inside the int8 range (check_exact verifies they are not saturated);
  // biases of the same order
  const double acc = extreme ? 9.0 * kc * 128 * 127 : 40.0 * 128 * std::sqrt(9.0 * kc);
  std::uniform_int_distribution<int> db(-int(acc / 2), int(acc / 2));
  for (auto& x : bq) x = db(rng);
  c.qout = {float(acc * c.qin.scale * 0.025 / 50.0), int(rng() % 61) - 30};
  c.packed.resize(mc::conv_packed_qs8_size(s));
  mc::conv_pack_qs8(s, w.data(), ws.data(), bq.data(), c.qin, c.qout, c.packed.data());
  return c;
}

std::vector<int8_t> run_direct(const Case& c, int res_mode, bool relu) {
  std::vector<int16_t> in16(c.in.size()), zero(size_t(c.s.in_c), int16_t(c.qin.zero_point));
  mc::widen_qs8_a16(c.in.size(), c.in.data(), in16.data());
  std::vector<const int16_t*> ind(mc::conv_indirection_size(c.s));
  mc::conv_setup_indirection_qs8_a16(c.s, in16.data(), zero.data(), ind.data());
  std::vector<int8_t> out = res_mode == 2 ? c.res : std::vector<int8_t>(c.res.size(), 77);
  const int8_t* r = res_mode == 0 ? nullptr : res_mode == 1 ? c.res.data() : out.data();
  mc::conv_run_qs8_a16(c.s, ind.data(), c.packed.data(), false, out.data(), r, c.qres, relu,
                       mc::Isa::Scalar);
  return out;
}

std::vector<int8_t> run_winograd(const Case& c, int res_mode, bool relu, mc::Isa isa) {
  std::vector<uint8_t> wg(mc::conv_winograd_qs8_packed_size(c.s));
  REQUIRE(!wg.empty());
  REQUIRE(mc::conv_winograd_qs8_pack_from_igemm(c.s, c.packed.data(), wg.data()));
  std::vector<uint8_t> scratch(mc::conv_winograd_qs8_scratch_size(c.s), 0xA5);
  std::vector<const int8_t*> ind(mc::conv_winograd_qs8_indirection_size(c.s));
  std::vector<int8_t> zero(size_t(c.s.in_c), int8_t(c.qin.zero_point));
  mc::conv_winograd_qs8_setup(c.s, c.in.data(), zero.data(), ind.data());
  std::vector<int8_t> out = res_mode == 2 ? c.res : std::vector<int8_t>(c.res.size(), -77);
  const int8_t* r = res_mode == 0 ? nullptr : res_mode == 1 ? c.res.data() : out.data();
  mc::conv_winograd_qs8_run(c.s, ind.data(), wg.data(), scratch.data(), out.data(), r, c.qres, relu,
                            isa);
  return out;
}

void check_exact(const mc::ConvShape& s, uint32_t seed, bool extreme = false) {
  const Case c = make_case(s, seed, extreme);
  {  // the comparison means something only where outputs are not clamped to the int8 range
    const std::vector<int8_t> y = run_direct(c, 0, false);
    const size_t inside =
        size_t(std::count_if(y.begin(), y.end(), [](int8_t v) { return v > -128 && v < 127; }));
    INFO("shape " << s.in_h << "x" << s.in_w << "x" << s.in_c << " -> " << s.out_c << ": " << inside
                  << " of " << y.size() << " outputs unsaturated");
    CHECK(inside * 2 >= y.size());
  }
  for (int res_mode = 0; res_mode < 3; res_mode++)
    for (bool relu : {false, true}) {
      INFO("shape " << s.in_h << "x" << s.in_w << "x" << s.in_c << " -> " << s.out_c << " res "
                    << res_mode << " relu " << relu << " extreme " << extreme);
      const std::vector<int8_t> want = run_direct(c, res_mode, relu);
      CHECK(run_winograd(c, res_mode, relu, mc::Isa::Scalar) == want);
      CHECK(run_winograd(c, res_mode, relu, mc::Isa::Simd) == want);
    }
}

}  // namespace

TEST_CASE("qs8 winograd: applicability and layout", "[winograd][qs8]") {
  CHECK(mc::conv_winograd_qs8_applicable({16, 16, 64, 64, 3, 3, 1, 1}));
  CHECK(mc::conv_winograd_qs8_applicable({1, 1, 1, 1, 3, 3, 1, 1}));
  CHECK(mc::conv_winograd_qs8_applicable({2, 2, 2048, 8, 3, 3, 1, 1}));
  CHECK_FALSE(mc::conv_winograd_qs8_applicable({2, 2, 2049, 8, 3, 3, 1, 1}));  // Y may not fit
  CHECK_FALSE(mc::conv_winograd_qs8_applicable({16, 16, 64, 64, 3, 3, 2, 1}));
  CHECK_FALSE(mc::conv_winograd_qs8_applicable({16, 16, 64, 64, 1, 1, 1, 0}));
  CHECK_FALSE(mc::conv_winograd_qs8_applicable({16, 16, 64, 64, 3, 3, 1, 0}));
  CHECK(mc::conv_winograd_qs8_packed_size({16, 16, 64, 64, 3, 3, 2, 1}) == 0);
  CHECK(mc::conv_winograd_qs8_scratch_size({16, 16, 64, 64, 1, 1, 1, 0}) == 0);
  // header + bias + scale + 16 positions x 8 panels x 32 pairs x 8 x 2 int16
  CHECK(mc::conv_winograd_qs8_packed_size({16, 16, 64, 64, 3, 3, 1, 1}) ==
        16 + 64 * 8 + 16 * 8 * 32 * 16 * 2);
  CHECK(std::string(mc::conv_winograd_qs8_layout_name()) == "winograd-qs8-f2x2-w16");
  // invalid header parameters: nothing is written
  Case c = make_case({4, 4, 8, 8, 3, 3, 1, 1}, 5, false);
  std::vector<uint8_t> wg(mc::conv_winograd_qs8_packed_size(c.s));
  REQUIRE(mc::conv_winograd_qs8_pack_from_igemm(c.s, c.packed.data(), wg.data()));
  const int32_t bad_zp = 300;
  std::memcpy(wg.data() + 12, &bad_zp, 4);  // output zero point
  std::vector<uint8_t> scratch(mc::conv_winograd_qs8_scratch_size(c.s));
  std::vector<const int8_t*> ind(mc::conv_winograd_qs8_indirection_size(c.s));
  std::vector<int8_t> zero(8, 0), out(4 * 4 * 8, 55);
  mc::conv_winograd_qs8_setup(c.s, c.in.data(), zero.data(), ind.data());
  mc::conv_winograd_qs8_run(c.s, ind.data(), wg.data(), scratch.data(), out.data(), nullptr, c.qres,
                            true);
  CHECK(std::all_of(out.begin(), out.end(), [](int8_t v) { return v == 55; }));
}

TEST_CASE("qs8 winograd: equals the direct conv bit for bit at awkward shapes", "[winograd][qs8]") {
  uint32_t seed = 1;
  const int chans[] = {1, 3, 13, 127};
  for (int in_c : chans)
    for (int out_c : chans)
      for (int hw : {1, 3, 13})
        check_exact({hw, hw == 13 ? 5 : hw, in_c, out_c, 3, 3, 1, 1}, seed++);
  check_exact({16, 16, 64, 64, 3, 3, 1, 1}, 100);  // ResNet18 layer1 at S=64
  check_exact({8, 8, 128, 128, 3, 3, 1, 1}, 101);  // layer2
  check_exact({4, 4, 256, 256, 3, 3, 1, 1}, 102);  // layer3
  check_exact({7, 2, 24, 16, 3, 3, 1, 1}, 103);
}

TEST_CASE("qs8 winograd: exact at the accumulation extremes", "[winograd][qs8]") {
  check_exact({4, 4, 512, 8, 3, 3, 1, 1}, 200, true);
  check_exact({3, 5, 2048, 9, 3, 3, 1, 1}, 201, true);  // the largest in_c allowed
  check_exact({5, 4, 64, 16, 3, 3, 1, 1}, 202, true);
}

TEST_CASE("qs8 winograd microkernels: SIMD equals scalar", "[winograd][qs8][kernels]") {
#if MC_HAVE_SIMD128
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d8(-128, 127), d16(-1143, 1143);
  std::uniform_int_distribution<int32_t> d32(-2000000000, 2000000000);
  for (size_t c : {size_t(1), size_t(3), size_t(8), size_t(13), size_t(127), size_t(128)}) {
    // input transform: 16 tile rows of c channels
    std::vector<int8_t> tile(16 * c);
    for (auto& x : tile) x = int8_t(d8(rng));
    const int8_t* d[16];
    for (int i = 0; i < 16; i++) d[i] = tile.data() + size_t(i) * c;
    std::vector<int16_t> v0(16 * (c + 3), 1), v1(16 * (c + 3), 1);
    mc::kernels::qs8_winograd_input_ukernel_4x4__scalar(c, d, v0.data(), c + 3);
    mc::kernels::qs8_winograd_input_ukernel_4x4__simd128(c, d, v1.data(), c + 3);
    CHECK(v0 == v1);
    // output transform: wrapping sums, every rows x cols, with and without residual
    const size_t cp = (c + 7) / 8 * 8;
    std::vector<int32_t> m(16 * (c + 1)), bias(cp);
    std::vector<float> scale(cp);
    for (auto& x : m) x = d32(rng);
    for (auto& x : bias) x = d32(rng) / 4;
    for (auto& x : scale) x = 1e-7f * float(1 + rng() % 100);
    std::vector<int8_t> r(2 * 2 * c);
    for (auto& x : r) x = int8_t(d8(rng));
    mc::kernels::Qs8IgemmParams p{-5, -123.0f, 132.0f, 7, 0.7f};
    for (size_t rows = 1; rows <= 2; rows++)
      for (size_t cols = 1; cols <= 2; cols++)
        for (bool res : {false, true}) {
          std::vector<int8_t> o0(2 * 2 * c, 9), o1(2 * 2 * c, 9);
          mc::kernels::qs8_winograd_output_ukernel_4x4__scalar(c, m.data(), c + 1, bias.data(),
                                                               scale.data(), o0.data(), 2 * c, rows,
                                                               cols, res ? r.data() : nullptr, p);
          mc::kernels::qs8_winograd_output_ukernel_4x4__simd128(
              c, m.data(), c + 1, bias.data(), scale.data(), o1.data(), 2 * c, rows, cols,
              res ? r.data() : nullptr, p);
          CHECK(o0 == o1);
        }
  }
  // GEMM: every mr and nc, even kc (the odd in_c are padded by the operator)
  for (size_t kc : {size_t(2), size_t(6), size_t(8), size_t(14), size_t(128), size_t(130)})
    for (size_t mr = 1; mr <= 4; mr++)
      for (size_t nc : {size_t(1), size_t(3), size_t(8)}) {
        std::vector<int16_t> a(4 * (kc + 2)), w(kc / 2 * 16);
        for (auto& x : a) x = int16_t(d16(rng) / 2);
        for (auto& x : w) x = int16_t(d16(rng));
        std::vector<int32_t> c0(4 * 9, 3), c1(4 * 9, 3);
        for (size_t m0 = 0; m0 < mr; m0 += 2)  // the scalar kernel does 2 rows
          mc::kernels::s16_gemm_ukernel_2x8c2__scalar(std::min<size_t>(2, mr - m0), nc, kc,
                                                      a.data() + m0 * (kc + 2), kc + 2, w.data(),
                                                      c0.data() + m0 * 9, 9);
        mc::kernels::s16_gemm_ukernel_4x8c2__simd128(mr, nc, kc, a.data(), kc + 2, w.data(),
                                                     c1.data(), 9);
        INFO("kc " << kc << " mr " << mr << " nc " << nc);
        CHECK(c0 == c1);
      }
#else
  SUCCEED("no SIMD in this build: the operator tests run the scalar kernels");
#endif
}
