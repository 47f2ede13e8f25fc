// Engine: the whole network against PyTorch's golden logits and a naive reference, SIMD vs
// scalar, CAM, calibration hook, no allocation during inference, clear errors, the C API.
//
// Blobs are built here from torchvision-named tensors (BatchNorm folded, OHWI, conv_pack_f32),
// independently of the converter: either the exported safetensors the golden vectors were made
// with, or synthetic random weights (mc_test::synthetic_blob, also used by test_cli.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "blob.h"
#include "engine.h"
#include "image.h"
#include "malaria.h"
#include "ops/ops.h"
#include "preprocess.h"
#include "resnet18.h"
#include "sha256.h"
#include "test_util.h"

// ---- allocation counter (this test binary only; not under ASan, which owns operator new) ----
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MC_TEST_ASAN_ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MC_TEST_ASAN_ 1
#endif
static std::atomic<long> g_mc_test_allocs{0};
#ifndef MC_TEST_ASAN_
void* operator new(size_t n) {
  g_mc_test_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace mc_test {

struct TorchTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
using TorchTensors = std::map<std::string, TorchTensor>;

struct BlobSpec {
  int S = 32;
  float mean[3] = {0.5f, 0.5f, 0.5f};
  float stdev[3] = {0.25f, 0.25f, 0.25f};
  float temperature = 1.0f;
  float band[2] = {0.5f, 0.5f};
  std::string dtype = "f32";
};

bool read_safetensors(const std::string& path, TorchTensors* out) {
  return mc_test_util::read_safetensors_f32(path, out);
}

// Random torchvision-style ResNet18 tensors (He-uniform convs, non-trivial BatchNorm).
TorchTensors synthetic_torch(uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  auto uni = [&](float lo, float hi) {
    s = s * 1664525u + 1013904223u;
    return lo + (hi - lo) * float(s >> 8) / float(1 << 24);
  };
  TorchTensors t;
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
    TorchTensor w;
    w.shape = {c.out_c, c.in_c, c.k, c.k};
    const float a = std::sqrt(6.0f / float(c.in_c * c.k * c.k));
    w.data.resize(size_t(c.out_c) * c.in_c * c.k * c.k);
    for (float& v : w.data) v = uni(-a, a);
    t[std::string(c.torch_conv) + ".weight"] = w;
    const std::string bn = c.torch_bn;
    TorchTensor g{{c.out_c}, {}}, b{{c.out_c}, {}}, m{{c.out_c}, {}}, var{{c.out_c}, {}};
    for (int i = 0; i < c.out_c; ++i) {
      g.data.push_back(uni(0.75f, 1.25f));
      b.data.push_back(uni(-0.1f, 0.1f));
      m.data.push_back(uni(-0.1f, 0.1f));
      var.data.push_back(uni(0.75f, 1.25f));
    }
    t[bn + ".weight"] = g;
    t[bn + ".bias"] = b;
    t[bn + ".running_mean"] = m;
    t[bn + ".running_var"] = var;
  }
  TorchTensor fw{{2, 512}, {}}, fb{{2}, {}};
  const float a = 1.0f / std::sqrt(512.0f);
  for (int i = 0; i < 1024; ++i) fw.data.push_back(uni(-a, a));
  fb.data = {uni(-a, a), uni(-a, a)};
  t["fc.weight"] = fw;
  t["fc.bias"] = fb;
  return t;
}

// BatchNorm-folded OHWI weights + bias of one convolution.
struct Folded {
  std::vector<float> w_ohwi, bias;
};

std::map<std::string, Folded> fold(const TorchTensors& t) {
  std::map<std::string, Folded> out;
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
    const std::vector<float>& w = t.at(std::string(c.torch_conv) + ".weight").data;
    const std::string bn = c.torch_bn;
    const auto& g = t.at(bn + ".weight").data;
    const auto& b = t.at(bn + ".bias").data;
    const auto& m = t.at(bn + ".running_mean").data;
    const auto& v = t.at(bn + ".running_var").data;
    Folded f;
    f.w_ohwi.resize(w.size());
    f.bias.resize(c.out_c);
    for (int o = 0; o < c.out_c; ++o) {
      const double sc = double(g[o]) / std::sqrt(double(v[o]) + 1e-5);
      f.bias[o] = float(double(b[o]) - double(m[o]) * sc);
      for (int i = 0; i < c.in_c; ++i)
        for (int ky = 0; ky < c.k; ++ky)
          for (int kx = 0; kx < c.k; ++kx)
            f.w_ohwi[((size_t(o) * c.k + ky) * c.k + kx) * c.in_c + i] =
                float(double(w[((size_t(o) * c.in_c + i) * c.k + ky) * c.k + kx]) * sc);
    }
    out[c.name] = std::move(f);
  }
  return out;
}

std::vector<uint8_t> make_blob(const TorchTensors& t, const BlobSpec& spec, std::string* err) {
  nlohmann::json h;
  h["architecture"] = "resnet18";
  h["labels"] = {"Uninfected", "Parasitized"};
  h["input"] = {{"size", spec.S},
                {"resize_filter", "area-int"},
                {"mean", {spec.mean[0], spec.mean[1], spec.mean[2]}},
                {"std", {spec.stdev[0], spec.stdev[1], spec.stdev[2]}},
                {"channel_order", "RGB"}};
  h["calibration"] = {{"temperature", spec.temperature}, {"band", {spec.band[0], spec.band[1]}}};
  h["provenance"] = {{"converter", "tests/native/test_engine.cpp"}};
  h["metrics"] = nlohmann::json::object();
  h["weights"] = {{"dtype", spec.dtype},
                  {"packed_layout", mc::conv_packed_layout_name()},
                  {"bn_folded", true},
                  {"bn_eps", 1e-5}};
  const bool f16 = spec.dtype == "f16";
  auto tensor = [&](const std::string& name, const std::vector<int64_t>& shape,
                    const std::vector<float>& v, const nlohmann::json& extra) {
    return f16 ? mc::blob::tensor_f16(name, shape, v, extra)
               : mc::blob::tensor_f32(name, shape, v, extra);
  };
  const std::map<std::string, Folded> folded = fold(t);
  std::vector<mc::blob::TensorIn> ts;
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
    const mc::ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, c.stride, c.pad};
    std::vector<float> packed(mc::conv_packed_f32_size(s));
    mc::conv_pack_f32(s, folded.at(c.name).w_ohwi.data(), folded.at(c.name).bias.data(),
                      packed.data());
    ts.push_back(tensor(c.name, {int64_t(packed.size())}, packed,
                        {{"layout", "packed"},
                         {"logical_shape", {c.out_c, c.k, c.k, c.in_c}},
                         {"stride", c.stride},
                         {"pad", c.pad}}));
  }
  ts.push_back(tensor("fc.weight", {2, 512}, t.at("fc.weight").data, {{"layout", "row-major"}}));
  ts.push_back(tensor("fc.bias", {2}, t.at("fc.bias").data, {{"layout", "row-major"}}));
  return mc::blob::write(h, ts, err);
}

std::vector<uint8_t> synthetic_blob(int S, const std::string& dtype, uint32_t seed) {
  BlobSpec spec;
  spec.S = S;
  spec.dtype = dtype;
  spec.temperature = 1.5f;
  spec.band[0] = 0.2f;
  spec.band[1] = 0.8f;
  std::string err;
  std::vector<uint8_t> b = make_blob(synthetic_torch(seed), spec, &err);
  if (b.empty()) FAIL("synthetic blob: " << err);
  return b;
}

