// malaria-convert: safetensors + metadata -> blob (converter/convert.h and the executable).
// [converter]
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "blob.h"
#include "convert.h"
#include "image.h"
#include "ops/ops.h"
#include "ops/ops_qs8.h"
#include "resnet18.h"
#include "safetensors.h"
#include "sha256.h"

using nlohmann::json;
namespace bl = mc::blob;

namespace {

struct StTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::string dtype = "F32";
};

std::vector<uint8_t> write_st_(const std::vector<StTensor>& ts) {
  json h = json::object();
  std::vector<uint8_t> data;
  for (const StTensor& t : ts) {
    size_t begin = data.size();
    if (t.dtype == "I64") {
      for (float v : t.values)
        for (int k = 0; k < 8; ++k) data.push_back(uint8_t(uint64_t(int64_t(v)) >> (8 * k)));
    } else {
      for (float v : t.values) {
        uint32_t u;
        std::memcpy(&u, &v, 4);
        for (int k = 0; k < 4; ++k) data.push_back(uint8_t(u >> (8 * k)));
      }
    }
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string s = h.dump();
  while (s.size() % 8) s += ' ';
  std::vector<uint8_t> f(8);
  for (int i = 0; i < 8; ++i) f[size_t(i)] = uint8_t(uint64_t(s.size()) >> (8 * i));
  f.insert(f.end(), s.begin(), s.end());
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

std::vector<float> randn_(std::mt19937& g, size_t n, float scale, float offset = 0) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = offset + scale * d(g);
  return v;
}

// A random torchvision-named ResNet18 state dict (BN statistics non-trivial, like export.py).
std::vector<StTensor> random_resnet18_(uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<StTensor> ts;
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
    size_t n = size_t(c.out_c) * c.in_c * c.k * c.k;
    ts.push_back({std::string(c.torch_conv) + ".weight",
                  {c.out_c, c.in_c, c.k, c.k},
                  randn_(g, n, std::sqrt(2.0f / float(c.in_c * c.k * c.k)))});
    std::vector<float> gamma(size_t(c.out_c)), var(size_t(c.out_c));
    for (float& x : gamma) x = 0.75f + 0.5f * u(g);
    for (float& x : var) x = 0.75f + 0.5f * u(g);
    const std::string bn = c.torch_bn;
    ts.push_back({bn + ".weight", {c.out_c}, gamma});
    ts.push_back({bn + ".bias", {c.out_c}, randn_(g, size_t(c.out_c), 0.1f)});
    ts.push_back({bn + ".running_mean", {c.out_c}, randn_(g, size_t(c.out_c), 0.1f)});
    ts.push_back({bn + ".running_var", {c.out_c}, var});
    ts.push_back({bn + ".num_batches_tracked", {}, {100.0f}, "I64"});
  }
  ts.push_back({"fc.weight", {2, 512}, randn_(g, 1024, 0.05f)});
  ts.push_back({"fc.bias", {2}, {0.1f, -0.1f}});
  return ts;
}

json meta_() {
  return json{
      {"architecture", "resnet18"},
      {"labels", {"Uninfected", "Parasitized"}},
      {"input",
       {{"size", 64},
        {"resize_filter", "area-int"},
        {"mean", {0.52, 0.42, 0.45}},
        {"std", {0.33, 0.26, 0.27}},
        {"channel_order", "RGB"},
        {"scale", 1.0 / 255}}},
      {"calibration", {{"temperature", 1.3}, {"band", {0.1, 0.9}}, {"positive", "Parasitized"}}},
      {"provenance", {{"source", "test"}, {"split_sha256", std::string(64, 'a')}}},
      {"metrics", {{"test", {{"accuracy", 0.97}}}}}};
}

const StTensor& by_name_(const std::vector<StTensor>& ts, const std::string& name) {
  for (const StTensor& t : ts)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return ts[0];
}

std::string convert_err_(const std::vector<uint8_t>& st, const json& meta,
                         const std::string& dtype = "f32") {
  mc::convert::Options opt;
  opt.dtype = dtype;
  std::vector<uint8_t> out;
  std::string err;
  return mc::convert::convert(st.data(), st.size(), meta, opt, &out, &err) ? "OK" : err;
}

