// qs8 (int8) kernel/operator tests: SIMD vs scalar reference bit-exact, and both against float
// references: (a) the conv of the dequantized operands, within half an output step, and (b) the
// conv of the original float tensors, within the propagated quantization error bound.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"
#include "ops/ops_detail.h"
#include "ops/ops_qs8.h"
#include "test_util.h"

namespace {

std::vector<float> rnd(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct ConvRef {
  std::vector<double> deq;    // conv of the dequantized operands (before output quantization)
  std::vector<double> orig;   // conv of the original float operands
  std::vector<double> bound;  // |orig - deq| bound from the operand quantization
};

void check_conv_qs8(const mc::ConvShape& s, bool with_res, bool relu, uint32_t seed) {
  INFO("qs8 shape in " << s.in_h << "x" << s.in_w << "x" << s.in_c << " out_c " << s.out_c << " k "
                       << s.kh << "x" << s.kw << " stride " << s.stride << " pad " << s.pad
                       << " res " << with_res << " relu " << relu);
  REQUIRE(mc::conv_shape_valid(s));
  std::mt19937 rng(seed);
  const size_t ks = size_t(s.kh) * s.kw, kc = size_t(s.in_c);
  const size_t in_n = size_t(s.in_h) * s.in_w * kc, w_n = size_t(s.out_c) * ks * kc;
  const size_t out_n = size_t(s.out_h()) * s.out_w() * s.out_c;
  // asymmetric input range (post-ReLU-like with a tail), weights ~ He-like scale
  auto in = rnd(in_n, rng, -0.5f, 2.0f);
  const float wr = 1.0f / std::sqrt(float(ks * kc));
  auto w = rnd(w_n, rng, -wr, wr);
  auto b = rnd(size_t(s.out_c), rng, -0.3f, 0.3f);
  auto res = rnd(out_n, rng, -1.0f, 1.5f);
  const mc::QuantParams qin = mc::choose_qs8_params(-0.5f, 2.0f);
  const mc::QuantParams qres = mc::choose_qs8_params(-1.0f, 1.5f);
  std::vector<int8_t> in_q(in_n), res_q(out_n), w_q(w_n);
  std::vector<float> w_s(size_t(s.out_c)), in_d(in_n), res_d(out_n);
  std::vector<int32_t> b_q(size_t(s.out_c));
  mc::quantize_f32_qs8(in_n, in.data(), qin, in_q.data());
  mc::quantize_f32_qs8(out_n, res.data(), qres, res_q.data());
  mc::dequantize_qs8_f32(in_n, in_q.data(), qin, in_d.data());
  mc::dequantize_qs8_f32(out_n, res_q.data(), qres, res_d.data());
  mc::quantize_conv_weights_qs8(s, w.data(), b.data(), qin.scale, w_q.data(), w_s.data(),
                                b_q.data());

  ConvRef ref;
  ref.deq.assign(out_n, 0);
  ref.orig.assign(out_n, 0);
  ref.bound.assign(out_n, 0);
  const int oh = s.out_h(), ow = s.out_w();
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      for (int o = 0; o < s.out_c; o++) {
        const double sw = w_s[size_t(o)];
        double d = double(b_q[size_t(o)]) * qin.scale * sw, f = b[size_t(o)];
        double bd = 0.5 * qin.scale * sw;
        for (int ky = 0; ky < s.kh; ky++)
          for (int kx = 0; kx < s.kw; kx++) {
            const int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
            if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
            for (size_t k = 0; k < kc; k++) {
              const size_t ii = (size_t(iy) * s.in_w + ix) * kc + k;
              const size_t wi = ((size_t(o) * s.kh + ky) * s.kw + kx) * kc + k;
              d += double(in_d[ii]) * (double(w_q[wi]) * sw);
              f += double(in[ii]) * double(w[wi]);
              bd += 0.5 * qin.scale * std::fabs(w[wi]) + std::fabs(in_d[ii]) * 0.5 * sw;
            }
          }
        const size_t idx = (size_t(oy) * ow + ox) * s.out_c + size_t(o);
        if (with_res) {
          d += res_d[idx];
          f += res[idx];
          bd += 0.5 * qres.scale;
        }
        if (relu) {
          d = std::max(d, 0.0);
          f = std::max(f, 0.0);
        }
        ref.deq[idx] = d;
        ref.orig[idx] = f;
        ref.bound[idx] = bd;
      }
  double lo = 0, hi = 0;
  for (double v : ref.deq) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // a slightly narrow output range so that some values saturate
  const mc::QuantParams qout = mc::choose_qs8_params(float(lo * 0.95), float(hi * 0.95));

  std::vector<uint8_t> packed(mc::conv_packed_qs8_size(s));
  REQUIRE(packed.size() > 16);
  mc::conv_pack_qs8(s, w_q.data(), w_s.data(), b_q.data(), qin, qout, packed.data());
  CHECK(mc::conv_packed_qs8_output_params(packed.data()).zero_point == qout.zero_point);
  CHECK(mc::conv_packed_qs8_input_params(packed.data()).scale == qin.scale);
  // the int8 input as the run reads it: an int16 copy (a16), padding taps at the zero point
  std::vector<int16_t> in16(in_n + 1, int16_t(0x5555)), zero16(kc, int16_t(qin.zero_point));
  mc::widen_qs8_a16(in_n, in_q.data(), in16.data());
  CHECK(in16[in_n] == 0x5555);
  for (size_t i = 0; i < in_n; i++) REQUIRE(in16[i] == in_q[i]);
  std::vector<const int16_t*> ind16(mc::conv_indirection_size(s));
  mc::conv_setup_indirection_qs8_a16(s, in16.data(), zero16.data(), ind16.data());

  std::vector<int8_t> first;
  for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
    INFO("isa " << (isa == mc::Isa::Simd ? "simd" : "scalar"));
    std::vector<int8_t> out(out_n + 1, int8_t(77));
    mc::conv_run_qs8_a16(s, ind16.data(), packed.data(), false, out.data(),
                         with_res ? res_q.data() : nullptr, qres, relu, isa);
    CHECK(out[out_n] == 77);
    out.pop_back();
    size_t bad_deq = 0, bad_orig = 0;
    const double omin = double(qout.scale) * (-128 - qout.zero_point),
                 omax = double(qout.scale) * (127 - qout.zero_point);
    for (size_t i = 0; i < out_n; i++) {
      const double got = double(qout.scale) * (int32_t(out[i]) - qout.zero_point);
      const double want_d = std::min(omax, std::max(omin, ref.deq[i]));
      const double want_f = std::min(omax, std::max(omin, ref.orig[i]));
      if (!(std::fabs(got - want_d) <= qout.scale * 0.501)) {
        if (bad_deq++ < 3) UNSCOPED_INFO("i=" << i << " got " << got << " want " << want_d);
      }
      if (!(std::fabs(got - want_f) <= qout.scale * 0.501 + ref.bound[i] * 1.01)) bad_orig++;
    }
    CHECK(bad_deq == 0);
    CHECK(bad_orig == 0);
    if (first.empty()) {
      first = out;
    } else {
      size_t diff = 0;
      for (size_t i = 0; i < out_n; i++) diff += out[i] != first[i];
      CHECK(diff == 0);  // integer math + identical fp32 epilogue: bit-exact
    }
  }

  // the w16 form of the weights (int16): the same int8 output, every ISA, in place too
  std::vector<uint8_t> pw(mc::conv_packed_qs8_w16_size(s));
  const size_t panels = size_t(s.out_c + 7) / 8;  // each: 64 bytes of bias and scale, weights x2
  REQUIRE(pw.size() == 16 + 2 * (packed.size() - 16) - 64 * panels);
  mc::conv_widen_packed_qs8_w16(s, packed.data(), pw.data());
  for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd})
    for (bool w16 : {false, true}) {
      INFO("a16 isa " << (isa == mc::Isa::Simd ? "simd" : "scalar") << " w16 " << w16);
      const void* wts = w16 ? static_cast<const void*>(pw.data()) : packed.data();
      std::vector<int8_t> out(out_n + 1, int8_t(77));
      mc::conv_run_qs8_a16(s, ind16.data(), wts, w16, out.data(), with_res ? res_q.data() : nullptr,
                           qres, relu, isa);
      CHECK(out[out_n] == 77);
      out.pop_back();
      CHECK(out == first);
      if (with_res) {  // the residual may be the output buffer itself (in-place add)
        std::vector<int8_t> inplace = res_q;
        mc::conv_run_qs8_a16(s, ind16.data(), wts, w16, inplace.data(), inplace.data(), qres, relu,
                             isa);
        CHECK(inplace == first);
      }
    }

  // a 2x2 output: each pixel skips the taps in the padding (conv_run_qs8_a16_tapmask), the
  // same output bit for bit
  const size_t tn = mc::conv_qs8_a16_tapmask_size(s);
  bool pads = false;
  for (int m = 0; m < 4; m++)
    for (int ky = 0; ky < s.kh; ky++)
      for (int kx = 0; kx < s.kw; kx++) {
        const int iy = (m / 2) * s.stride - s.pad + ky, ix = (m % 2) * s.stride - s.pad + kx;
        pads = pads || iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w;
      }
  CHECK((tn > 0) == (s.out_h() == 2 && s.out_w() == 2 && pads));
  if (tn == 0) return;
  for (bool w16 : {false, true}) {
    const void* wts = w16 ? static_cast<const void*>(pw.data()) : packed.data();
    std::vector<int32_t> init(tn + 1, 12345);
    REQUIRE(mc::conv_qs8_a16_tapmask_setup(s, wts, w16, init.data()));
    CHECK(init[tn] == 12345);
    for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
      INFO("tapmask isa " << (isa == mc::Isa::Simd ? "simd" : "scalar") << " w16 " << w16);
      std::vector<int8_t> out(out_n + 1, int8_t(77));
      REQUIRE(mc::conv_run_qs8_a16_tapmask(s, ind16.data(), wts, w16, init.data(), out.data(),
                                           with_res ? res_q.data() : nullptr, qres, relu, isa));
      CHECK(out[out_n] == 77);
      out.pop_back();
      CHECK(out == first);
      if (with_res) {
        std::vector<int8_t> inplace = res_q;
        REQUIRE(mc::conv_run_qs8_a16_tapmask(s, ind16.data(), wts, w16, init.data(), inplace.data(),
                                             inplace.data(), qres, relu, isa));
        CHECK(inplace == first);
      }
    }
  }
}

}  // namespace