// The shipped model, which the golden vectors were made from (checked by its sha256).
bool golden_model(TorchTensors* t, nlohmann::json* meta) {
  std::string bytes, why;
  if (!mc_test_util::shipped_golden_model(&bytes, meta, &why)) {
    FAIL_CHECK(why);
    return false;
  }
  return read_safetensors(std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.safetensors", t);
}

BlobSpec spec_from_meta(const nlohmann::json& meta, const std::string& dtype) {
  BlobSpec s;
  s.S = meta["input"]["size"];
  for (int c = 0; c < 3; ++c) {
    s.mean[c] = meta["input"]["mean"][c].get<float>();
    s.stdev[c] = meta["input"]["std"][c].get<float>();
  }
  s.temperature = meta["calibration"]["temperature"].get<float>();
  s.band[0] = meta["calibration"]["band"][0].get<float>();
  s.band[1] = meta["calibration"]["band"][1].get<float>();
  s.dtype = dtype;
  return s;
}

}  // namespace mc_test

namespace {

using mc_test::TorchTensors;

struct Golden_ {
  int S = 0, N = 0;
  std::vector<std::string> files;
  std::vector<float> input;   // NCHW
  std::vector<float> logits;  // N x 2
  std::vector<float> p;
};

bool load_golden_(Golden_* g) {
  const std::string fx = std::string(MC_REPO_ROOT) + "/tests/fixtures/";
  std::ifstream gj(fx + "golden.json");
  if (!gj) return false;
  const nlohmann::json j = nlohmann::json::parse(gj);
  TorchTensors t;
  if (!mc_test::read_safetensors(fx + "golden.safetensors", &t)) return false;
  g->S = j["size"];
  g->files = j["files"].get<std::vector<std::string>>();
  g->N = int(g->files.size());
  g->input = t.at("input").data;
  g->logits = t.at("logits").data;
  g->p = j["p_parasitized"].get<std::vector<float>>();
  return true;
}

// NCHW image n of a batch -> NHWC
std::vector<float> nhwc_(const std::vector<float>& nchw, int n, int S) {
  const size_t SS = size_t(S) * S;
  std::vector<float> out(SS * 3);
  for (size_t p = 0; p < SS; ++p)
    for (int c = 0; c < 3; ++c) out[p * 3 + c] = nchw[(size_t(n) * 3 + c) * SS + p];
  return out;
}

// Naive NHWC ResNet18 on folded weights, double accumulation.
struct RefNet_ {
  std::map<std::string, mc_test::Folded> f;
  std::vector<float> fc_w, fc_b;

  static std::vector<double> conv(const std::vector<double>& in, int H, int W, int C,
                                  const mc::resnet18::ConvSpec& c, const mc_test::Folded& w,
                                  int* oh, int* ow) {
    const int OH = (H + 2 * c.pad - c.k) / c.stride + 1, OW = (W + 2 * c.pad - c.k) / c.stride + 1;
    std::vector<double> out(size_t(OH) * OW * c.out_c);
    for (int y = 0; y < OH; ++y)
      for (int x = 0; x < OW; ++x)
        for (int o = 0; o < c.out_c; ++o) {
          double s = w.bias[o];
          for (int ky = 0; ky < c.k; ++ky) {
            const int iy = y * c.stride - c.pad + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < c.k; ++kx) {
              const int ix = x * c.stride - c.pad + kx;
              if (ix < 0 || ix >= W) continue;
              const float* wp = &w.w_ohwi[((size_t(o) * c.k + ky) * c.k + kx) * C];
              const double* ip = &in[(size_t(iy) * W + ix) * C];
              for (int i = 0; i < C; ++i) s += wp[i] * ip[i];
            }
          }
          out[(size_t(y) * OW + x) * c.out_c + o] = s;
        }
    *oh = OH;
    *ow = OW;
    return out;
  }

  void run(const std::vector<float>& x, int S, double logits[2]) const {
    std::map<std::string, const mc::resnet18::ConvSpec*> spec;
    for (const auto& c : mc::resnet18::convs()) spec[c.name] = &c;
    std::vector<double> a(x.begin(), x.end());
    int H = S, W = S, C = 3, oh, ow;
    a = conv(a, H, W, C, *spec["conv1"], f.at("conv1"), &oh, &ow);
    for (double& v : a) v = std::max(v, 0.0);
    H = oh, W = ow, C = 64;
    const int PH = (H + 2 - 3) / 2 + 1, PW = (W + 2 - 3) / 2 + 1;
    std::vector<double> p(size_t(PH) * PW * C, -1e300);
    for (int y = 0; y < PH; ++y)
      for (int xx = 0; xx < PW; ++xx)
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int iy = y * 2 - 1 + ky, ix = xx * 2 - 1 + kx;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            for (int c = 0; c < C; ++c)
              p[(size_t(y) * PW + xx) * C + c] =
                  std::max(p[(size_t(y) * PW + xx) * C + c], a[(size_t(iy) * W + ix) * C + c]);
          }
    a = p;
    H = PH, W = PW;
    for (int L = 1; L <= 4; ++L)
      for (int B = 0; B < 2; ++B) {
        const std::string pre = "layer" + std::to_string(L) + "." + std::to_string(B) + ".";
        const auto& c1 = *spec[pre + "conv1"];
        std::vector<double> t = conv(a, H, W, C, c1, f.at(pre + "conv1"), &oh, &ow);
        for (double& v : t) v = std::max(v, 0.0);
        int oh2, ow2;
        std::vector<double> y =
            conv(t, oh, ow, c1.out_c, *spec[pre + "conv2"], f.at(pre + "conv2"), &oh2, &ow2);
        std::vector<double> sc = a;
        if (spec.count(pre + "downsample"))
          sc = conv(a, H, W, C, *spec[pre + "downsample"], f.at(pre + "downsample"), &oh, &ow);
        for (size_t i = 0; i < y.size(); ++i) y[i] = std::max(y[i] + sc[i], 0.0);
        a = y;
        H = oh2, W = ow2, C = c1.out_c;
      }
    std::vector<double> g(512, 0.0);
    for (int i = 0; i < H * W; ++i)
      for (int c = 0; c < 512; ++c) g[c] += a[size_t(i) * 512 + c] / (H * W);
    for (int o = 0; o < 2; ++o) {
      logits[o] = fc_b[o];
      for (int c = 0; c < 512; ++c) logits[o] += double(fc_w[o * 512 + c]) * g[c];
    }
  }
};

std::vector<float> random_input_(int S, uint32_t seed) {
  std::vector<float> x(size_t(S) * S * 3);
  for (float& v : x) {
    seed = seed * 1664525u + 1013904223u;
    v = float(seed >> 8) / float(1 << 24) * 4.0f - 2.0f;
  }
  return x;
}

std::unique_ptr<mc::Engine> make_engine_(const std::vector<uint8_t>& blob,
                                         mc::Isa isa = mc::default_isa()) {
  std::string err;
  std::unique_ptr<mc::Engine> e = mc::Engine::create(blob.data(), blob.size(), &err, isa);
  INFO(err);
  REQUIRE(e);
  return e;
}

}  // namespace

// The C API's one constructor with these fields set (the others zero, the defaults).
static mc_engine* c_create_(const uint8_t* blob, size_t blob_len, char* err, size_t err_len,
                            const uint8_t* payload_sha256 = nullptr, int32_t adopt = 0,
                            int32_t staged = 0) {
  mc_engine_params p = {};
  p.blob = blob;
  p.blob_len = blob_len;
  p.payload_sha256 = payload_sha256;
  p.adopt = adopt;
  p.staged = staged;
  return mc_engine_create(&p, err, err_len);
}