std::vector<uint8_t> read_(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

const std::vector<StTensor>& model_() {
  static const std::vector<StTensor> m = random_resnet18_(7);
  return m;
}
const std::vector<uint8_t>& model_st_() {
  static const std::vector<uint8_t> f = write_st_(model_());
  return f;
}

}  // namespace

TEST_CASE("BatchNorm folding matches conv + BN on a random small case", "[converter]") {
  std::mt19937 g(3);
  const int O = 5, I = 3, K = 3;
  std::vector<float> w = randn_(g, size_t(O * I * K * K), 0.5f);
  std::vector<float> gamma = randn_(g, O, 0.3f, 1.0f), beta = randn_(g, O, 0.2f);
  std::vector<float> mean = randn_(g, O, 0.2f), var(O);
  for (int o = 0; o < O; ++o) var[size_t(o)] = 0.5f + 0.1f * float(o);
  std::vector<float> w_ohwi, bias;
  REQUIRE(mc::convert::fold_bn(w, O, I, K, K, gamma, beta, mean, var, 1e-5, &w_ohwi, &bias));
  // one output pixel of a 3x3 input patch (NHWC), reference in float: BN(conv(x))
  std::vector<float> x = randn_(g, size_t(K * K * I), 1.0f);  // [y][x][i]
  for (int o = 0; o < O; ++o) {
    float conv = 0;
    for (int i = 0; i < I; ++i)
      for (int y = 0; y < K; ++y)
        for (int xx = 0; xx < K; ++xx)
          conv += w[size_t(((o * I + i) * K + y) * K + xx)] * x[size_t((y * K + xx) * I + i)];
    const float ref =
        gamma[size_t(o)] * (conv - mean[size_t(o)]) / std::sqrt(var[size_t(o)] + 1e-5f) +
        beta[size_t(o)];
    float folded = bias[size_t(o)];
    for (int y = 0; y < K; ++y)
      for (int xx = 0; xx < K; ++xx)
        for (int i = 0; i < I; ++i)
          folded +=
              w_ohwi[size_t(((o * K + y) * K + xx) * I + i)] * x[size_t((y * K + xx) * I + i)];
    CHECK(folded == Approx(ref).epsilon(1e-5).margin(1e-5));
  }
  // bad statistics are refused
  std::vector<float> bad_var = var;
  bad_var[2] = -1.0f;
  CHECK_FALSE(
      mc::convert::fold_bn(w, O, I, K, K, gamma, beta, mean, bad_var, 1e-5, &w_ohwi, &bias));
  std::vector<float> nan_w = w;
  nan_w[4] = std::nanf("");
  CHECK_FALSE(
      mc::convert::fold_bn(nan_w, O, I, K, K, gamma, beta, mean, var, 1e-5, &w_ohwi, &bias));
}