// Outputs of 2x2 (layer4 at S = 64 and its stride-2 entry; awkward channel counts; kernels whose
// taps reach past the input on every side): the tapmask run equals the plain one.
TEST_CASE("qs8 conv: 2x2 outputs skip the padding's taps, bit-identical", "[qs8]") {
  uint32_t seed = 500;
  const int chans[] = {1, 3, 13, 127};
  for (int in_c : chans)
    for (int out_c : chans) {
      check_conv_qs8({2, 2, in_c, out_c, 3, 3, 1, 1}, (seed & 1) != 0, (seed & 2) != 0, seed);
      ++seed;
      check_conv_qs8({4, 4, in_c, out_c, 3, 3, 2, 1}, (seed & 1) != 0, (seed & 2) != 0, seed);
      ++seed;
    }
  check_conv_qs8({3, 3, 13, 9, 3, 3, 2, 1}, true, true, 540);   // odd input, stride 2
  check_conv_qs8({2, 2, 5, 17, 5, 5, 1, 2}, true, false, 541);  // 5x5: 25 taps, pad 2
  check_conv_qs8({3, 2, 7, 8, 3, 2, 1, 1}, false, true, 542);   // a 3x2 kernel
  check_conv_qs8({3, 3, 8, 8, 2, 2, 1, 0}, false, false, 543);  // 2x2 out, no padding: n/a
  check_conv_qs8({3, 3, 8, 8, 3, 3, 1, 1}, false, false, 544);  // 3x3 out: n/a
}