TEST_CASE("engine: golden logits of PyTorch (f32, <= 1e-3)", "[engine]") {
  Golden_ g;
  REQUIRE(load_golden_(&g));
  TorchTensors t;
  nlohmann::json meta;
  REQUIRE(mc_test::golden_model(&t, &meta));
  std::string err;
  const std::vector<uint8_t> blob =
      mc_test::make_blob(t, mc_test::spec_from_meta(meta, "f32"), &err);
  REQUIRE(!blob.empty());
  for (mc::Isa isa : {mc::Isa::Simd, mc::Isa::Scalar}) {
    auto e = make_engine_(blob, isa);
    REQUIRE(e->input_size() == g.S);
    double worst = 0, worst_p = 0;
    for (int n = 0; n < g.N; ++n) {
      mc::Prediction r;
      e->forward(nhwc_(g.input, n, g.S).data(), &r);
      for (int k = 0; k < 2; ++k)
        worst = std::max(worst, double(std::fabs(r.logits[k] - g.logits[n * 2 + k])));
      worst_p = std::max(worst_p, double(std::fabs(r.p_parasitized - g.p[n])));
      CHECK(r.label == (g.logits[n * 2 + 1] > g.logits[n * 2] ? 1 : 0));
      // from the PNG file: preprocessing is bit-exact, so the same logits bit for bit
      mc::Image img;
      REQUIRE(mc::load_image_file(std::string(MC_REPO_ROOT) + "/tests/fixtures/" + g.files[n],
                                  mc::ImageLimits{}, &img, &err));
      mc::Prediction r2;
      REQUIRE(e->classify(img.pixels.data(), img.width, img.height, 3, &r2, &err));
      CHECK(r2.logits[0] == r.logits[0]);
      CHECK(r2.logits[1] == r.logits[1]);
    }
    INFO("isa " << (isa == mc::Isa::Simd ? "simd" : "scalar"));
    CHECK(worst <= 1e-3);
    CHECK(worst_p <= 1e-4);
    WARN("golden f32 (" << (isa == mc::Isa::Simd ? "simd" : "scalar")
                        << "): max |logit diff| = " << worst);
  }
}

TEST_CASE("engine: f16 blob is widened at load and stays close", "[engine]") {
  Golden_ g;
  REQUIRE(load_golden_(&g));
  TorchTensors t;
  nlohmann::json meta;
  REQUIRE(mc_test::golden_model(&t, &meta));
  std::string err;
  const auto b32 = mc_test::make_blob(t, mc_test::spec_from_meta(meta, "f32"), &err);
  const auto b16 = mc_test::make_blob(t, mc_test::spec_from_meta(meta, "f16"), &err);
  REQUIRE(!b16.empty());
  CHECK(b16.size() < b32.size() * 6 / 10);
  auto e32 = make_engine_(b32);
  auto e16 = make_engine_(b16);
  CHECK(std::string(e16->weight_dtype()) == "f16");
  double worst = 0;
  for (int n = 0; n < g.N; ++n) {
    mc::Prediction a, b;
    const auto x = nhwc_(g.input, n, g.S);
    e32->forward(x.data(), &a);
    e16->forward(x.data(), &b);
    for (int k = 0; k < 2; ++k)
      worst = std::max(worst, double(std::fabs(a.logits[k] - b.logits[k])) /
                                  std::max(1.0, double(std::fabs(a.logits[k]))));
  }
  CHECK(worst < 2e-2);
  WARN("f16 vs f32: max relative logit diff = " << worst);
}

TEST_CASE("engine: matches a naive double-precision reference (synthetic weights)", "[engine]") {
  const int S = 40;  // odd stage sizes: 20 -> 10 -> 10 -> 5 -> 3 -> 2
  const TorchTensors t = mc_test::synthetic_torch(7);
  mc_test::BlobSpec spec;
  spec.S = S;
  std::string err;
  const auto blob = mc_test::make_blob(t, spec, &err);
  REQUIRE(!blob.empty());
  RefNet_ ref;
  ref.f = mc_test::fold(t);
  ref.fc_w = t.at("fc.weight").data;
  ref.fc_b = t.at("fc.bias").data;
  auto simd = make_engine_(blob, mc::Isa::Simd);
  auto scalar = make_engine_(blob, mc::Isa::Scalar);
  for (uint32_t seed : {1u, 2u}) {
    const auto x = random_input_(S, seed);
    double want[2];
    ref.run(x, S, want);
    mc::Prediction a, b;
    simd->forward(x.data(), &a);
    scalar->forward(x.data(), &b);
    const double scale = std::max({1.0, std::fabs(want[0]), std::fabs(want[1])});
    for (int k = 0; k < 2; ++k) {
      CHECK(std::fabs(a.logits[k] - want[k]) <= 1e-4 * scale);
      CHECK(std::fabs(b.logits[k] - want[k]) <= 1e-4 * scale);
    }
  }
}

TEST_CASE("engine: SIMD and scalar kernels give the same logits", "[engine]") {
  const auto blob = mc_test::synthetic_blob(64, "f32", 11);
  auto simd = make_engine_(blob, mc::Isa::Simd);
  auto scalar = make_engine_(blob, mc::Isa::Scalar);
  double worst = 0;
  bool exact = true;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const auto x = random_input_(64, seed);
    mc::Prediction a, b;
    simd->forward(x.data(), &a);
    scalar->forward(x.data(), &b);
    for (int k = 0; k < 2; ++k) {
      worst = std::max(worst, double(std::fabs(a.logits[k] - b.logits[k])));
      exact &= a.logits[k] == b.logits[k];
    }
    for (int i = 0; i < 64 * 64; ++i) exact &= simd->cam()[i] == scalar->cam()[i];
  }
  CHECK(worst <= 1e-5);
  WARN("simd vs scalar: max |logit diff| = " << worst << (exact ? " (bit-identical)" : ""));
}

TEST_CASE("engine: class activation map is consistent with the logits", "[engine]") {
  for (int S : {8, 64, 96}) {  // 8: the smallest input the blob format allows (1x1 features)
    const auto blob = mc_test::synthetic_blob(S, "f32", 5);
    auto e = make_engine_(blob);
    mc::Prediction r;
    const auto x = random_input_(S, 9);
    e->forward(x.data(), &r);
    const int gh = e->cam_grid_h(), gw = e->cam_grid_w();
    CHECK(gh == (S == 8 ? 1 : S == 64 ? 2 : 3));
    // logit1 - logit0 = mean over positions of the CAM grid + (b1 - b0)
    TorchTensors t = mc_test::synthetic_torch(5);
    const auto& fb = t.at("fc.bias").data;
    double mean = 0, lo = 1e30, hi = -1e30;
    for (int i = 0; i < gh * gw; ++i) {
      mean += e->cam_grid()[i] / (gh * gw);
      lo = std::min(lo, double(e->cam_grid()[i]));
      hi = std::max(hi, double(e->cam_grid()[i]));
    }
    CHECK(std::fabs(mean + (fb[1] - fb[0]) - (r.logits[1] - r.logits[0])) < 1e-4);
    // the upsampled map interpolates: within the grid's range, corners equal grid corners
    for (int i = 0; i < S * S; ++i) {
      REQUIRE(e->cam()[i] >= lo - 1e-5);
      REQUIRE(e->cam()[i] <= hi + 1e-5);
    }
    CHECK(e->cam()[0] == Approx(e->cam_grid()[0]));
    CHECK(e->cam()[S * S - 1] == Approx(e->cam_grid()[gh * gw - 1]));
  }
}

TEST_CASE("engine: calibration, band and label", "[engine]") {
  float l[2] = {0.0f, 0.0f};
  CHECK(mc::calibrated_p(l, 1.0f) == 0.5f);
  l[1] = 2.0f;
  CHECK(mc::calibrated_p(l, 2.0f) == Approx(1.0 / (1.0 + std::exp(-1.0))));
  l[0] = 1000.0f;
  l[1] = -1000.0f;
  CHECK(mc::calibrated_p(l, 1.0f) == 0.0f);  // no overflow / nan
  CHECK(mc::band_of(0.1f, 0.2f, 0.8f) == mc::kBandUninfected);
  CHECK(mc::band_of(0.2f, 0.2f, 0.8f) == mc::kBandUninfected);
  CHECK(mc::band_of(0.5f, 0.2f, 0.8f) == mc::kBandUncertain);
  CHECK(mc::band_of(0.8f, 0.2f, 0.8f) == mc::kBandParasitized);
  CHECK(std::string(mc::band_name(mc::kBandUncertain)) == "uncertain");
  CHECK(std::string(mc::label_name(1)) == "Parasitized");

  const auto blob = mc_test::synthetic_blob(32, "f32", 2);
  auto e = make_engine_(blob);
  CHECK(e->temperature() == 1.5f);
  CHECK(e->band_lo() == 0.2f);
  CHECK(e->band_hi() == 0.8f);
  mc::Prediction r;
  e->forward(random_input_(32, 3).data(), &r);
  CHECK(r.p_parasitized == mc::calibrated_p(r.logits, 1.5f));
  CHECK(r.band == mc::band_of(r.p_parasitized, 0.2f, 0.8f));
  CHECK(r.label == (r.logits[1] > r.logits[0] ? 1 : 0));
}