TEST_CASE("convert round trip: the reader gives back the folded, packed weights", "[converter]") {
  const std::vector<uint8_t>& st = model_st_();
  for (const char* dtype : {"f32", "f16"}) {
    DYNAMIC_SECTION(dtype) {
      mc::convert::Options opt;
      opt.dtype = dtype;
      std::vector<uint8_t> out;
      std::string err;
      REQUIRE(mc::convert::convert(st.data(), st.size(), meta_(), opt, &out, &err));
      bl::Blob b;
      REQUIRE(bl::Blob::parse(out.data(), out.size(), &b, &err));
      CHECK(b.weight_dtype() == dtype);
      CHECK(b.packed_layout() == mc::conv_packed_layout_name());
      CHECK(b.input().size == 64);
      CHECK(b.input().mean[1] == 0.42f);
      CHECK(b.calibration().temperature == 1.3f);
      CHECK(b.calibration().band_hi == 0.9f);
      const json& h = b.header();
      CHECK(h["provenance"]["converter"] == mc::convert::kConverterVersion);
      CHECK(h["provenance"]["source_sha256"] == mc::sha256_hex(st.data(), st.size()));
      CHECK(h["provenance"]["split_sha256"] == std::string(64, 'a'));
      CHECK(h["metrics"]["test"]["accuracy"] == 0.97);
      CHECK(h["weights"]["bn_folded"] == true);
      CHECK(h["input"]["scale"].get<double>() == 1.0 / 255);  // unknown keys kept
      const bool half = std::string(dtype) == "f16";
      for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
        const std::string bn = c.torch_bn;
        std::vector<float> w_ohwi, bias;
        REQUIRE(mc::convert::fold_bn(
            by_name_(model_(), std::string(c.torch_conv) + ".weight").values, c.out_c, c.in_c, c.k,
            c.k, by_name_(model_(), bn + ".weight").values, by_name_(model_(), bn + ".bias").values,
            by_name_(model_(), bn + ".running_mean").values,
            by_name_(model_(), bn + ".running_var").values, 1e-5, &w_ohwi, &bias));
        mc::ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0};
        std::vector<float> packed(mc::conv_packed_f32_size(s));
        mc::conv_pack_f32(s, w_ohwi.data(), bias.data(), packed.data());
        const bl::Tensor* t = b.find(c.name);
        REQUIRE(t);
        REQUIRE(t->elements == packed.size());
        CHECK(t->logical_shape == std::vector<int64_t>{c.out_c, c.k, c.k, c.in_c});
        CHECK(t->stride == c.stride);
        CHECK(t->pad == c.pad);
        size_t mismatches = 0;
        for (size_t i = 0; i < packed.size(); ++i) {
          float got;
          if (half) {
            got = bl::f16_to_f32(uint16_t(t->data[2 * i] | t->data[2 * i + 1] << 8));
            if (got != bl::f16_to_f32(bl::f32_to_f16(packed[i]))) ++mismatches;
          } else {
            std::memcpy(&got, t->data + 4 * i, 4);
            if (got != packed[i]) ++mismatches;
          }
        }
        CHECK(mismatches == 0);
        // the folded bias is in the packed buffer (the layout stores it): spot check it exists
        CHECK(std::find(packed.begin(), packed.end(), bias[0]) != packed.end());
      }
      const bl::Tensor* fw = b.find("fc.weight");
      REQUIRE(fw);
      CHECK(fw->shape == std::vector<int64_t>{2, 512});
      const std::vector<float>& ref = by_name_(model_(), "fc.weight").values;
      float v0;
      if (half)
        v0 = bl::f16_to_f32(uint16_t(fw->data[2 * 700] | fw->data[2 * 700 + 1] << 8));
      else
        std::memcpy(&v0, fw->data + 4 * 700, 4);
      CHECK(v0 == (half ? bl::f16_to_f32(bl::f32_to_f16(ref[700])) : ref[700]));
    }
  }
}

TEST_CASE("convert is deterministic (library and executable)", "[converter]") {
  const std::vector<uint8_t>& st = model_st_();
  mc::convert::Options opt;
  std::vector<uint8_t> a, b;
  std::string err;
  REQUIRE(mc::convert::convert(st.data(), st.size(), meta_(), opt, &a, &err));
  REQUIRE(mc::convert::convert(st.data(), st.size(), meta_(), opt, &b, &err));
  CHECK(a == b);
#ifdef MC_CONVERT_EXE
  const std::string dir = MC_BUILD_DIR;
  const std::string w = dir + "/test_conv_w.safetensors", m = dir + "/test_conv_w.json";
  write_(w, st);
  std::string ms = meta_().dump(2);
  write_(m, std::vector<uint8_t>(ms.begin(), ms.end()));
  for (int run = 0; run < 1; ++run) {  // the executable writes the library's bytes
    std::string out = dir + "/test_conv_out" + std::to_string(run) + ".mcb";
    std::string cmd = std::string("\"") + MC_CONVERT_EXE + "\" --weights " + w + " --meta " + m +
                      " --dtype f32 -o " + out + " > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(read_(out) == a);
    std::remove(out.c_str());
  }
  // usage and conversion errors: exit 2 and 1
  CHECK(std::system((std::string("\"") + MC_CONVERT_EXE + "\" --weights x 2> /dev/null").c_str()) !=
        0);
  std::string bad = std::string("\"") + MC_CONVERT_EXE + "\" --weights " + m + " --meta " + m +
                    " -o " + dir + "/never.mcb 2> " + dir + "/test_conv_err.txt";
  CHECK(std::system(bad.c_str()) != 0);
  std::vector<uint8_t> e = read_(dir + "/test_conv_err.txt");
  CHECK(std::string(e.begin(), e.end()).find("malaria-convert: weights: safetensors:") == 0);
  std::remove(w.c_str());
  std::remove(m.c_str());
#endif
}

