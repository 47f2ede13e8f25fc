// Preprocessing: the integer area resize and normalization match model/common.py bit for bit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image.h"
#include "preprocess.h"
#include "sha256.h"
#include "test_util.h"

namespace {

const std::string kFix_ = std::string(MC_REPO_ROOT) + "/tests/fixtures/";

struct StTensor_ {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// The golden fixtures, read with the project's safetensors reader.
bool read_st_(const std::string& path, std::map<std::string, StTensor_>* out) {
  return mc_test_util::read_safetensors_f32(path, out);
}

// Python reference, written out naively: per box sum, (2*s + n) // (2*n).
std::vector<uint8_t> reference_resize_(const std::vector<uint8_t>& px, int W, int H, int C, int S) {
  std::vector<uint8_t> out(size_t(S) * S * 3);
  for (int oy = 0; oy < S; ++oy)
    for (int ox = 0; ox < S; ++ox) {
      const int y0 = oy * H / S, y1 = ((oy + 1) * H + S - 1) / S;
      const int x0 = ox * W / S, x1 = ((ox + 1) * W + S - 1) / S;
      for (int c = 0; c < 3; ++c) {
        long s = 0, n = 0;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x, ++n) s += px[(size_t(y) * W + x) * C + c];
        out[(size_t(oy) * S + ox) * 3 + c] = uint8_t((2 * s + n) / (2 * n));
      }
    }
  return out;
}

}  // namespace

TEST_CASE("preprocess: area resize by hand", "[preprocess]") {
  std::string err;
  // 2x2 -> 1x1: mean of 4, half rounds up
  const uint8_t px[2 * 2 * 3] = {0, 10, 255, 1, 10, 255, 0, 11, 255, 0, 10, 254};
  uint8_t o[3];
  REQUIRE(mc::area_resize_u8(px, 2, 2, 3, 1, o, mc::ImageLimits{}, &err));
  CHECK(o[0] == 0);    // 1/4 = 0.25 -> 0
  CHECK(o[1] == 10);   // 41/4 = 10.25 -> 10
  CHECK(o[2] == 255);  // 1019/4 = 254.75 -> 255
  const uint8_t half[2 * 1 * 3] = {1, 2, 3, 2, 2, 4};
  REQUIRE(mc::area_resize_u8(half, 2, 1, 3, 1, o, mc::ImageLimits{}, &err));
  CHECK(o[0] == 2);  // 1.5 rounds half up
  CHECK(o[2] == 4);  // 3.5 -> 4
  // 3 -> 2: boxes [0,2) and [1,3) overlap (the adaptive_avg_pool2d bins)
  const uint8_t row[3 * 1 * 3] = {0, 0, 0, 100, 100, 100, 201, 201, 201};
  uint8_t o2[2 * 2 * 3];
  REQUIRE(mc::area_resize_u8(row, 3, 1, 3, 2, o2, mc::ImageLimits{}, &err));
  CHECK(o2[0] == 50);
  CHECK(o2[3] == 151);  // 150.5 -> 151
  CHECK(o2[6] == 50);   // the single input row is used for both output rows
  // upsampling 1x1 -> 4x4 replicates
  const uint8_t one[4] = {7, 8, 9, 0};
  uint8_t o3[4 * 4 * 3];
  REQUIRE(mc::area_resize_u8(one, 1, 1, 4, 4, o3, mc::ImageLimits{}, &err));
  for (int i = 0; i < 16; ++i) CHECK((o3[3 * i] == 7 && o3[3 * i + 1] == 8 && o3[3 * i + 2] == 9));
}

TEST_CASE("preprocess: matches the naive reference on odd sizes, RGB and RGBA", "[preprocess]") {
  std::string err;
  uint32_t seed = 12345;
  for (int W : {1, 3, 17, 64, 100, 129}) {
    for (int H : {1, 5, 63, 64, 65, 201}) {
      for (int C : {3, 4}) {
        std::vector<uint8_t> px(size_t(W) * H * C);
        for (auto& v : px) v = uint8_t((seed = seed * 1664525u + 1013904223u) >> 24);
        for (int S : {1, 8, 64}) {
          std::vector<uint8_t> got(size_t(S) * S * 3);
          REQUIRE(mc::area_resize_u8(px.data(), W, H, C, S, got.data(), mc::ImageLimits{}, &err));
          REQUIRE(got == reference_resize_(px, W, H, C, S));
        }
      }
    }
  }
}

TEST_CASE("preprocess: normalization is PyTorch's float32 arithmetic", "[preprocess]") {
  const float mean[3] = {0.5f, 0.418f, 0.123456f}, stdev[3] = {0.25f, 0.3f, 0.2718f};
  float lut[3 * 256];
  mc::make_norm_lut(mean, stdev, lut);
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) {
      volatile float x = float(v) / 255.0f;  // the division, not a reciprocal multiply
      volatile float y = (x - mean[c]) / stdev[c];
      REQUIRE(lut[c * 256 + v] == y);
    }
}