TEST_CASE("engine: classify allocates nothing and is deterministic", "[engine]") {
  const auto blob = mc_test::synthetic_blob(64, "f32", 4);
  auto e = make_engine_(blob);
  std::vector<uint8_t> px(150 * 130 * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 31 + (i >> 7));
  mc::Prediction a, b;
  std::string err;
  REQUIRE(e->classify(px.data(), 150, 130, 4, &a, &err));  // warm-up
  const long before = g_mc_test_allocs.load();
  const bool ok = e->classify(px.data(), 150, 130, 4, &b, &err);
  const long after = g_mc_test_allocs.load();
  REQUIRE(ok);
  CHECK(after - before == 0);
  CHECK(a.logits[0] == b.logits[0]);
  CHECK(a.logits[1] == b.logits[1]);
  CHECK(e->arena_bytes() > 0);
}

TEST_CASE("engine: calibration hook reports every layer's range", "[engine]") {
  const auto blob = mc_test::synthetic_blob(32, "f32", 6);
  auto e = make_engine_(blob);
  mc::ActivationRanges ranges;
  ranges.attach(*e);
  mc::Prediction r;
  for (uint32_t s = 1; s <= 3; ++s) e->forward(random_input_(32, s).data(), &r);
  ranges.detach(*e);
  const auto& L = ranges.layers();
  REQUIRE(L.size() == 23);  // 20 convs + maxpool + avgpool + fc
  CHECK(L[0].name == "conv1");
  CHECK(L[1].name == "maxpool");
  CHECK(L[21].name == "avgpool");
  CHECK(L[22].name == "fc");
  CHECK(L[0].in_min >= -2.0f);
  CHECK(L[0].in_max <= 2.0f);
  for (const auto& l : L) {
    INFO(l.name);
    CHECK(l.in_min <= l.in_max);
    CHECK(l.out_min <= l.out_max);
    const bool relu = l.name != "fc" && l.name.find("downsample") == std::string::npos;
    if (relu) CHECK(l.out_min >= 0.0f);
  }
  // detached: nothing changes
  const auto copy = L;
  e->forward(random_input_(32, 99).data(), &r);
  CHECK(ranges.layers()[0].in_max == copy[0].in_max);
}

TEST_CASE("engine: bad inputs and bad blobs give clear errors", "[engine]") {
  std::string err;
  const auto blob = mc_test::synthetic_blob(32, "f32", 8);
  auto e = make_engine_(blob);
  mc::Prediction r;
  std::vector<uint8_t> px(64, 0);
  CHECK_FALSE(e->classify(px.data(), 4, 4, 2, &r, &err));
  CHECK(err.find("channel") != std::string::npos);
  CHECK_FALSE(e->classify(px.data(), 0, 4, 3, &r, &err));
  CHECK_FALSE(e->classify(px.data(), 30000, 30000, 4, &r, &err));
  CHECK(err.find("too large") != std::string::npos);
  CHECK_FALSE(e->classify(nullptr, 4, 4, 3, &r, &err));

  CHECK_FALSE(mc::Engine::create(blob.data(), 0, &err));
  CHECK(err == "not a model blob: the file is empty");
  CHECK_FALSE(mc::Engine::create(blob.data(), blob.size() / 2, &err));
  CHECK(err.find("truncated") != std::string::npos);

  // structurally valid blobs the engine must still refuse
  mc_test::BlobSpec spec;
  TorchTensors t = mc_test::synthetic_torch(1);
  t["fc.weight"].data[17] = std::nanf("");
  const auto nan_blob = mc_test::make_blob(t, spec, &err);
  REQUIRE(!nan_blob.empty());
  CHECK_FALSE(mc::Engine::create(nan_blob.data(), nan_blob.size(), &err));
  CHECK(err == "tensor 'fc.weight': contains a non-finite value (inf or nan)");
}

TEST_CASE("engine: C API", "[engine]") {
  const auto blob = mc_test::synthetic_blob(64, "f32", 10);
  char err[256];
  mc_engine* e = c_create_(blob.data(), blob.size(), err, sizeof err);
  REQUIRE(e);
  CHECK(mc_input_size(e) == 64);
  CHECK(std::string(mc_metadata_json(e)).find("\"architecture\":\"resnet18\"") !=
        std::string::npos);
  std::vector<uint8_t> px(100 * 90 * 4, 128);
  for (size_t i = 0; i < px.size(); i += 5) px[i] = uint8_t(i);
  mc_result r;
  REQUIRE(mc_classify_rgba(e, px.data(), 100, 90, 4, &r, err, sizeof err) == 0);
  CHECK(err[0] == '\0');
  CHECK(r.p_parasitized >= 0.0f);
  CHECK(r.p_parasitized <= 1.0f);
  CHECK((r.band >= MC_BAND_UNINFECTED && r.band <= MC_BAND_PARASITIZED));
  CHECK(mc_cam(e) != nullptr);
  // RGB and RGBA of the same picture agree
  std::vector<uint8_t> rgb(100 * 90 * 3);
  for (size_t i = 0; i < size_t(100 * 90); ++i)
    for (int c = 0; c < 3; ++c) rgb[i * 3 + c] = px[i * 4 + c];
  mc_result r3;
  REQUIRE(mc_classify_rgba(e, rgb.data(), 100, 90, 3, &r3, err, sizeof err) == 0);
  CHECK(r3.logits[0] == r.logits[0]);
  CHECK(mc_classify_rgba(e, px.data(), 0, 90, 4, &r, err, sizeof err) == -1);
  CHECK(std::string(err).find("empty image") != std::string::npos);
  // messages are truncated safely
  char tiny[8];
  std::memset(tiny, 'x', sizeof tiny);
  CHECK(mc_classify_rgba(e, px.data(), 0, 90, 4, &r, tiny, sizeof tiny) == -1);
  CHECK(std::strlen(tiny) == 7);
  CHECK(mc_classify_rgba(e, px.data(), 0, 90, 4, &r, nullptr, 0) == -1);
  mc_engine_destroy(e);

  const uint8_t html[] = "<html><body>404</body></html>";
  CHECK(c_create_(html, sizeof html - 1, err, sizeof err) == nullptr);
  CHECK(std::string(err).find("HTML") != std::string::npos);
  CHECK(c_create_(nullptr, 0, err, sizeof err) == nullptr);
  CHECK(std::string(err) == "not a model blob: the file is empty");
  CHECK(mc_engine_create(nullptr, err, sizeof err) == nullptr);
  CHECK(std::string(err) == "null engine params");
  CHECK(c_create_(html, sizeof html - 1, tiny, 1) == nullptr);
  CHECK(tiny[0] == '\0');
  mc_engine_destroy(nullptr);
}