TEST_CASE("convert names the missing, misshaped or mistyped tensor", "[converter]") {
  auto edited = [](const std::function<void(std::vector<StTensor>&)>& edit) {
    std::vector<StTensor> ts = model_();
    edit(ts);
    return write_st_(ts);
  };
  auto drop = [](std::vector<StTensor>& ts, const std::string& name) {
    for (size_t i = 0; i < ts.size(); ++i)
      if (ts[i].name == name) {
        ts.erase(ts.begin() + long(i));
        return;
      }
  };
  auto find = [](std::vector<StTensor>& ts, const std::string& name) -> StTensor& {
    for (StTensor& t : ts)
      if (t.name == name) return t;
    return ts[0];
  };
  SECTION("missing") {
    CHECK(convert_err_(edited([&](auto& ts) { drop(ts, "layer2.1.bn1.running_var"); }), meta_()) ==
          "weights: missing tensor 'layer2.1.bn1.running_var' (not a torchvision ResNet18?)");
    CHECK(convert_err_(edited([&](auto& ts) {
                         drop(ts, "fc.bias");
                         drop(ts, "conv1.weight");
                       }),
                       meta_()) ==
          "weights: missing tensors 'conv1.weight', 'fc.bias' (not a torchvision ResNet18?)");
  }
  SECTION("misshaped") {
    CHECK(convert_err_(edited([&](auto& ts) {
                         StTensor& t = find(ts, "fc.weight");
                         t.shape = {10, 512};
                         t.values.resize(5120, 0.0f);
                       }),
                       meta_()) ==
          "weights: tensor 'fc.weight' has shape [10, 512], expected [2, 512] (not a torchvision "
          "ResNet18 with 2 classes?)");
    CHECK(convert_err_(edited([&](auto& ts) {
                         find(ts, "layer1.0.conv1.weight").shape = {64, 64, 9};
                       }),
                       meta_()) ==
          "weights: tensor 'layer1.0.conv1.weight' has shape [64, 64, 9], expected [64, 64, 3, 3] "
          "(not a torchvision ResNet18 with 2 classes?)");
  }
  SECTION("wrong dtype") {
    CHECK(convert_err_(edited([&](auto& ts) { find(ts, "bn1.bias").dtype = "I64"; }), meta_()) ==
          "weights: tensor 'bn1.bias' has dtype I64, expected F32 or F16");
  }
  SECTION("a folded value beyond f16's range") {
    // running_var 0 and a large mean: the folded bias is ~ 300 gamma / sqrt(1e-5), ~ 94,868 gamma
    const std::vector<uint8_t> st = edited([&](auto& ts) {
      StTensor& m = find(ts, "layer3.0.bn1.running_mean");
      std::fill(m.values.begin(), m.values.end(), -300.0f);
      StTensor& v = find(ts, "layer3.0.bn1.running_var");
      std::fill(v.values.begin(), v.values.end(), 0.0f);
    });
    const std::string err = convert_err_(st, meta_(), "f16");
    INFO(err);
    CHECK(err.rfind("weights: tensor 'layer3.0.conv1' holds ", 0) == 0);
    CHECK(err.find("beyond f16's range (65504): convert it with --dtype f32 or int8") !=
          std::string::npos);
    CHECK(convert_err_(st, meta_(), "f32") == "OK");
  }
  SECTION("unexpected tensor (another architecture)") {
    CHECK(
        convert_err_(edited([&](auto& ts) {
                       ts.push_back({"layer1.2.conv1.weight", {1}, {0.0f}});
                     }),
                     meta_()) ==
        "weights: unexpected tensor 'layer1.2.conv1.weight' (not part of a torchvision ResNet18)");
  }
  SECTION("truncated file") {
    std::vector<uint8_t> st = model_st_();
    st.resize(st.size() - 1000);
    std::string err = convert_err_(st, meta_());
    CHECK(err.rfind("weights: safetensors: tensor '", 0) == 0);
    CHECK(err.find("truncated file?") != std::string::npos);
  }
  SECTION("not a safetensors file") {
    std::vector<uint8_t> st = {'<', 'h', 't', 'm', 'l', '>', ' ', ' ', ' ', ' '};
    CHECK(convert_err_(st, meta_()).rfind("weights: safetensors: ", 0) == 0);
  }
  SECTION("non-finite weights") {
    CHECK(convert_err_(
              edited([&](auto& ts) { find(ts, "layer3.0.bn2.running_var").values[5] = -2.0f; }),
              meta_()) ==
          "weights: cannot fold BatchNorm 'layer3.0.bn2' into 'layer3.0.conv2': non-finite values "
          "or running_var + eps <= 0");
  }
  SECTION("bad metadata, in the reader's words") {
    json m = meta_();
    m["input"].erase("size");
    CHECK(convert_err_(model_st_(), m) ==
          "metadata: header field 'input.size' is missing or is not an integer");
    m = meta_();
    m["calibration"]["band"] = {0.9, 0.1};
    CHECK(convert_err_(model_st_(), m) ==
          "metadata: header field 'calibration.band' is invalid: need 0 <= lo <= hi <= 1, got "
          "[0.9,0.1]");
  }
  SECTION("dtype") {
    CHECK(convert_err_(model_st_(), meta_(), "int8") ==
          "--dtype int8 needs calibration images (--calib FOLDER_OR_FILES)");
    CHECK(convert_err_(model_st_(), meta_(), "bf16") ==
          "unknown --dtype 'bf16' (expected f32, f16 or int8)");
  }
}

