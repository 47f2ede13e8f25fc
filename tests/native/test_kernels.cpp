// Kernel/operator tests for the f32 core: every microkernel (scalar reference and SIMD, every
// tile shape) against a naive direct convolution written here, at awkward and at ResNet18 sizes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"
#include "ops/ops_detail.h"
#include "test_util.h"

namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Direct convolution in double; also returns, per output, the sum of |terms| (error scale).
void naive_conv(const mc::ConvShape& s, const float* in, const float* w, const float* b,
                const float* res, bool relu, std::vector<double>& out, std::vector<double>& mag) {
  const int oh = s.out_h(), ow = s.out_w();
  out.assign(size_t(oh) * ow * s.out_c, 0.0);
  mag.assign(out.size(), 0.0);
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      for (int o = 0; o < s.out_c; o++) {
        double acc = b[o], m = std::fabs(b[o]);
        for (int ky = 0; ky < s.kh; ky++)
          for (int kx = 0; kx < s.kw; kx++) {
            const int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
            if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
            for (int k = 0; k < s.in_c; k++) {
              const double t = double(in[(size_t(iy) * s.in_w + ix) * s.in_c + k]) *
                               double(w[((size_t(o) * s.kh + ky) * s.kw + kx) * s.in_c + k]);
              acc += t;
              m += std::fabs(t);
            }
          }
        const size_t idx = (size_t(oy) * ow + ox) * s.out_c + o;
        if (res) {
          acc += res[idx];
          m += std::fabs(res[idx]);
        }
        if (relu && acc < 0) acc = 0;
        out[idx] = acc;
        mag[idx] = m;
      }
}

struct Variant {
  mc::Isa isa;
  int mr;
  const char* name;
};

std::vector<Variant> variants() {
  std::vector<Variant> v{{mc::Isa::Scalar, mc::detail::kF32IgemmMrScalar, "scalar-2x8"}};
  if (mc::default_isa() == mc::Isa::Simd) {
    v.push_back({mc::Isa::Simd, 4, "simd128-4x8"});
    v.push_back({mc::Isa::Simd, 6, "simd128-6x8"});
    v.push_back({mc::Isa::Simd, mc::detail::kF32Mr4x8s4, "simd128-4x8s4"});
  }
  return v;
}

// Runs the conv through every variant (and through the public conv_run_f32 for both ISAs),
// compares with the naive reference (relative to the sum of |terms|) and SIMD with scalar.
void check_conv(const mc::ConvShape& s, bool with_res, bool relu, uint32_t seed) {
  INFO("shape in " << s.in_h << "x" << s.in_w << "x" << s.in_c << " out_c " << s.out_c << " k "
                   << s.kh << "x" << s.kw << " stride " << s.stride << " pad " << s.pad << " res "
                   << with_res << " relu " << relu);
  REQUIRE(mc::conv_shape_valid(s));
  std::mt19937 rng(seed);
  const size_t ks = size_t(s.kh) * s.kw;
  auto in = random_vec(size_t(s.in_h) * s.in_w * s.in_c, rng);
  auto w = random_vec(size_t(s.out_c) * ks * s.in_c, rng);
  auto b = random_vec(size_t(s.out_c), rng);
  const size_t out_n = size_t(s.out_h()) * s.out_w() * s.out_c;
  auto res = random_vec(out_n, rng);
  std::vector<double> ref, mag;
  naive_conv(s, in.data(), w.data(), b.data(), with_res ? res.data() : nullptr, relu, ref, mag);

  std::vector<float> packed(mc::conv_packed_f32_size(s));
  mc::conv_pack_f32(s, w.data(), b.data(), packed.data());
  std::vector<float> zero(size_t(s.in_c), 0.0f);
  std::vector<const float*> ind(mc::conv_indirection_size(s));
  mc::conv_setup_indirection(s, in.data(), zero.data(), ind.data());

  std::vector<float> first;
  for (const auto& v : variants()) {
    INFO("variant " << v.name);
    std::vector<float> out(out_n + 1, 12345.0f);  // one guard element past the end
    REQUIRE(mc::detail::conv_run_f32_tile(s, ind.data(), packed.data(), out.data(),
                                          with_res ? res.data() : nullptr, relu, v.isa, v.mr));
    REQUIRE(out[out_n] == 12345.0f);
    size_t bad = 0;
    for (size_t i = 0; i < out_n; i++) {
      const double tol = 1e-5 * mag[i] + 1e-6;
      if (!(std::fabs(out[i] - ref[i]) <= tol)) {
        if (bad++ < 3) UNSCOPED_INFO("i=" << i << " got " << out[i] << " want " << ref[i]);
      }
    }
    CHECK(bad == 0);
    // all kernels accumulate in the same order: bit-identical results
    if (first.empty()) {
      first = out;
    } else {
      size_t diff = 0;
      for (size_t i = 0; i < out_n; i++) diff += out[i] != first[i];
      CHECK(diff == 0);
    }
  }
  for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
    std::vector<float> out(out_n);
    mc::conv_run_f32(s, ind.data(), packed.data(), out.data(), with_res ? res.data() : nullptr,
                     relu, isa);
    size_t diff = 0;
    for (size_t i = 0; i < out_n; i++) diff += out[i] != first[i];
    CHECK(diff == 0);
    if (with_res) {  // the residual may be the output buffer itself (in-place add)
      std::vector<float> inplace = res;
      mc::conv_run_f32(s, ind.data(), packed.data(), inplace.data(), inplace.data(), relu, isa);
      diff = 0;
      for (size_t i = 0; i < out_n; i++) diff += inplace[i] != first[i];
      CHECK(diff == 0);
    }
  }
}

}  // namespace