TEST_CASE("engine: a payload digest computed by the host replaces the reader's hashing",
          "[engine]") {
  auto blob = mc_test::synthetic_blob(64, "f32", 10);
  char err[256];
  uint8_t d[32];
  mc::sha256(blob.data() + 64, blob.size() - 64, d);  // what the page computes with WebCrypto
  mc_engine* e = c_create_(blob.data(), blob.size(), err, sizeof err, d);
  REQUIRE(e);
  mc_result a, b;
  std::vector<uint8_t> px(64 * 64 * 4, 77);
  REQUIRE(mc_classify_rgba(e, px.data(), 64, 64, 4, &a, err, sizeof err) == 0);
  mc_engine_destroy(e);
  e = c_create_(blob.data(), blob.size(), err, sizeof err, nullptr);  // hashes itself
  REQUIRE(e);
  REQUIRE(mc_classify_rgba(e, px.data(), 64, 64, 4, &b, err, sizeof err) == 0);
  CHECK(a.logits[0] == b.logits[0]);
  CHECK(a.logits[1] == b.logits[1]);
  mc_engine_destroy(e);
  const std::string mismatch =
      "checksum mismatch: the SHA-256 of the payload does not match the preamble (corrupted file?)";
  // a wrong digest is refused exactly like a wrong payload
  d[5] ^= 1;
  CHECK(c_create_(blob.data(), blob.size(), err, sizeof err, d) == nullptr);
  CHECK(std::string(err) == mismatch);
  // a corrupted payload hashed honestly by the host is refused too
  blob[blob.size() - 100] ^= 0x40;
  mc::sha256(blob.data() + 64, blob.size() - 64, d);
  CHECK(c_create_(blob.data(), blob.size(), err, sizeof err, d) == nullptr);
  CHECK(std::string(err) == mismatch);
  // the structural checks before the checksum still run first
  CHECK(c_create_(blob.data(), 40, err, sizeof err, d) == nullptr);
  CHECK(std::string(err).find("truncated") == 0);
}

#if __has_include("convert.h")
#include "convert.h"

TEST_CASE("engine: golden logits with a blob made by the converter library", "[engine]") {
  Golden_ g;
  REQUIRE(load_golden_(&g));
  nlohmann::json meta;
  std::string st, why;
  const bool found = mc_test_util::shipped_golden_model(&st, &meta, &why);
  INFO(why);
  REQUIRE(found);
  for (const char* dtype : {"f32", "f16"}) {
    mc::convert::Options opt;
    opt.dtype = dtype;
    std::vector<uint8_t> blob;
    std::string err;
    INFO(dtype << ": " << err);
    REQUIRE(mc::convert::convert(reinterpret_cast<const uint8_t*>(st.data()), st.size(), meta, opt,
                                 &blob, &err));
    auto e = make_engine_(blob);
    double worst = 0;
    for (int n = 0; n < g.N; ++n) {
      mc::Prediction r;
      e->forward(nhwc_(g.input, n, g.S).data(), &r);
      for (int k = 0; k < 2; ++k)
        worst = std::max(worst, double(std::fabs(r.logits[k] - g.logits[n * 2 + k])));
    }
    CHECK(worst <= (std::string(dtype) == "f32" ? 1e-3 : 2e-2));
    WARN("converter blob " << dtype << ": max |logit diff| vs PyTorch = " << worst);
  }
}
#endif

#include "ops/ops_qs8.h"

namespace {

// An int8 blob made the way the converter does it: f32 engine + ActivationRanges over the
// calibration inputs, per-tensor asymmetric activations chained producer -> consumer,
// per-channel symmetric weights, conv_pack_qs8.
std::vector<uint8_t> int8_blob_(const TorchTensors& t, const mc_test::BlobSpec& spec,
                                const std::vector<std::vector<float>>& calib, std::string* err) {
  const auto b32 = mc_test::make_blob(t, spec, err);
  if (b32.empty()) return {};
  auto e = mc::Engine::create(b32.data(), b32.size(), err);
  if (!e) return {};
  mc::ActivationRanges ranges;
  ranges.attach(*e);
  mc::Prediction r;
  for (const auto& x : calib) e->forward(x.data(), &r);
  ranges.detach(*e);
  std::map<std::string, mc::ActivationRanges::Layer> by_name;
  for (const auto& l : ranges.layers()) by_name[l.name] = l;
  const auto& convs = mc::resnet18::convs();
  const auto& inputs = mc::resnet18::conv_inputs();
  std::vector<mc::QuantParams> qout(convs.size());
  for (size_t i = 0; i < convs.size(); ++i) {
    const auto& l = by_name.at(convs[i].name);
    qout[i] = mc::choose_qs8_params(l.out_min, l.out_max);
  }
  const auto& l0 = by_name.at("conv1");
  const mc::QuantParams qx = mc::choose_qs8_params(l0.in_min, l0.in_max);
  const auto folded = mc_test::fold(t);
  mc::blob::Blob parsed;
  if (!mc::blob::Blob::parse(b32.data(), b32.size(), &parsed, err)) return {};
  nlohmann::json h = parsed.header();
  h.erase("tensors");
  h["weights"]["dtype"] = "int8";
  h["weights"]["packed_layout_int8"] = mc::conv_packed_qs8_layout_name();
  std::vector<mc::blob::TensorIn> ts;
  for (size_t i = 0; i < convs.size(); ++i) {
    const auto& c = convs[i];
    const mc::ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, c.stride, c.pad};
    const mc::QuantParams qin = inputs[i] < 0 ? qx : qout[size_t(inputs[i])];
    std::vector<int8_t> wq(folded.at(c.name).w_ohwi.size());
    std::vector<float> ws(c.out_c);
    std::vector<int32_t> bq(c.out_c);
    mc::quantize_conv_weights_qs8(s, folded.at(c.name).w_ohwi.data(), folded.at(c.name).bias.data(),
                                  qin.scale, wq.data(), ws.data(), bq.data());
    mc::blob::TensorIn ti;
    ti.name = c.name;
    ti.dtype = mc::blob::DType::I8;
    ti.bytes.resize(mc::conv_packed_qs8_size(s));
    mc::conv_pack_qs8(s, wq.data(), ws.data(), bq.data(), qin, qout[i], ti.bytes.data());
    ti.shape = {int64_t(ti.bytes.size())};
    ti.extra = {{"layout", "packed-qs8"},
                {"logical_shape", {c.out_c, c.k, c.k, c.in_c}},
                {"stride", c.stride},
                {"pad", c.pad}};
    ts.push_back(std::move(ti));
  }
  ts.push_back(mc::blob::tensor_f32("fc.weight", {2, 512}, t.at("fc.weight").data,
                                    {{"layout", "row-major"}}));
  ts.push_back(
      mc::blob::tensor_f32("fc.bias", {2}, t.at("fc.bias").data, {{"layout", "row-major"}}));
  return mc::blob::write(h, ts, err);
}

}  // namespace