// Several images in one pass (ConvShape::n): each image's 4 pixels are one tile.
TEST_CASE("qs8 conv: the tapmask run over a pass of images equals the plain run", "[qs8]") {
  for (int n : {1, 2, 3, 8})
    for (int in_c : {3, 64}) {
      mc::ConvShape s{2, 2, in_c, 24, 3, 3, 1, 1};
      s.n = n;
      std::mt19937 rng(uint32_t(n * 100 + in_c));
      std::uniform_int_distribution<int> q(-128, 127), wq(-127, 127);
      const size_t ks = 9, per_o = ks * size_t(in_c);
      std::vector<int8_t> w_q(per_o * 24);
      for (auto& v : w_q) v = int8_t(wq(rng));
      std::vector<float> w_s(24, 0.01f);
      std::vector<int32_t> b_q(24);
      for (auto& v : b_q) v = q(rng) * 50;
      const mc::QuantParams qin{0.05f, -7}, qout{0.2f, 3};
      std::vector<uint8_t> packed(mc::conv_packed_qs8_size(s));
      mc::conv_pack_qs8(s, w_q.data(), w_s.data(), b_q.data(), qin, qout, packed.data());
      const size_t in_n = size_t(n) * 4 * size_t(in_c), out_n = size_t(n) * 4 * 24;
      std::vector<int16_t> in16(in_n), zero16(size_t(in_c), int16_t(qin.zero_point));
      for (auto& v : in16) v = int16_t(q(rng));
      std::vector<const int16_t*> ind(mc::conv_indirection_size(s));
      mc::conv_setup_indirection_qs8_a16(s, in16.data(), zero16.data(), ind.data());
      std::vector<int8_t> want(out_n), got(out_n);
      std::vector<int32_t> init(mc::conv_qs8_a16_tapmask_size(s));
      REQUIRE(!init.empty());
      REQUIRE(mc::conv_qs8_a16_tapmask_setup(s, packed.data(), false, init.data()));
      for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
        INFO("n " << n << " in_c " << in_c << " isa " << int(isa));
        mc::conv_run_qs8_a16(s, ind.data(), packed.data(), false, want.data(), nullptr, qout, true,
                             isa);
        REQUIRE(mc::conv_run_qs8_a16_tapmask(s, ind.data(), packed.data(), false, init.data(),
                                             got.data(), nullptr, qout, true, isa));
        CHECK(got == want);
      }
    }
}