TEST_CASE("the exported development model converts (if model/export.py output is present)",
          "[converter]") {
  const std::string dir = std::string(MC_REPO_ROOT) + "/model/";
  std::vector<uint8_t> st = read_(dir + "malaria_resnet18.safetensors");
  std::vector<uint8_t> mj = read_(dir + "malaria_resnet18.json");
  if (st.empty() || mj.empty()) {
    WARN("model/malaria_resnet18.{safetensors,json} not present; skipped");
    return;
  }
  json meta = json::parse(mj.begin(), mj.end(), nullptr, false);
  REQUIRE(!meta.is_discarded());
  CHECK(convert_err_(st, meta, "f16") == "OK");
}

TEST_CASE("int8: calibration, per-channel weights, consistent activation quantization",
          "[converter]") {
  // calibration images: smooth random color fields, written as PNG into the build folder
  const std::string dir = std::string(MC_BUILD_DIR) + "/test_calib";
  std::vector<std::string> files;
  std::mt19937 g(11);
  for (int k = 0; k < 3; ++k) {
    const int w = 40 + 9 * k, h = 50 - 5 * k;
    std::vector<uint8_t> px(size_t(w * h * 3));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          px[size_t((y * w + x) * 3 + c)] =
              uint8_t((x * (3 + c) + y * (5 - c) + int(g() % 40)) & 255);
    files.push_back(dir + "_" + std::to_string(k) + ".png");
    std::string err;
    REQUIRE(mc::write_png(files.back(), w, h, 3, px.data(), &err));
  }
  const std::vector<uint8_t>& st = model_st_();
  mc::convert::Options opt;
  opt.dtype = "int8";
  opt.calib_files = files;
  std::vector<uint8_t> out, again, f32;
  std::string err;
  INFO(err);
  REQUIRE(mc::convert::convert(st.data(), st.size(), meta_(), opt, &out, &err));
  REQUIRE(mc::convert::convert(st.data(), st.size(), meta_(), opt, &again, &err));
  CHECK(out == again);  // deterministic
  mc::convert::Options o32;
  REQUIRE(mc::convert::convert(st.data(), st.size(), meta_(), o32, &f32, &err));

  bl::Blob b, b32;
  REQUIRE(bl::Blob::parse(out.data(), out.size(), &b, &err));
  REQUIRE(bl::Blob::parse(f32.data(), f32.size(), &b32, &err));
  CHECK(b.weight_dtype() == "int8");
  CHECK(b.packed_layout_int8() == mc::conv_packed_qs8_layout_name());
  CHECK(b.header()["provenance"]["calibration_images"] == 3);
  CHECK(b.find("fc.weight")->dtype == bl::DType::F32);
  CHECK(out.size() < f32.size() / 3);

  // producers: conv1 -> layer1.0.conv1 / conv2, the downsample reads the block input
  const auto& convs = mc::resnet18::convs();
  const auto& inputs = mc::resnet18::conv_inputs();
  auto idx = [&](const std::string& n) {
    for (size_t i = 0; i < convs.size(); ++i)
      if (n == convs[i].name) return int(i);
    return -2;
  };
  CHECK(inputs[0] == -1);
  CHECK(inputs[size_t(idx("layer1.0.conv1"))] == idx("conv1"));
  CHECK(inputs[size_t(idx("layer1.0.conv2"))] == idx("layer1.0.conv1"));
  CHECK(inputs[size_t(idx("layer1.1.conv1"))] == idx("layer1.0.conv2"));
  CHECK(inputs[size_t(idx("layer2.0.downsample"))] == idx("layer1.1.conv2"));
  CHECK(inputs[size_t(idx("layer3.0.downsample"))] == idx("layer2.1.conv2"));
  CHECK(inputs[size_t(idx("layer4.1.conv2"))] == idx("layer4.1.conv1"));

  // an edited chain is refused by the reader
  {
    json h = json::parse(out.begin() + 64, out.begin() + 64 + long(b.header_text().size()));
    std::vector<uint8_t> broken = out;
    const bl::Tensor* t = b.find("layer2.0.conv2");
    size_t at = size_t(t->data - out.data());
    broken[at + 4] ^= 1;  // input zero point of layer2.0.conv2
    bl::reseal(broken);
    bl::Blob x;
    CHECK_FALSE(bl::Blob::parse(broken.data(), broken.size(), &x, &err));
    CHECK(err ==
          "tensor 'layer2.0.conv2': invalid quant: input parameters differ from the output "
          "parameters of 'layer2.0.conv1'");
  }

  // conv1 in int8 against conv1 in f32 on a random input in the calibrated range
  const bl::Tensor* q1 = b.find("conv1");
  const bl::Tensor* f1 = b32.find("conv1");
  const int S = 16;
  mc::ConvShape s{S, S, 3, 64, 7, 7, 2, 3};
  mc::QuantParams qin = mc::conv_packed_qs8_input_params(q1->data);
  mc::QuantParams qout = mc::conv_packed_qs8_output_params(q1->data);
  std::uniform_real_distribution<float> u(-1.5f, 1.5f);
  std::vector<float> x(size_t(S * S * 3));
  for (float& v : x) v = u(g);
  std::vector<float> packed32(f1->elements), zero(3, 0.0f), y32(size_t(s.out_h() * s.out_w() * 64));
  std::memcpy(packed32.data(), f1->data, f1->bytes);
  std::vector<const float*> ind(mc::conv_indirection_size(s));
  mc::conv_setup_indirection(s, x.data(), zero.data(), ind.data());
  mc::conv_run_f32(s, ind.data(), packed32.data(), y32.data(), nullptr, true);
  std::vector<int8_t> xq(x.size()), yq(y32.size());
  mc::quantize_f32_qs8(x.size(), x.data(), qin, xq.data());
  std::vector<int16_t> xq16(x.size()), zq16(3, int16_t(qin.zero_point));
  mc::widen_qs8_a16(x.size(), xq.data(), xq16.data());
  std::vector<uint8_t> packed8(q1->data, q1->data + q1->bytes);
  std::vector<const int16_t*> indq(mc::conv_indirection_size(s));
  mc::conv_setup_indirection_qs8_a16(s, xq16.data(), zq16.data(), indq.data());
  mc::conv_run_qs8_a16(s, indq.data(), packed8.data(), false, yq.data(), nullptr,
                       mc::QuantParams{1, 0}, true);
  std::vector<float> yd(yq.size());
  mc::dequantize_qs8_f32(yq.size(), yq.data(), qout, yd.data());
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < yd.size(); ++i) {
    const double r =
        std::min(double(y32[i]), double(qout.scale) * (127 - qout.zero_point));  // clip
    err2 += (yd[i] - r) * (yd[i] - r);
    ref2 += r * r;
  }
  INFO("relative RMS error " << std::sqrt(err2 / ref2));
  CHECK(std::sqrt(err2 / std::max(ref2, 1e-12)) < 0.05);
  for (const std::string& f : files) std::remove(f.c_str());

  // calibration errors
  opt.calib_files = {dir + "_missing.png"};
  CHECK(convert_err_(st, meta_(), "int8") ==
        "--dtype int8 needs calibration images (--calib FOLDER_OR_FILES)");
  std::vector<uint8_t> o2;
  CHECK_FALSE(mc::convert::convert(st.data(), st.size(), meta_(), opt, &o2, &err));
  CHECK(err == "calibration: no such file or folder: " + dir + "_missing.png");
}