TEST_CASE("engine: int8 blob runs the qs8 graph close to f32", "[engine]") {
  Golden_ g;
  REQUIRE(load_golden_(&g));
  TorchTensors t;
  nlohmann::json meta;
  mc_test::BlobSpec spec;
  std::vector<std::vector<float>> inputs;
  REQUIRE(mc_test::golden_model(&t, &meta));
  spec = mc_test::spec_from_meta(meta, "f32");
  for (int n = 0; n < g.N; ++n) inputs.push_back(nhwc_(g.input, n, g.S));
  std::string err;
  const auto b8 = int8_blob_(t, spec, inputs, &err);
  INFO(err);
  REQUIRE(!b8.empty());
  auto e8 = mc::Engine::create(b8.data(), b8.size(), &err);
  INFO(err);
  REQUIRE(e8);
  CHECK(std::string(e8->weight_dtype()) == "int8");
  const auto b32 = mc_test::make_blob(t, spec, &err);
  auto e32 = make_engine_(b32);
  auto e8s = make_engine_(b8, mc::Isa::Scalar);
  double worst = 0, scale = 1;
  int agree = 0;
  for (const auto& x : inputs) {
    mc::Prediction a, b, c;
    e32->forward(x.data(), &a);
    e8->forward(x.data(), &b);
    e8s->forward(x.data(), &c);
    // int8 convs are bit-identical across kernels; the f32 GAP/FC sums may be ordered differently
    CHECK(std::fabs(b.logits[0] - c.logits[0]) <= 1e-5);
    CHECK(std::fabs(b.logits[1] - c.logits[1]) <= 1e-5);
    for (int k = 0; k < 2; ++k) {
      worst = std::max(worst, double(std::fabs(a.logits[k] - b.logits[k])));
      scale = std::max(scale, double(std::fabs(a.logits[k])));
    }
    agree += a.label == b.label;
  }
  CHECK(worst <= 0.1 * scale);
  WARN("int8 vs f32 on " << inputs.size() << " inputs: max |logit diff| = " << worst
                         << " (logit scale " << scale << "), labels agree " << agree << "/"
                         << inputs.size() << ", int8 blob " << b8.size() << " bytes vs f32 "
                         << b32.size());
  // classify works end to end and allocates nothing
  std::vector<uint8_t> px(120 * 110 * 3, 90);
  mc::Prediction r;
  REQUIRE(e8->classify(px.data(), 120, 110, 3, &r, &err));
  const long before = g_mc_test_allocs.load();
  const bool ok = e8->classify(px.data(), 120, 110, 3, &r, &err);
  const long after = g_mc_test_allocs.load();
  CHECK(ok);
  CHECK(after - before == 0);
  // classify quantizes the resized bytes by a table (no f32 input): the same as forward() on
  // the normalized floats, bit for bit, for every ISA; an S x S image is resized by a copy
  const int S = e8->input_size();
  for (int side : {S, 97}) {
    std::vector<uint8_t> img(size_t(side) * side * 4);
    uint32_t h = 7;
    for (auto& v : img) v = uint8_t((h = h * 1664525u + 1013904223u) >> 24);
    for (auto* e : {e8.get(), e8s.get()}) {
      mc::Prediction rc, rf;
      REQUIRE(e->classify(img.data(), side, side, 4, &rc, &err));
      float lut[3 * 256];
      mc::make_norm_lut(spec.mean, spec.stdev, lut);
      std::vector<float> xf(size_t(S) * S * 3);
      mc::normalize_u8(e->resized(), size_t(S) * S, lut, xf.data());
      e->forward(xf.data(), &rf);
      CHECK(rc.logits[0] == rf.logits[0]);
      CHECK(rc.logits[1] == rf.logits[1]);
    }
  }
}

TEST_CASE("engine: the shipped blob agrees with PyTorch on the golden cells", "[engine]") {
  const std::string path = std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb";
  std::vector<uint8_t> blob;
  std::string err;
  if (!mc::read_file_bytes(path, size_t(1) << 31, &blob, &err)) {
    WARN("no shipped model at " << path << "; skipped");
    return;
  }
  Golden_ g;
  REQUIRE(load_golden_(&g));
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  INFO(err);
  REQUIRE(e);
  if (e->input_size() != g.S) {
    WARN("shipped model S=" << e->input_size() << " differs from the golden S=" << g.S
                            << "; skipped");
    return;
  }
  int agree = 0;
  double worst_p = 0;
  for (int n = 0; n < g.N; ++n) {
    mc::Image img;
    REQUIRE(mc::load_image_file(std::string(MC_REPO_ROOT) + "/tests/fixtures/" + g.files[n],
                                mc::ImageLimits{}, &img, &err));
    mc::Prediction r;
    REQUIRE(e->classify(img.pixels.data(), img.width, img.height, 3, &r, &err));
    agree += r.label == (g.logits[n * 2 + 1] > g.logits[n * 2] ? 1 : 0);
    worst_p = std::max(worst_p, double(std::fabs(r.p_parasitized - g.p[n])));
  }
  // f32/f16 blobs match to ~1e-6 / 1e-3; an int8 blob to a few percent of p
  CHECK(agree >= g.N - 1);
  CHECK(worst_p <= 0.05);
  WARN("shipped " << e->weight_dtype() << " blob: label agreement with PyTorch " << agree << "/"
                  << g.N << ", max |p - p_torch| = " << worst_p);
}

TEST_CASE("engine: create_adopt (weights read in place) equals create, and owns the buffer",
          "[engine]") {
  const std::string path = std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb";
  std::vector<uint8_t> blob;
  std::string err;
  REQUIRE(mc::read_file_bytes(path, size_t(1) << 31, &blob, &err));
  auto copy = [&](const std::vector<uint8_t>& b) {
    uint8_t* p = static_cast<uint8_t*>(std::malloc(b.size()));
    REQUIRE(p);
    std::memcpy(p, b.data(), b.size());
    return p;
  };
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  REQUIRE(e);
  auto a = mc::Engine::create_adopt(copy(blob), blob.size(), &err);
  INFO(err);
  REQUIRE(a);
  CHECK(std::string(a->weight_dtype()) == "int8");
  std::vector<uint8_t> px(90 * 80 * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 37) ^ (i >> 9));
  for (int k = 0; k < 3; ++k) {
    px[k * 101] ^= 0x55;
    mc::Prediction re, ra;
    REQUIRE(e->classify(px.data(), 90, 80, 4, &re, &err));
    REQUIRE(a->classify(px.data(), 90, 80, 4, &ra, &err));
    CHECK(re.logits[0] == ra.logits[0]);
    CHECK(re.logits[1] == ra.logits[1]);
    for (int i = 0; i < a->input_size() * a->input_size(); i += 97)
      CHECK(e->cam()[i] == a->cam()[i]);
  }
  // a damaged blob is refused with the reader's message; the buffer is freed either way
  std::vector<uint8_t> bad = blob;
  bad[bad.size() - 100] ^= 1;
  CHECK_FALSE(mc::Engine::create_adopt(copy(bad), bad.size(), &err));
  CHECK(err.find("checksum mismatch") != std::string::npos);
  CHECK_FALSE(mc::Engine::create_adopt(nullptr, 10, &err));
}

TEST_CASE(
    "C API: an adopting mc_engine_create frees the buffer it takes, on success and on failure",
    "[engine]") {
  const std::string path = std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb";
  std::vector<uint8_t> blob;
  std::string e;
  REQUIRE(mc::read_file_bytes(path, size_t(1) << 31, &blob, &e));
  auto take = [&](size_t n, uint8_t flip) {
    uint8_t* p = static_cast<uint8_t*>(std::malloc(n));
    REQUIRE(p);
    std::memcpy(p, blob.data(), n);
    p[n - 1] ^= flip;
    return p;
  };
  char err[256];
  mc_engine* ok = c_create_(take(blob.size(), 0), blob.size(), err, sizeof err, nullptr, 1);
  REQUIRE(ok);
  CHECK(std::string(err).empty());
  CHECK(mc_input_size(ok) > 0);
  mc_engine_destroy(ok);  // frees the adopted buffer (LeakSanitizer would report it otherwise)
  CHECK_FALSE(c_create_(take(blob.size(), 1), blob.size(), err, sizeof err, nullptr, 1));
  CHECK(std::string(err).find("checksum mismatch") != std::string::npos);
  CHECK_FALSE(c_create_(take(100, 0), 100, err, sizeof err, nullptr, 1));
  CHECK(std::strlen(err) > 0);
  CHECK_FALSE(c_create_(static_cast<uint8_t*>(std::malloc(8)), 0, err, sizeof err, nullptr, 1));
  CHECK(std::string(err).find("empty") != std::string::npos);
}