TEST_CASE("default isa matches the build", "[kernels]") {
#if defined(MC_NO_SIMD)
  CHECK(mc::default_isa() == mc::Isa::Scalar);
#else
  CHECK(mc::default_isa() == mc::Isa::Simd);
#endif
  CHECK(std::string(mc::conv_packed_layout_name()) == "igemm-f32-nr8-v1");
}

TEST_CASE("conv f32: awkward sizes", "[kernels]") {
  mc_test_util::for_each_awkward_conv(check_conv);
}

TEST_CASE("conv f32: ResNet18 layers at S=64", "[kernels]") {
  struct L {
    mc::ConvShape s;
    bool res, relu;
  };
  const L layers[] = {
      {{64, 64, 3, 64, 7, 7, 2, 3}, false, true},     // stem
      {{16, 16, 64, 64, 3, 3, 1, 1}, false, true},    // layer1 conv1
      {{16, 16, 64, 64, 3, 3, 1, 1}, true, true},     // layer1 conv2 + residual
      {{16, 16, 64, 128, 3, 3, 2, 1}, false, true},   // layer2 conv1
      {{16, 16, 64, 128, 1, 1, 2, 0}, false, false},  // layer2 downsample
      {{8, 8, 128, 128, 3, 3, 1, 1}, true, true},     // layer2 conv2
      {{8, 8, 128, 256, 3, 3, 2, 1}, false, true},    // layer3
      {{8, 8, 128, 256, 1, 1, 2, 0}, false, false},  {{4, 4, 256, 256, 3, 3, 1, 1}, true, true},
      {{4, 4, 256, 512, 3, 3, 2, 1}, false, true},  // layer4
      {{4, 4, 256, 512, 1, 1, 2, 0}, false, false},  {{2, 2, 512, 512, 3, 3, 1, 1}, true, true},
  };
  uint32_t seed = 1000;
  for (const auto& l : layers) check_conv(l.s, l.res, l.relu, seed++);
}

TEST_CASE("conv f32: invalid shapes are rejected", "[kernels]") {
  CHECK_FALSE(mc::conv_shape_valid({0, 4, 3, 4, 3, 3, 1, 1}));
  CHECK_FALSE(mc::conv_shape_valid({4, 4, 3, 4, 3, 3, 0, 1}));
  CHECK_FALSE(mc::conv_shape_valid({4, 4, 3, 4, 3, 3, 1, 3}));
  CHECK_FALSE(mc::conv_shape_valid({4, 4, 3, 4, 3, 3, 1, -1}));
  CHECK_FALSE(mc::conv_shape_valid({1, 1, 3, 4, 5, 5, 1, 1}));
  CHECK_FALSE(mc::conv_shape_valid({100000, 4, 3, 4, 3, 3, 1, 1}));
  // packing depends on the weights part only (the engine packs before it knows in_h/in_w)
  CHECK(mc::conv_packed_f32_size({0, 0, 3, 64, 7, 7, 2, 3}) == 8 * (8 + 49 * 3 * 8));
  CHECK(mc::conv_packed_f32_size({4, 4, 0, 4, 3, 3, 1, 1}) == 0);
  CHECK(mc::conv_packed_f32_size({4, 4, 3, 4, 3, 0, 1, 1}) == 0);
  CHECK(mc::conv_indirection_size({4, 4, 3, 4, 3, 3, 1, 3}) == 0);
  CHECK(mc::conv_packed_f32_size({4, 4, 3, 9, 3, 3, 1, 1}) == 2 * (8 + 9 * 3 * 8));
}