namespace {

// The body of random_resnet18_ with fast.ai's head in model/export.py's canonical names:
// head.bn1 (1024) -> head.fc1 [8, 1024] + bias -> ReLU -> head.bn2 (8) -> head.fc2 [3, 8] (no
// bias, as fast.ai v2) -> head.bn_final (3).
std::vector<StTensor> fastai_head_model_(uint32_t seed) {
  std::vector<StTensor> ts;
  for (StTensor& t : random_resnet18_(seed))
    if (t.name.compare(0, 3, "fc.") != 0) ts.push_back(t);
  std::mt19937 g(seed + 1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  auto bn = [&](const std::string& name, int64_t n) {
    std::vector<float> gamma(static_cast<size_t>(n)), var(static_cast<size_t>(n));
    for (float& x : gamma) x = 0.5f + u(g);
    for (float& x : var) x = 0.5f + u(g);
    ts.push_back({name + ".weight", {n}, gamma});
    ts.push_back({name + ".bias", {n}, randn_(g, size_t(n), 0.2f)});
    ts.push_back({name + ".running_mean", {n}, randn_(g, size_t(n), 0.3f)});
    ts.push_back({name + ".running_var", {n}, var});
    ts.push_back({name + ".num_batches_tracked", {}, {7.0f}, "I64"});
  };
  bn("head.bn1", 1024);
  ts.push_back({"head.fc1.weight", {8, 1024}, randn_(g, 8 * 1024, 0.05f)});
  ts.push_back({"head.fc1.bias", {8}, randn_(g, 8, 0.1f)});
  bn("head.bn2", 8);
  ts.push_back({"head.fc2.weight", {3, 8}, randn_(g, 24, 0.4f)});
  bn("head.bn_final", 3);
  return ts;
}

json fastai_meta_() {
  json m = meta_();
  m["labels"] = {"Gametocyte", "Parasitized", "Uninfected"};
  m["head"] = {{"kind", "mlp"}, {"pooling", "concat-max-avg"}, {"positive", 1}};
  return m;
}

std::vector<float> blob_floats_(const bl::Blob& b, const std::string& name) {
  const bl::Tensor* t = b.find(name);
  REQUIRE(t);
  REQUIRE(t->dtype == bl::DType::F32);
  std::vector<float> v(t->elements);
  std::memcpy(v.data(), t->data, t->bytes);
  return v;
}

}  // namespace

TEST_CASE("fast.ai heads: every BatchNorm1d folded into its linear layer, a version 2 header",
          "[converter]") {
  const std::vector<StTensor> ts = fastai_head_model_(5);
  const std::vector<uint8_t> st = write_st_(ts);
  mc::convert::Options opt;
  std::vector<uint8_t> out;
  std::string err;
  REQUIRE(mc::convert::convert(st.data(), st.size(), fastai_meta_(), opt, &out, &err));
  bl::Blob b;
  REQUIRE(bl::Blob::parse(out.data(), out.size(), &b, &err));
  CHECK(b.version() == 2);
  CHECK(b.head().mlp);
  CHECK(b.head().hidden == 8);
  CHECK(b.header()["head"]["sizes"] == json({1024, 8, 3}));
  CHECK(b.header()["head"]["bn1d_folded"] == true);

  // the unfolded head, in double, against the folded layers as the engine runs them
  auto get = [&](const std::string& n) { return by_name_(ts, n).values; };
  auto bn = [&](const std::string& n, std::vector<double> x) {
    std::vector<float> w = get(n + ".weight"), bb = get(n + ".bias"), m = get(n + ".running_mean"),
                       v = get(n + ".running_var");
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = (x[i] - m[i]) / std::sqrt(double(v[i]) + 1e-5) * w[i] + bb[i];
    return x;
  };
  auto linear = [](const std::vector<float>& w, const std::vector<float>* bias, size_t out,
                   const std::vector<double>& x) {
    std::vector<double> y(out, 0.0);
    for (size_t o = 0; o < out; ++o) {
      double s = bias ? (*bias)[o] : 0.0;
      for (size_t i = 0; i < x.size(); ++i) s += double(w[o * x.size() + i]) * x[i];
      y[o] = s;
    }
    return y;
  };
  std::mt19937 g(9);
  const std::vector<float> f1w = blob_floats_(b, "head.fc1.weight"),
                           f1b = blob_floats_(b, "head.fc1.bias"),
                           f2w = blob_floats_(b, "head.fc2.weight"),
                           f2b = blob_floats_(b, "head.fc2.bias");
  const std::vector<float> w1 = get("head.fc1.weight"), b1 = get("head.fc1.bias"),
                           w2 = get("head.fc2.weight");
  double worst = 0;
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<float> xf = randn_(g, 1024, 1.0f, 0.5f);
    std::vector<double> x(xf.begin(), xf.end());
    std::vector<double> h = linear(w1, &b1, 8, bn("head.bn1", x));
    for (double& v : h) v = v > 0 ? v : 0;
    std::vector<double> ref = bn("head.bn_final", linear(w2, nullptr, 3, bn("head.bn2", h)));
    std::vector<double> h2 = linear(f1w, &f1b, 8, x);
    for (double& v : h2) v = v > 0 ? v : 0;
    std::vector<double> got = linear(f2w, &f2b, 3, h2);
    for (size_t k = 0; k < 3; ++k) worst = std::max(worst, std::fabs(got[k] - ref[k]));
  }
  INFO("max |folded - unfolded| = " << worst);
  CHECK(worst < 1e-4);
}