TEST_CASE("qs8 quantize / dequantize / params", "[qs8]") {
  CHECK(std::string(mc::conv_packed_qs8_layout_name()) == "igemm-qs8-nr8-kp2-v1");
  CHECK(std::string(mc::conv_packed_qs8_w16_layout_name()) == "igemm-qs8-nr8-kp2-w16");
  const mc::QuantParams q = mc::choose_qs8_params(-1.0f, 3.0f);
  CHECK(mc::quant_params_valid(q));
  CHECK(q.scale == Approx(4.0 / 255));
  // real 0 is exactly representable
  const float zero = 0.0f;
  int8_t z;
  mc::quantize_f32_qs8(1, &zero, q, &z);
  CHECK(z == q.zero_point);
  const float xs[] = {-5.0f, -1.0f, -0.3f, 0.0f, 0.01f, 1.7f, 3.0f, 100.0f, NAN};
  int8_t qs[9];
  float back[9];
  mc::quantize_f32_qs8(9, xs, q, qs);
  mc::dequantize_qs8_f32(9, qs, q, back);
  CHECK(qs[0] == -128);
  CHECK(qs[7] == 127);
  CHECK(qs[8] == q.zero_point);
  for (int i = 1; i < 7; i++) CHECK(std::fabs(back[i] - xs[i]) <= q.scale * 0.5f + 1e-6f);
  CHECK_FALSE(mc::quant_params_valid({0.0f, 0}));
  CHECK_FALSE(mc::quant_params_valid({1.0f, 128}));
  CHECK_FALSE(mc::quant_params_valid({NAN, 0}));
  CHECK(mc::choose_qs8_params(0.0f, 0.0f).scale == 1.0f);
}

TEST_CASE("qs8 conv: awkward sizes", "[qs8]") {
  mc_test_util::for_each_awkward_conv(check_conv_qs8);
  check_conv_qs8({5, 5, 24, 16, 3, 3, 1, 1}, true, true, 304);  // in_c = 3 blocks of 8
}