TEST_CASE("engine: a staged engine gives the results of a whole one, before and after finish",
          "[engine][batch]") {
  const std::string path = std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb";
  std::vector<uint8_t> blob;
  std::string err;
  REQUIRE(mc::read_file_bytes(path, size_t(1) << 31, &blob, &err));
  auto copy = [&]() {
    uint8_t* p = static_cast<uint8_t*>(std::malloc(blob.size()));
    REQUIRE(p);
    std::memcpy(p, blob.data(), blob.size());
    return p;
  };
  const int W = 77, H = 91, n = 3;
  std::vector<std::vector<uint8_t>> imgs(n, std::vector<uint8_t>(W * H * 4));
  for (int k = 0; k < n; ++k)
    for (size_t i = 0; i < imgs[k].size(); ++i)
      imgs[k][i] = uint8_t((i * (37 + 2 * k)) ^ (i >> (7 + k)));
  const uint8_t* ptrs[n] = {imgs[0].data(), imgs[1].data(), imgs[2].data()};
  const int ws[n] = {W, W, W}, hs[n] = {H, H, H};
  for (mc::Isa isa : {mc::default_isa(), mc::Isa::Scalar}) {
    INFO("isa " << (isa == mc::Isa::Scalar ? "scalar" : "simd"));
    auto whole = mc::Engine::create(blob.data(), blob.size(), &err, isa);
    REQUIRE(whole);
    CHECK_FALSE(whole->staged());
    mc::Prediction want[n];
    std::vector<std::vector<float>> want_cam(n);
    for (int k = 0; k < n; ++k) {
      REQUIRE(whole->classify(ptrs[k], W, H, 4, &want[k], &err));
      want_cam[k].assign(whole->cam(), whole->cam() + whole->input_size() * whole->input_size());
    }
    auto same = [&](const mc::Prediction& p, const float* cam, int k) {
      CHECK(p.logits[0] == want[k].logits[0]);
      CHECK(p.logits[1] == want[k].logits[1]);
      CHECK(p.p_parasitized == want[k].p_parasitized);
      CHECK(p.band == want[k].band);
      CHECK(std::memcmp(cam, want_cam[k].data(), want_cam[k].size() * sizeof(float)) == 0);
    };
    // one image first, then a batch (it grows to its capacity while staged), then finish
    auto s =
        mc::Engine::create_adopt(copy(), blob.size(), &err, isa, mc::ImageLimits{}, nullptr, true);
    REQUIRE(s);
    CHECK(s->staged());
    for (int round = 0; round < 2; ++round) {
      INFO((round ? "after" : "before") << " finish");
      CHECK(s->staged() == (round == 0));
      mc::Prediction p;
      REQUIRE(s->classify(ptrs[1], W, H, 4, &p, &err));
      same(p, s->cam(), 1);
      mc::Prediction ps[n];
      REQUIRE(s->classify_batch(n, ptrs, ws, hs, 4, ps, nullptr, &err) == n);
      for (int k = 0; k < n; ++k) same(ps[k], s->cam(k), k);
      REQUIRE(s->finish(&err));
    }
    CHECK(s->finish(&err));  // nothing left: at once
    CHECK(s->batch_capacity() == whole->batch_capacity());
    // finish before any batch, then a batch
    auto t =
        mc::Engine::create(blob.data(), blob.size(), &err, isa, mc::ImageLimits{}, nullptr, true);
    REQUIRE(t);
    // something is deferred: no Winograd scratch and larger int16 copies until finish, then the
    // buffers of the whole engine (both at one image)
    CHECK(t->arena_bytes() != whole->arena_bytes());
    REQUIRE(t->finish(&err));
    CHECK(t->arena_bytes() == whole->arena_bytes());
    mc::Prediction pt[n];
    REQUIRE(t->classify_batch(n, ptrs, ws, hs, 4, pt, nullptr, &err) == n);
    for (int k = 0; k < n; ++k) same(pt[k], t->cam(k), k);
  }
}

TEST_CASE("C API: a staged mc_engine_create and mc_engine_finish", "[engine]") {
  const std::string path = std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb";
  std::vector<uint8_t> blob;
  std::string e;
  REQUIRE(mc::read_file_bytes(path, size_t(1) << 31, &blob, &e));
  auto take = [&](uint8_t flip) {
    uint8_t* p = static_cast<uint8_t*>(std::malloc(blob.size()));
    REQUIRE(p);
    std::memcpy(p, blob.data(), blob.size());
    p[blob.size() - 1] ^= flip;
    return p;
  };
  char err[256];
  mc_engine* a = c_create_(take(0), blob.size(), err, sizeof err, nullptr, 1);
  mc_engine* s = c_create_(take(0), blob.size(), err, sizeof err, nullptr, 1, 1);
  mc_engine* c = c_create_(blob.data(), blob.size(), err, sizeof err, nullptr, 0, 1);  // copied
  REQUIRE(a);
  REQUIRE(s);
  REQUIRE(c);
  std::vector<uint8_t> px(64 * 64 * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 13 + (i >> 6));
  mc_result ra, rs, rc;
  for (int round = 0; round < 2; ++round) {
    REQUIRE(mc_classify_rgba(a, px.data(), 64, 64, 4, &ra, err, sizeof err) == 0);
    REQUIRE(mc_classify_rgba(s, px.data(), 64, 64, 4, &rs, err, sizeof err) == 0);
    REQUIRE(mc_classify_rgba(c, px.data(), 64, 64, 4, &rc, err, sizeof err) == 0);
    CHECK(ra.logits[0] == rs.logits[0]);
    CHECK(ra.logits[1] == rs.logits[1]);
    CHECK(ra.logits[0] == rc.logits[0]);
    CHECK(ra.logits[1] == rc.logits[1]);
    CHECK(mc_engine_finish(s, err, sizeof err) == 0);
    CHECK(std::string(err).empty());
    CHECK(mc_engine_finish(c, err, sizeof err) == 0);
  }
  CHECK(mc_engine_finish(a, err, sizeof err) == 0);  // a whole engine: nothing to do
  CHECK(mc_engine_finish(nullptr, err, sizeof err) == -1);
  CHECK(std::string(err).find("null") != std::string::npos);
  CHECK_FALSE(c_create_(take(1), blob.size(), err, sizeof err, nullptr, 1, 1));
  CHECK(std::string(err).find("checksum mismatch") != std::string::npos);
  CHECK_FALSE(c_create_(nullptr, 0, err, sizeof err, nullptr, 1, 1));
  mc_engine_destroy(a);
  mc_engine_destroy(s);
  mc_engine_destroy(c);
}