TEST_CASE("fast.ai heads: what the converter refuses", "[converter]") {
  const std::vector<StTensor> ts = fastai_head_model_(6);
  const std::vector<uint8_t> st = write_st_(ts);
  json m = fastai_meta_();
  m["labels"] = {"Uninfected", "Parasitized"};
  CHECK(convert_err_(st, m) ==
        "metadata: 2 labels for a head with 3 outputs (give one label per class)");
  m = fastai_meta_();
  m["head"]["positive"] = 5;
  CHECK(convert_err_(st, m) == "metadata: head.positive 5 is not a label index (0 to 2)");
  m = fastai_meta_();
  m["head"] = "mlp";
  CHECK(convert_err_(st, m) ==
        "metadata: 'head' must be an object with \"kind\" (\"linear\" or \"mlp\"), \"pooling\" "
        "(\"avg\" or \"concat-max-avg\") and \"positive\" (a label index)");
  m = fastai_meta_();
  m["head"]["kind"] = "resnet";
  CHECK(convert_err_(st, m) == "metadata: head.kind 'resnet' is not \"linear\" or \"mlp\"");
  m = fastai_meta_();
  m["head"]["pooling"] = "avg";
  CHECK(convert_err_(st, m) ==
        "weights: tensor 'head.bn1.weight' has shape [1024], expected [512] (head \"mlp\" with "
        "pooling \"avg\")");
  std::vector<StTensor> bad = ts;
  for (StTensor& t : bad)
    if (t.name == "head.bn2.running_var") t.values[3] = -1.0f;
  CHECK(convert_err_(write_st_(bad), fastai_meta_()) ==
        "weights: cannot fold BatchNorm1d 'head.bn2' into 'head.fc2': non-finite values or "
        "running_var + eps <= 0");
  bad = ts;
  bad.push_back({"head.fc3.weight", {3, 3}, std::vector<float>(9, 0.0f)});
  CHECK(convert_err_(write_st_(bad), fastai_meta_()) ==
        "weights: unexpected tensor 'head.fc3.weight' (not part of a ResNet18 with head \"mlp\")");
  bad.clear();
  for (const StTensor& t : ts)
    if (t.name != "head.fc2.weight") bad.push_back(t);
  CHECK(convert_err_(write_st_(bad), fastai_meta_()) ==
        "weights: missing tensor 'head.fc2.weight' (head \"mlp\" with pooling \"concat-max-avg\")");
}