TEST_CASE("qs8 conv: ResNet18 layers at S=64", "[qs8]") {
  struct L {
    mc::ConvShape s;
    bool res, relu;
  };
  const L layers[] = {
      {{64, 64, 3, 64, 7, 7, 2, 3}, false, true},    {{16, 16, 64, 64, 3, 3, 1, 1}, false, true},
      {{16, 16, 64, 64, 3, 3, 1, 1}, true, true},    {{16, 16, 64, 128, 3, 3, 2, 1}, false, true},
      {{16, 16, 64, 128, 1, 1, 2, 0}, false, false}, {{8, 8, 128, 128, 3, 3, 1, 1}, true, true},
      {{8, 8, 128, 256, 3, 3, 2, 1}, false, true},   {{8, 8, 128, 256, 1, 1, 2, 0}, false, false},
      {{4, 4, 256, 256, 3, 3, 1, 1}, true, true},    {{4, 4, 256, 512, 3, 3, 2, 1}, false, true},
      {{4, 4, 256, 512, 1, 1, 2, 0}, false, false},  {{2, 2, 512, 512, 3, 3, 1, 1}, true, true},
  };
  uint32_t seed = 1000;
  for (const auto& l : layers) check_conv_qs8(l.s, l.res, l.relu, seed++);
}

TEST_CASE("qs8 conv: bad packed header or residual params do nothing", "[qs8]") {
  const mc::ConvShape s{2, 2, 3, 4, 1, 1, 1, 0};
  std::vector<uint8_t> packed(mc::conv_packed_qs8_size(s), 0);  // output scale 0: invalid
  std::vector<int16_t> in(12, 1), zero(3, 0);
  std::vector<int8_t> out(16, 5), res(16, 0);
  std::vector<const int16_t*> ind(mc::conv_indirection_size(s));
  mc::conv_setup_indirection_qs8_a16(s, in.data(), zero.data(), ind.data());
  mc::conv_run_qs8_a16(s, ind.data(), packed.data(), false, out.data(), nullptr, {1.0f, 0}, false);
  CHECK(std::all_of(out.begin(), out.end(), [](int8_t v) { return v == 5; }));
  std::vector<int8_t> wq(12, 1);
  std::vector<float> ws(4, 0.01f);
  mc::conv_pack_qs8(s, wq.data(), ws.data(), nullptr, {0.1f, 0}, {0.1f, 0}, packed.data());
  mc::conv_run_qs8_a16(s, ind.data(), packed.data(), false, out.data(), res.data(), {0.0f, 0},
                       false);
  CHECK(std::all_of(out.begin(), out.end(), [](int8_t v) { return v == 5; }));
  mc::conv_run_qs8_a16(s, ind.data(), packed.data(), false, out.data(), nullptr, {0.0f, 0}, false);
  CHECK(out[0] == 0);  // 3 * 1 * 1 * 0.1 * 0.01 / 0.1 rounds to 0
}

TEST_CASE("qs8 conv: nearly dead channel with a real bias, accumulation limits", "[qs8]") {
  const mc::ConvShape s{3, 3, 16, 2, 3, 3, 1, 1};
  const size_t wn = 2 * 9 * 16;
  std::vector<float> w(wn, 1e-9f), b{0.5f, -0.25f};
  for (size_t i = 0; i < wn / 2; i++) w[wn / 2 + i] = (i % 7) * 0.01f - 0.03f;  // channel 1 normal
  std::vector<int8_t> wq(wn);
  std::vector<float> ws(2);
  std::vector<int32_t> bq(2);
  const mc::QuantParams qin{0.01f, 5}, qout{0.01f, 0};
  mc::quantize_conv_weights_qs8(s, w.data(), b.data(), qin.scale, wq.data(), ws.data(), bq.data());
  CHECK(std::abs(bq[0]) <= (1 << 30));
  CHECK(std::abs(double(bq[0]) * qin.scale * ws[0] - 0.5) < 1e-3);
  std::vector<uint8_t> packed(mc::conv_packed_qs8_size(s));
  mc::conv_pack_qs8(s, wq.data(), ws.data(), bq.data(), qin, qout, packed.data());
  std::vector<int16_t> in(9 * 16, 100), zero(16, 5);
  std::vector<int8_t> out(9 * 2);
  std::vector<const int16_t*> ind(mc::conv_indirection_size(s));
  mc::conv_setup_indirection_qs8_a16(s, in.data(), zero.data(), ind.data());
  for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
    mc::conv_run_qs8_a16(s, ind.data(), packed.data(), false, out.data(), nullptr, {1.0f, 0}, false,
                         isa);
    for (int p = 0; p < 9; p++) CHECK(out[size_t(p) * 2] == 50);  // 0.5 / 0.01, weights ~ 0
  }
  CHECK(mc::conv_packed_qs8_size({1, 1, 8193, 1, 3, 3, 1, 1}) == 0);  // 9*8193 > 65536
  CHECK(mc::conv_packed_qs8_size({1, 1, 7281, 1, 3, 3, 1, 1}) > 0);
}