TEST_CASE("engine: classify_batch gives each image what classify gives it alone, bit for bit",
          "[engine][batch]") {
  const std::string path = std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb";
  std::vector<uint8_t> blob;
  std::string err;
  REQUIRE(mc::read_file_bytes(path, size_t(1) << 31, &blob, &err));
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  REQUIRE(e);
  REQUIRE(e->batch_capacity() == mc::kMaxBatch);
  const int S = e->input_size();
  // cells of different sizes: the fixture cells, and synthetic ones
  std::vector<mc::Image> imgs;
  Golden_ g;
  REQUIRE(load_golden_(&g));
  for (int n = 0; n < g.N && n < 6; ++n) {
    mc::Image img;
    REQUIRE(mc::load_image_file(std::string(MC_REPO_ROOT) + "/tests/fixtures/" + g.files[n],
                                mc::ImageLimits{}, &img, &err));
    imgs.push_back(std::move(img));
  }
  for (int k = 0; k < 5; ++k) {
    mc::Image img;
    img.width = 60 + 17 * k;
    img.height = 140 - 13 * k;
    img.pixels.resize(size_t(img.width) * img.height * 3);
    for (size_t i = 0; i < img.pixels.size(); ++i)
      img.pixels[i] = uint8_t((i * (7 + k)) ^ (i >> 6));
    imgs.push_back(std::move(img));
  }
  REQUIRE(imgs.size() >= size_t(mc::kMaxBatch));
  // alone
  std::vector<mc::Prediction> alone(imgs.size());
  std::vector<std::vector<float>> cams(imgs.size());
  for (size_t i = 0; i < imgs.size(); ++i) {
    REQUIRE(e->classify(imgs[i].pixels.data(), imgs[i].width, imgs[i].height, 3, &alone[i], &err));
    cams[i].assign(e->cam(), e->cam() + size_t(S) * S);
  }
  // planned for one image at load, for kMaxBatch at the first batch of more (allocating once)
  const size_t arena1 = e->arena_bytes();
  bool grown = false;
  auto check_batch = [&](size_t first, int n, int bad) {  // bad: index made unreadable, or -1
    INFO("batch of " << n << " from " << first << ", unreadable " << bad);
    std::vector<const uint8_t*> px;
    std::vector<int> w, h;
    for (int i = 0; i < n; ++i) {
      const mc::Image& im = imgs[(first + size_t(i)) % imgs.size()];
      px.push_back(im.pixels.data());
      w.push_back(i == bad ? 0 : im.width);  // width 0: refused by the preprocessor
      h.push_back(im.height);
    }
    std::vector<mc::Prediction> out(static_cast<size_t>(n));
    std::vector<std::string> errs(static_cast<size_t>(n));
    const long before = g_mc_test_allocs.load();
    const int good =
        e->classify_batch(n, px.data(), w.data(), h.data(), 3, out.data(), errs.data(), &err);
    const long after = g_mc_test_allocs.load();
    CHECK(good == n - (bad >= 0 ? 1 : 0));
#ifndef MC_TEST_ASAN_
    if (bad < 0 && grown) CHECK(after - before == 0);  // nothing allocated when every image is fine
#endif
    if (n > 1) grown = true;
    for (int i = 0; i < n; ++i) {
      const size_t j = (first + size_t(i)) % imgs.size();
      if (i == bad) {
        CHECK_FALSE(errs[size_t(i)].empty());
        continue;
      }
      CHECK(errs[size_t(i)].empty());
      CHECK(out[size_t(i)].logits[0] == alone[j].logits[0]);
      CHECK(out[size_t(i)].logits[1] == alone[j].logits[1]);
      CHECK(out[size_t(i)].p_parasitized == alone[j].p_parasitized);
      CHECK(out[size_t(i)].band == alone[j].band);
      CHECK(std::equal(cams[j].begin(), cams[j].end(), e->cam(i)));
    }
  };
  check_batch(0, 1, -1);
  CHECK(e->arena_bytes() == arena1);
  check_batch(1, 3, -1);
  CHECK(e->arena_bytes() > arena1);
  check_batch(4, 3, -1);
  check_batch(2, mc::kMaxBatch, -1);
  check_batch(3, 5, 2);
  check_batch(0, mc::kMaxBatch, 0);
  // after a batch, a single classify is as before
  mc::Prediction r;
  REQUIRE(e->classify(imgs[4].pixels.data(), imgs[4].width, imgs[4].height, 3, &r, &err));
  CHECK(r.logits[0] == alone[4].logits[0]);
  // out of range: refused with a message
  const uint8_t* p0 = imgs[0].pixels.data();
  int w0 = imgs[0].width, h0 = imgs[0].height;
  mc::Prediction o[mc::kMaxBatch + 1];
  CHECK(e->classify_batch(0, &p0, &w0, &h0, 3, o, nullptr, &err) == -1);
  CHECK(err.find("takes 1 to") != std::string::npos);
  CHECK(e->classify_batch(mc::kMaxBatch + 1, &p0, &w0, &h0, 3, o, nullptr, &err) == -1);
  CHECK(e->cam(mc::kMaxBatch) == nullptr);
  CHECK(e->cam(-1) == nullptr);

  // C API: the same through mc_classify_batch_rgba
  char cerr[256];
  mc_engine* ce = c_create_(blob.data(), blob.size(), cerr, sizeof cerr);
  REQUIRE(ce);
  CHECK(mc_batch_capacity(ce) == mc::kMaxBatch);
  const uint8_t* cpx[3] = {imgs[0].pixels.data(), imgs[1].pixels.data(), imgs[2].pixels.data()};
  int32_t cw[3] = {imgs[0].width, 0, imgs[2].width},
          ch[3] = {imgs[0].height, imgs[1].height, imgs[2].height};
  mc_result cr[3];
  int32_t st[3];
  CHECK(mc_classify_batch_rgba(ce, 3, cpx, cw, ch, 3, cr, st, cerr, sizeof cerr) == 2);
  CHECK(st[0] == 0);
  CHECK(st[1] == -1);
  CHECK(st[2] == 0);
  CHECK(std::string(cerr).rfind("image 1: ", 0) == 0);
  CHECK(cr[0].logits[0] == alone[0].logits[0]);
  CHECK(cr[2].logits[1] == alone[2].logits[1]);
  CHECK(std::equal(cams[2].begin(), cams[2].end(), mc_cam_at(ce, 2)));
  CHECK(mc_classify_batch_rgba(ce, 9, cpx, cw, ch, 3, cr, st, cerr, sizeof cerr) == -1);
  CHECK(mc_cam_at(ce, 99) == nullptr);
  mc_engine_destroy(ce);
}

TEST_CASE("engine: f32 engines take one image per batch", "[engine][batch]") {
  const auto blob = mc_test::synthetic_blob(32, "f32", 3);
  auto e = make_engine_(blob);
  CHECK(e->batch_capacity() == 1);
  std::vector<uint8_t> px(40 * 30 * 4, 90);
  const uint8_t* p = px.data();
  int w = 40, h = 30;
  mc::Prediction a, b[2];
  std::string err, errs[1];
  REQUIRE(e->classify(p, w, h, 4, &a, &err));
  CHECK(e->classify_batch(1, &p, &w, &h, 4, b, errs, &err) == 1);
  CHECK(b[0].logits[0] == a.logits[0]);
  CHECK(e->classify_batch(2, &p, &w, &h, 4, b, nullptr, &err) == -1);
}

TEST_CASE("engine: a large input size lowers the batch capacity, and batches there still match",
          "[engine][batch]") {
  TorchTensors t;
  nlohmann::json meta;
  REQUIRE(mc_test::golden_model(&t, &meta));
  mc_test::BlobSpec spec = mc_test::spec_from_meta(meta, "f32");
  spec.S = 512;  // one image's int8 buffers ~50 MB: fewer than kMaxBatch fit 256 MiB
  std::string err;
  const auto b8 = int8_blob_(t, spec, {random_input_(512, 7)}, &err);
  INFO(err);
  REQUIRE(!b8.empty());
  auto e = mc::Engine::create(b8.data(), b8.size(), &err);
  REQUIRE(e);
  const int cap = e->batch_capacity();
  CHECK(cap >= 1);
  CHECK(cap < mc::kMaxBatch);
  const size_t arena1 = e->arena_bytes();
  std::vector<std::vector<uint8_t>> px(2, std::vector<uint8_t>(300 * 280 * 4));
  for (size_t k = 0; k < 2; ++k)
    for (size_t i = 0; i < px[k].size(); ++i) px[k][i] = uint8_t((i * (5 + k)) ^ (i >> 8));
  mc::Prediction alone[2], both[2];
  for (int k = 0; k < 2; ++k)
    REQUIRE(e->classify(px[size_t(k)].data(), 300, 280, 4, &alone[k], &err));
  if (cap >= 2) {
    const uint8_t* p[2] = {px[0].data(), px[1].data()};
    int w[2] = {300, 300}, h[2] = {280, 280};
    REQUIRE(e->classify_batch(2, p, w, h, 4, both, nullptr, &err) == 2);
    CHECK(both[0].logits[0] == alone[0].logits[0]);
    CHECK(both[1].logits[1] == alone[1].logits[1]);
    CHECK(e->arena_bytes() <= arena1 * size_t(cap) + (size_t(1) << 20));
    CHECK(e->arena_bytes() < (size_t(256) << 20) + arena1);
  }
  WARN("S=512 int8: batch capacity " << cap << ", one image's buffers " << arena1 / (1 << 20)
                                     << " MiB");
}