TEST_CASE("preprocess: limits and bad arguments give clear errors", "[preprocess]") {
  std::string err;
  std::vector<uint8_t> px(16 * 16 * 4, 1);
  std::vector<uint8_t> out(8 * 8 * 3);
  mc::ImageLimits lim;
  CHECK_FALSE(mc::area_resize_u8(px.data(), 0, 16, 3, 8, out.data(), lim, &err));
  CHECK(err.find("empty image") != std::string::npos);
  CHECK_FALSE(mc::area_resize_u8(px.data(), 16, -3, 3, 8, out.data(), lim, &err));
  CHECK_FALSE(mc::area_resize_u8(px.data(), 16, 16, 2, 8, out.data(), lim, &err));
  CHECK(err.find("channel") != std::string::npos);
  CHECK_FALSE(mc::area_resize_u8(nullptr, 16, 16, 3, 8, out.data(), lim, &err));
  CHECK_FALSE(mc::check_image_size(30000, 30000, 4, lim, &err));
  CHECK(err.find("too large") != std::string::npos);
  CHECK_FALSE(mc::check_image_size(8000, 8000, 4, lim, &err));  // 64 Mpx > 40 Mpx
  CHECK(err.find("pixels") != std::string::npos);
  CHECK(mc::check_image_size(8000, 5000, 4, lim, &err));
  CHECK_FALSE(mc::check_image_size(2147483647, 2147483647, 4, lim, &err));

  mc::Preprocessor pp;
  const float mean[3] = {0.5f, 0.5f, 0.5f}, bad[3] = {0.25f, 0.0f, 0.25f};
  CHECK_FALSE(pp.init(64, mean, bad, lim, &err));
  CHECK_FALSE(pp.init(0, mean, mean, lim, &err));
  std::vector<float> x(64 * 64 * 3);
  CHECK_FALSE(pp.run(px.data(), 16, 16, 4, x.data(), &err));  // not initialised
  REQUIRE(pp.init(64, mean, mean, lim, &err));
  CHECK(pp.run(px.data(), 16, 16, 4, x.data(), &err));
  CHECK(x[0] == (1.0f / 255.0f - 0.5f) / 0.5f);
}

TEST_CASE("preprocess: golden cells match model/common.py (uint8 and normalized)", "[preprocess]") {
  std::map<std::string, StTensor_> g;
  REQUIRE(read_st_(kFix_ + "golden.safetensors", &g));
  std::ifstream gj(kFix_ + "golden.json");
  REQUIRE(gj);
  const nlohmann::json golden = nlohmann::json::parse(gj);
  const int S = golden["size"];
  const auto files = golden["files"].get<std::vector<std::string>>();
  const StTensor_& u8 = g.at("input_u8");
  REQUIRE(u8.shape == std::vector<int64_t>{int64_t(files.size()), S, S, 3});

  nlohmann::json meta;
  std::string weights, why;
  const bool found = mc_test_util::shipped_golden_model(&weights, &meta, &why);
  INFO(why);
  REQUIRE(found);
  mc::Preprocessor pp;
  std::string err;
  float mean[3], stdev[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = meta["input"]["mean"][c].get<float>();
    stdev[c] = meta["input"]["std"][c].get<float>();
  }
  REQUIRE(pp.init(S, mean, stdev, mc::ImageLimits{}, &err));
  const StTensor_& in = g.at("input");  // NCHW
  const size_t SS = size_t(S) * S;
  std::vector<uint8_t> got(SS * 3);
  std::vector<float> x(SS * 3);
  for (size_t i = 0; i < files.size(); ++i) {
    INFO(files[i]);
    mc::Image img;
    REQUIRE(mc::load_image_file(kFix_ + files[i], mc::ImageLimits{}, &img, &err));
    REQUIRE(mc::area_resize_u8(img.pixels.data(), img.width, img.height, 3, S, got.data(),
                               mc::ImageLimits{}, &err));
    size_t mismatches = 0;
    for (size_t k = 0; k < SS * 3; ++k) mismatches += float(got[k]) != u8.data[i * SS * 3 + k];
    CHECK(mismatches == 0);
    REQUIRE(pp.run(img.pixels.data(), img.width, img.height, 3, x.data(), &err));
    size_t bad = 0;
    for (size_t p = 0; p < SS; ++p)
      for (int c = 0; c < 3; ++c) bad += x[p * 3 + c] != in.data[(i * 3 + c) * SS + p];
    CHECK(bad == 0);  // bit-exact
  }
}