TEST_CASE("qs8 maxpool and global avgpool", "[qs8]") {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> di(-128, 127);
  struct P {
    int h, w, c, k, stride, pad;
  };
  const P cases[] = {{32, 32, 64, 3, 2, 1},
                     {5, 7, 13, 3, 2, 1},
                     {4, 4, 1, 3, 2, 1},
                     {9, 6, 127, 3, 2, 1},
                     {7, 7, 33, 3, 3, 2}};
  for (const auto& p : cases) {
    INFO(p.h << "x" << p.w << "x" << p.c);
    std::vector<int8_t> in(size_t(p.h) * p.w * p.c);
    for (auto& x : in) x = int8_t(di(rng));
    const int oh = (p.h + 2 * p.pad - p.k) / p.stride + 1,
              ow = (p.w + 2 * p.pad - p.k) / p.stride + 1;
    std::vector<int8_t> ref(size_t(oh) * ow * p.c);
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int c = 0; c < p.c; c++) {
          int m = -1000;
          for (int ky = 0; ky < p.k; ky++)
            for (int kx = 0; kx < p.k; kx++) {
              const int y = oy * p.stride - p.pad + ky, x = ox * p.stride - p.pad + kx;
              if (y >= 0 && y < p.h && x >= 0 && x < p.w)
                m = std::max(m, int(in[(size_t(y) * p.w + x) * p.c + c]));
            }
          ref[(size_t(oy) * ow + ox) * p.c + c] = int8_t(m);
        }
    for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
      std::vector<int8_t> out(ref.size() + 1, 99);
      mc::maxpool_qs8(p.h, p.w, p.c, p.k, p.stride, p.pad, in.data(), out.data(), isa);
      CHECK(out.back() == 99);
      out.pop_back();
      CHECK(out == ref);
    }
  }
  const mc::QuantParams q{0.05f, -17};
  for (int hw : {1, 4, 9, 36, 144})
    for (int c : {1, 3, 13, 16, 127, 512}) {
      INFO("gap hw " << hw << " c " << c);
      std::vector<int8_t> in(size_t(hw) * c);
      for (auto& x : in) x = int8_t(di(rng));
      std::vector<float> a(size_t(c) + 1, 99.0f), b(size_t(c) + 1, 99.0f);
      mc::global_avgpool_qs8_f32(hw, c, in.data(), q, a.data(), mc::Isa::Scalar);
      mc::global_avgpool_qs8_f32(hw, c, in.data(), q, b.data(), mc::Isa::Simd);
      CHECK(a == b);
      CHECK(a.back() == 99.0f);
      for (int j = 0; j < c; j++) {
        double s = 0;
        for (int i = 0; i < hw; i++) s += in[size_t(i) * c + j] - q.zero_point;
        CHECK(std::fabs(a[j] - q.scale * s / hw) <= 1e-6 * (1 + std::fabs(q.scale * s / hw)));
      }
    }
}