TEST_CASE("maxpool f32", "[kernels]") {
  std::mt19937 rng(7);
  struct P {
    int h, w, c, k, stride, pad;
  };
  const P cases[] = {{32, 32, 64, 3, 2, 1}, {48, 48, 64, 3, 2, 1}, {5, 7, 13, 3, 2, 1},
                     {4, 4, 1, 3, 2, 1},    {3, 3, 3, 3, 1, 1},    {9, 6, 127, 3, 2, 1},
                     {2, 2, 5, 2, 2, 0},    {7, 7, 12, 3, 3, 2}};
  for (const auto& p : cases) {
    INFO(p.h << "x" << p.w << "x" << p.c << " k" << p.k << " s" << p.stride << " p" << p.pad);
    auto in = random_vec(size_t(p.h) * p.w * p.c, rng, -3.0f, -1.0f);  // negative: pad must not win
    const int oh = (p.h + 2 * p.pad - p.k) / p.stride + 1,
              ow = (p.w + 2 * p.pad - p.k) / p.stride + 1;
    std::vector<float> ref(size_t(oh) * ow * p.c);
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int c = 0; c < p.c; c++) {
          float m = -INFINITY;
          for (int ky = 0; ky < p.k; ky++)
            for (int kx = 0; kx < p.k; kx++) {
              const int y = oy * p.stride - p.pad + ky, x = ox * p.stride - p.pad + kx;
              if (y >= 0 && y < p.h && x >= 0 && x < p.w)
                m = std::max(m, in[(size_t(y) * p.w + x) * p.c + c]);
            }
          ref[(size_t(oy) * ow + ox) * p.c + c] = m;
        }
    for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
      std::vector<float> out(ref.size() + 1, 99.0f);
      mc::maxpool_f32(p.h, p.w, p.c, p.k, p.stride, p.pad, in.data(), out.data(), isa);
      CHECK(out.back() == 99.0f);
      out.pop_back();
      CHECK(out == ref);
    }
  }
}

TEST_CASE("global avgpool and fully connected f32", "[kernels]") {
  std::mt19937 rng(8);
  for (int hw : {1, 3, 4, 9, 36})
    for (int c : {1, 3, 13, 127, 512}) {
      INFO("hw " << hw << " c " << c);
      auto in = random_vec(size_t(hw) * c, rng);
      for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
        std::vector<float> out(size_t(c) + 1, 99.0f);
        mc::global_avgpool_f32(hw, c, in.data(), out.data(), isa);
        CHECK(out[size_t(c)] == 99.0f);
        for (int j = 0; j < c; j++) {
          double s = 0, m = 0;
          for (int i = 0; i < hw; i++) {
            s += in[size_t(i) * c + j];
            m += std::fabs(in[size_t(i) * c + j]);
          }
          CHECK(std::fabs(out[j] - s / hw) <= 1e-6 * m / hw + 1e-7);
        }
      }
    }
  for (int n_in : {1, 3, 13, 127, 512})
    for (int n_out : {1, 2, 13}) {
      INFO("fc " << n_in << " -> " << n_out);
      auto w = random_vec(size_t(n_in) * n_out, rng);
      auto b = random_vec(size_t(n_out), rng);
      auto in = random_vec(size_t(n_in), rng);
      std::vector<float> first;
      for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
        std::vector<float> out(size_t(n_out) + 1, 99.0f);
        mc::fully_connected_f32(n_in, n_out, w.data(), b.data(), in.data(), out.data(), isa);
        CHECK(out[size_t(n_out)] == 99.0f);
        for (int o = 0; o < n_out; o++) {
          double s = b[o], m = std::fabs(b[o]);
          for (int i = 0; i < n_in; i++) {
            s += double(w[size_t(o) * n_in + i]) * in[i];
            m += std::fabs(double(w[size_t(o) * n_in + i]) * in[i]);
          }
          CHECK(std::fabs(out[o] - s) <= 1e-5 * m + 1e-7);
        }
        if (first.empty())
          first = out;
        else
          CHECK(out == first);  // scalar and SIMD sum in the same order: bit-identical
      }
    }
}