// The row form of a convolution (conv_rows_*: pre-padded input, kh pointers per output pixel,
// weights repacked to kw*in_c channels) against the plain convolution on the same operands:
// int8 bit-identical for every tile and ISA, f32 bit-identical (same accumulation order).
namespace {
void check_rows_conv(const mc::ConvShape& s, bool with_res, bool relu, uint32_t seed) {
  INFO("rows shape in " << s.in_h << "x" << s.in_w << "x" << s.in_c << " out_c " << s.out_c << " k "
                        << s.kh << "x" << s.kw << " stride " << s.stride << " pad " << s.pad
                        << " res " << with_res << " relu " << relu);
  REQUIRE(mc::conv_shape_valid(s));
  std::mt19937 rng(seed);
  const size_t ks = size_t(s.kh) * s.kw, kc = size_t(s.in_c);
  const size_t in_n = size_t(s.in_h) * s.in_w * kc, w_n = size_t(s.out_c) * ks * kc;
  const size_t out_n = size_t(s.out_h()) * s.out_w() * s.out_c;
  auto in = rnd(in_n, rng, -0.5f, 2.0f);
  const float wr = 1.0f / std::sqrt(float(ks * kc));
  auto w = rnd(w_n, rng, -wr, wr);
  auto b = rnd(size_t(s.out_c), rng, -0.3f, 0.3f);
  auto res = rnd(out_n, rng, -1.0f, 1.5f);
  const size_t wp = size_t(s.in_w) + 2 * s.pad;
  // padded copy: `fill` on the border and in the slack, the input inside
  auto padded = [&](auto fill, const auto* src) {
    std::vector<decltype(fill)> p(mc::conv_padded_input_size(s), fill);
    REQUIRE(p.size() == (size_t(s.in_h) + 2 * s.pad) * wp * kc + 8);
    auto* dst = p.data() + mc::conv_padded_input_offset(s);
    for (int y = 0; y < s.in_h; y++)
      std::copy(src + size_t(y) * s.in_w * kc, src + size_t(y + 1) * s.in_w * kc,
                dst + size_t(y) * wp * kc);
    return p;
  };

  // int8
  const mc::QuantParams qin = mc::choose_qs8_params(-0.5f, 2.0f);
  const mc::QuantParams qout = mc::choose_qs8_params(-2.0f, 3.0f);
  const mc::QuantParams qres = mc::choose_qs8_params(-1.0f, 1.5f);
  std::vector<int8_t> in_q(in_n), res_q(out_n), w_q(w_n);
  std::vector<float> w_s(size_t(s.out_c));
  std::vector<int32_t> b_q(size_t(s.out_c));
  mc::quantize_f32_qs8(in_n, in.data(), qin, in_q.data());
  mc::quantize_f32_qs8(out_n, res.data(), qres, res_q.data());
  mc::quantize_conv_weights_qs8(s, w.data(), b.data(), qin.scale, w_q.data(), w_s.data(),
                                b_q.data());
  std::vector<uint8_t> packed(mc::conv_packed_qs8_size(s));
  mc::conv_pack_qs8(s, w_q.data(), w_s.data(), b_q.data(), qin, qout, packed.data());
  // the plain form on the scalar reference kernel gives the wanted output
  std::vector<int16_t> in16(in_n), zero16(kc, int16_t(qin.zero_point));
  mc::widen_qs8_a16(in_n, in_q.data(), in16.data());
  std::vector<const int16_t*> ind16(mc::conv_indirection_size(s));
  mc::conv_setup_indirection_qs8_a16(s, in16.data(), zero16.data(), ind16.data());
  std::vector<int8_t> want(out_n);
  REQUIRE(mc::detail::conv_run_qs8_a16_tile(s, ind16.data(), packed.data(), false, want.data(),
                                            with_res ? res_q.data() : nullptr, qres, relu,
                                            mc::Isa::Scalar, 2));
  std::vector<uint8_t> rows_packed(mc::conv_rows_packed_qs8_size(s));
  REQUIRE(!rows_packed.empty());
  mc::conv_rows_repack_qs8(s, packed.data(), rows_packed.data());
  // slack/border = zero point; the slack values meet zero weights only, so any value would do:
  // poison them to prove it. The whole padded buffer is widened to int16, slack included.
  auto pad_q = padded(int8_t(qin.zero_point), in_q.data());
  for (size_t i = pad_q.size() - 8; i < pad_q.size(); i++)
    pad_q[i] = int8_t(-128 + int(i % 7) * 41);
  std::vector<uint8_t> rpw(mc::conv_rows_packed_qs8_w16_size(s));
  REQUIRE(!rpw.empty());
  mc::conv_rows_widen_packed_qs8_w16(s, rows_packed.data(), rpw.data());
  std::vector<int16_t> pad16(pad_q.size());
  mc::widen_qs8_a16(pad_q.size(), pad_q.data(), pad16.data());
  std::vector<const int16_t*> rind16(mc::conv_rows_indirection_size(s));
  REQUIRE(rind16.size() == size_t(s.out_h()) * s.out_w() * s.kh);
  mc::conv_rows_setup_indirection_qs8_a16(s, pad16.data(), rind16.data());
  struct T {
    mc::Isa isa;
    int mr;
  };
  for (bool w16 : {false, true}) {  // with the int8 weights or their w16 form
    const void* wts = w16 ? static_cast<const void*>(rpw.data()) : rows_packed.data();
    for (T t : {T{mc::Isa::Scalar, 2}, T{mc::Isa::Simd, 4}}) {
      if (mc::detail::effective_isa(t.isa) != t.isa) continue;
      INFO("qs8 a16 mr " << t.mr << " w16 " << w16);
      std::vector<int8_t> got(out_n, 0x55);
      REQUIRE(mc::detail::conv_rows_run_qs8_a16_tile(s, rind16.data(), wts, w16, got.data(),
                                                     with_res ? res_q.data() : nullptr, qres, relu,
                                                     t.isa, t.mr));
      CHECK(got == want);
    }
    std::vector<int8_t> got(out_n, 0x55);
    mc::conv_rows_run_qs8_a16(s, rind16.data(), wts, w16, got.data(),
                              with_res ? res_q.data() : nullptr, qres, relu);
    CHECK(got == want);
  }

  // f32: the packed weights as they are
  std::vector<float> packed_f(mc::conv_packed_f32_size(s));
  mc::conv_pack_f32(s, w.data(), b.data(), packed_f.data());
  std::vector<float> zf(kc, 0.0f);
  std::vector<const float*> indf(mc::conv_indirection_size(s));
  mc::conv_setup_indirection(s, in.data(), zf.data(), indf.data());
  auto pad_f = padded(0.0f, in.data());
  std::vector<const float*> rindf(mc::conv_rows_indirection_size(s));
  mc::conv_rows_setup_indirection(s, pad_f.data(), rindf.data());
  struct TF {
    mc::Isa isa;
    int mr;
  };
  for (TF t : {TF{mc::Isa::Scalar, 2}, TF{mc::Isa::Simd, 4}, TF{mc::Isa::Simd, 6},
               TF{mc::Isa::Simd, mc::detail::kF32Mr4x8s4}}) {
    if (mc::detail::effective_isa(t.isa) != t.isa) continue;
    INFO("f32 mr " << t.mr);
    std::vector<float> wantf(out_n), gotf(out_n, -1.0f);
    REQUIRE(mc::detail::conv_run_f32_tile(s, indf.data(), packed_f.data(), wantf.data(),
                                          with_res ? res.data() : nullptr, relu, t.isa, t.mr));
    REQUIRE(mc::detail::conv_rows_run_f32_tile(s, rindf.data(), packed_f.data(), gotf.data(),
                                               with_res ? res.data() : nullptr, relu, t.isa, t.mr));
    CHECK(gotf == wantf);
  }
}
}  // namespace

TEST_CASE("row-form conv (stem) equals the plain conv, qs8 and f32", "[qs8]") {
  uint32_t seed = 5000;
  check_rows_conv({64, 64, 3, 64, 7, 7, 2, 3}, false, true, seed++);  // the stem
  check_rows_conv({13, 11, 3, 13, 7, 7, 2, 3}, true, false, seed++);
  check_rows_conv({1, 1, 3, 1, 7, 7, 2, 3}, false, true, seed++);
  check_rows_conv({3, 3, 1, 3, 7, 7, 1, 3}, true, true, seed++);
  check_rows_conv({13, 13, 5, 127, 5, 5, 1, 2}, false, false, seed++);
  check_rows_conv({9, 10, 13, 9, 3, 3, 2, 1}, true, true, seed++);
  check_rows_conv({7, 9, 4, 17, 1, 3, 1, 0}, true, true, seed++);
  check_rows_conv({127, 3, 2, 8, 3, 5, 3, 1}, false, true, seed++);
}
