// The occlusion heat map (wasm/src/explain.h): explain() against a reference computed here one
// occluded image at a time with Engine::classify (the method as model/heatmap_eval.py states it,
// every patch position classified, also those that touch no cell pixel), the map's shape, its
// peak, bad inputs, the C API and the CLI's --cam output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "explain.h"
#include "image.h"
#include "malaria.h"
#include "preprocess.h"

namespace mc_test {  // tests/native/test_engine.cpp
std::vector<uint8_t> synthetic_blob(int S, const std::string& dtype, uint32_t seed);
}

namespace {

namespace fs = std::filesystem;

const std::string kRoot_ = MC_REPO_ROOT;
const std::string kCell_ =
    kRoot_ + "/tests/fixtures/cells/Parasitized_C111P72ThinF_IMG_20150930_112609_cell_170.png";

std::unique_ptr<mc::Engine> shipped_(std::string* why) {
  std::vector<uint8_t> blob;
  if (!mc::read_file_bytes(kRoot_ + "/model/malaria_resnet18.mcb", size_t(1) << 31, &blob, why))
    return nullptr;
  return mc::Engine::create(blob.data(), blob.size(), why);
}

struct Ref_ {
  std::vector<float> map;
  float z1 = 0;
  int touching = 0;
};

// The map as explain.h states it, one image at a time, every position classified.
Ref_ reference_(mc::Engine* e, const mc::Image& img, int k, int s) {
  const int S = e->input_size();
  std::vector<uint8_t> x(size_t(S) * S * 3);
  std::string err;
  REQUIRE(mc::area_resize_u8(img.pixels.data(), img.width, img.height, 3, S, x.data(),
                             mc::ImageLimits{}, &err));
  std::vector<bool> cell(size_t(S) * S);
  long sum[3] = {0, 0, 0}, n = 0;
  for (int i = 0; i < S * S; ++i) {
    cell[i] = std::max({x[3 * i], x[3 * i + 1], x[3 * i + 2]}) > 24;
    if (cell[i]) {
      for (int c = 0; c < 3; ++c) sum[c] += x[3 * i + c];
      ++n;
    }
  }
  REQUIRE(n > 0);
  uint8_t fill[3];
  for (int c = 0; c < 3; ++c) fill[c] = uint8_t((2 * sum[c] + n) / (2 * n));
  std::vector<int> pos;
  for (int v = 0; v <= S - k; v += s) pos.push_back(v);
  if (pos.back() != S - k) pos.push_back(S - k);
  Ref_ r;
  mc::Prediction p0;
  REQUIRE(e->classify(x.data(), S, S, 3, &p0, &err));
  r.z1 = p0.logits[1];
  std::vector<double> acc(size_t(S) * S, 0);
  std::vector<int> cnt(size_t(S) * S, 0);
  for (int py : pos)
    for (int px : pos) {
      std::vector<uint8_t> o = x;
      bool touches = false;
      for (int y = py; y < py + k; ++y)
        for (int xx = px; xx < px + k; ++xx)
          if (cell[y * S + xx]) {
            touches = true;
            std::copy(fill, fill + 3, &o[3 * (y * S + xx)]);
          }
      r.touching += touches;
      mc::Prediction p;
      REQUIRE(e->classify(o.data(), S, S, 3, &p, &err));
      const double d = double(r.z1) - double(p.logits[1]);
      if (!touches) CHECK(d == 0.0);  // nothing changed: explain() skips these
      for (int y = py; y < py + k; ++y)
        for (int xx = px; xx < px + k; ++xx) {
          acc[y * S + xx] += float(d);
          ++cnt[y * S + xx];
        }
    }
  r.map.resize(size_t(S) * S);
  for (int i = 0; i < S * S; ++i) r.map[i] = float(acc[i] / cnt[i]);
  return r;
}

}  // namespace

TEST_CASE("explain: the shipped int8 model's map equals one computed image by image", "[explain]") {
  std::string err;
  auto e = shipped_(&err);
  if (!e) {
    WARN("no shipped model (" << err << "); skipped");
    return;
  }
  mc::Image img;
  REQUIRE(mc::load_image_file(kCell_, mc::ImageLimits{}, &img, &err));
  const int S = e->input_size();
  mc::Explanation x;
  REQUIRE(mc::explain(e.get(), img.pixels.data(), img.width, img.height, 3, &x, &err));
  REQUIRE(x.size == S);
  REQUIRE(x.map.size() == size_t(S) * S);
  CHECK(x.patch == 6);
  CHECK(x.stride == 4);
  const Ref_ ref = reference_(e.get(), img, x.patch, x.stride);
  CHECK(x.passes == 1 + ref.touching);
  CHECK(x.passes <= 1 + 16 * 16);
  CHECK(x.base.logits[1] == ref.z1);
  mc::Prediction alone;
  REQUIRE(e->classify(img.pixels.data(), img.width, img.height, 3, &alone, &err));
  CHECK(x.base.logits[0] == alone.logits[0]);
  CHECK(x.base.p_parasitized == alone.p_parasitized);
  // batches of 8 give what one image at a time gives, bit for bit: the maps agree to rounding
  double worst = 0, top = 0;
  for (int i = 0; i < S * S; ++i) {
    worst = std::max(worst, double(std::fabs(x.map[i] - ref.map[i])));
    top = std::max(top, double(std::fabs(ref.map[i])));
  }
  CHECK(worst <= 1e-5 * std::max(1.0, top));
  CHECK(top > 0);  // occluding this parasitized cell changes its logit somewhere

  // shape: constant between patch edges (the same patches cover those pixels), and the peak
  // at the largest value over the cell
  std::vector<int> cut(S + 1, 0);  // cut[v]: a patch starts or ends at v
  for (int v = 0; v <= S - x.patch; v += x.stride) cut[v] = cut[v + x.patch] = 1;
  cut[S - x.patch] = cut[S] = 1;
  int blocks = 0;
  for (int y = 0; y < S; ++y)
    for (int xx = 0; xx < S; ++xx) {
      const int by = cut[y] ? y : -1, bx = cut[xx] ? xx : -1;
      blocks += by >= 0 && bx >= 0;
      if (y > 0 && !cut[y] && x.map[y * S + xx] != x.map[(y - 1) * S + xx])
        FAIL("map changes inside a block at " << xx << "," << y);
      if (xx > 0 && !cut[xx] && x.map[y * S + xx] != x.map[y * S + xx - 1])
        FAIL("map changes inside a block at " << xx << "," << y);
    }
  CHECK(blocks > 100);
  std::vector<uint8_t> rs(size_t(S) * S * 3);
  REQUIRE(mc::area_resize_u8(img.pixels.data(), img.width, img.height, 3, S, rs.data(),
                             mc::ImageLimits{}, &err));
  float best = -1e30f;
  for (int i = 0; i < S * S; ++i)
    if (std::max({rs[3 * i], rs[3 * i + 1], rs[3 * i + 2]}) > mc::kExplainCellLevel)
      best = std::max(best, x.map[i]);
  const int pxi = int(x.peak_x), pyi = int(x.peak_y);
  REQUIRE(pxi >= 0);
  REQUIRE(pyi >= 0);
  REQUIRE(pxi < S);
  REQUIRE(pyi < S);
  CHECK(x.map[pyi * S + pxi] == best);
  // the peak of a map with one tied 4x4 block is that block's centre
  std::vector<float> m(size_t(S) * S, 0.f);
  for (int y = 8; y < 12; ++y)
    for (int xx = 20; xx < 24; ++xx) m[y * S + xx] = 1.f;
  std::vector<uint8_t> white(size_t(S) * S * 3, 200);
  float qx, qy;
  mc::explain_peak(m.data(), white.data(), S, &qx, &qy);
  CHECK(qx == Approx(22.0));
  CHECK(qy == Approx(10.0));
  // ... and over the cell only: a higher value on black does not count
  std::vector<uint8_t> rgb = white;
  m[0] = 5.f;
  std::fill(rgb.begin(), rgb.begin() + 3, 0);
  mc::explain_peak(m.data(), rgb.data(), S, &qx, &qy);
  CHECK(qx == Approx(22.0));
  WARN("explain: " << x.passes << " passes, peak (" << x.peak_x << ", " << x.peak_y
                   << "), largest drop " << top);
}

TEST_CASE("explain: an f32 engine (one image a pass) and other patch sizes", "[explain]") {
  const std::vector<uint8_t> blob = mc_test::synthetic_blob(32, "f32", 11);
  std::string err;
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  REQUIRE(e);
  REQUIRE(e->batch_capacity() == 1);
  // a disc on black, 40 x 30 px, with a dark spot
  mc::Image img;
  img.width = 40;
  img.height = 30;
  img.pixels.assign(size_t(40) * 30 * 3, 0);
  for (int y = 0; y < 30; ++y)
    for (int xx = 0; xx < 40; ++xx) {
      const double dx = (xx - 20) / 18.0, dy = (y - 15) / 13.0;
      if (dx * dx + dy * dy > 1) continue;
      uint8_t* p = &img.pixels[3 * (y * 40 + xx)];
      const bool spot = std::abs(xx - 26) < 3 && std::abs(y - 12) < 3;
      p[0] = spot ? 110 : 215;
      p[1] = spot ? 30 : 150;
      p[2] = spot ? 140 : 165;
    }
  for (const auto& opt :
       {mc::ExplainOptions{8, 4}, mc::ExplainOptions{6, 4}, mc::ExplainOptions{12, 5}}) {
    mc::Explanation x;
    REQUIRE(mc::explain(e.get(), img.pixels.data(), img.width, img.height, 3, &x, &err, opt));
    const Ref_ ref = reference_(e.get(), img, opt.patch, opt.stride);
    CHECK(x.passes == 1 + ref.touching);
    double worst = 0, top = 0;
    for (size_t i = 0; i < x.map.size(); ++i) {
      worst = std::max(worst, double(std::fabs(x.map[i] - ref.map[i])));
      top = std::max(top, double(std::fabs(ref.map[i])));
    }
    CHECK(worst <= 1e-5 * std::max(1.0, top));
  }
}

TEST_CASE("explain: bad inputs give messages", "[explain]") {
  const std::vector<uint8_t> blob = mc_test::synthetic_blob(32, "f32", 12);
  std::string err;
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  REQUIRE(e);
  mc::Explanation x;
  std::vector<uint8_t> black(size_t(50) * 50 * 4, 0);
  CHECK_FALSE(mc::explain(e.get(), black.data(), 50, 50, 4, &x, &err));
  CHECK(err.find("no cell") != std::string::npos);
  std::vector<uint8_t> pink(size_t(50) * 50 * 4, 200);
  CHECK_FALSE(mc::explain(e.get(), pink.data(), 0, 50, 4, &x, &err));
  CHECK_FALSE(err.empty());
  CHECK_FALSE(mc::explain(e.get(), pink.data(), 50, 50, 4, &x, &err, mc::ExplainOptions{0, 4}));
  CHECK_FALSE(mc::explain(e.get(), pink.data(), 50, 50, 4, &x, &err, mc::ExplainOptions{8, 9}));
  CHECK_FALSE(mc::explain(e.get(), pink.data(), 50, 50, 4, &x, &err, mc::ExplainOptions{33, 4}));
  CHECK_FALSE(mc::explain(nullptr, pink.data(), 50, 50, 4, &x, &err));
  REQUIRE(mc::explain(e.get(), pink.data(), 50, 50, 4, &x, &err));  // RGBA works
  CHECK(x.passes == 1 + 8 * 8);  // S = 32: positions 0, 4, ..., 24 and 26
}

TEST_CASE("explain: the C API gives explain()'s map, result and peak", "[explain]") {
  const std::vector<uint8_t> blob = mc_test::synthetic_blob(32, "f32", 13);
  char err[256];
  mc_engine_params params = {};
  params.blob = blob.data();
  params.blob_len = blob.size();
  mc_engine* h = mc_engine_create(&params, err, sizeof err);
  REQUIRE(h);
  std::vector<uint8_t> rgba(size_t(36) * 36 * 4, 0);
  for (int y = 4; y < 32; ++y)
    for (int xx = 4; xx < 32; ++xx) {
      uint8_t* p = &rgba[4 * (y * 36 + xx)];
      p[0] = 210;
      p[1] = uint8_t(120 + xx);
      p[2] = 160;
      p[3] = 255;
    }
  std::vector<float> map(32 * 32);
  mc_result r;
  float peak[2];
  const int32_t passes =
      mc_explain(h, rgba.data(), 36, 36, 4, map.data(), &r, peak, err, sizeof err);
  CHECK(passes > 1);
  std::string e2;
  auto e = mc::Engine::create(blob.data(), blob.size(), &e2);
  mc::Explanation x;
  REQUIRE(mc::explain(e.get(), rgba.data(), 36, 36, 4, &x, &e2));
  CHECK(passes == x.passes);
  CHECK(map == x.map);
  CHECK(r.p_parasitized == x.base.p_parasitized);
  CHECK(peak[0] == x.peak_x);
  CHECK(peak[1] == x.peak_y);
  CHECK(mc_explain(h, rgba.data(), 36, 36, 4, nullptr, &r, peak, err, sizeof err) == -1);
  std::vector<uint8_t> black(size_t(8) * 8 * 4, 0);
  CHECK(mc_explain(h, black.data(), 8, 8, 4, map.data(), nullptr, nullptr, err, sizeof err) == -1);
  CHECK(std::string(err).find("no cell") != std::string::npos);
  mc_engine_destroy(h);
}

TEST_CASE("explain: the CLI's --cam writes the overlay and the map that explain() computes",
          "[explain][cli]") {
  const std::string cli = std::string(MC_BUILD_DIR) + "/wasm/malaria-classify";
  const std::string model = kRoot_ + "/model/malaria_resnet18.mcb";
  if (!fs::exists(cli) || !fs::exists(model)) {
    WARN("no CLI at " << cli << " or no shipped model; skipped");
    return;
  }
  const fs::path dir = fs::temp_directory_path() / ("mc_explain_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string cmd =
      "'" + cli + "' --cam '" + dir.string() + "' '" + kCell_ + "' > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string stem = fs::path(kCell_).stem().string();
  mc::Image overlay, img;
  std::string err;
  REQUIRE(
      mc::load_image_file((dir / (stem + ".cam.png")).string(), mc::ImageLimits{}, &overlay, &err));
  REQUIRE(mc::load_image_file(kCell_, mc::ImageLimits{}, &img, &err));
  CHECK(overlay.width == img.width);
  CHECK(overlay.height == img.height);
  std::ifstream jf(dir / (stem + ".cam.json"));
  REQUIRE(jf);
  const nlohmann::json j = nlohmann::json::parse(jf);
  std::vector<uint8_t> blob;
  REQUIRE(mc::read_file_bytes(model, size_t(1) << 31, &blob, &err));
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  REQUIRE(e);
  mc::Explanation x;
  REQUIRE(mc::explain(e.get(), img.pixels.data(), img.width, img.height, 3, &x, &err));
  CHECK(j["size"].get<int>() == x.size);
  CHECK(j["patch"].get<int>() == x.patch);
  CHECK(j["stride"].get<int>() == x.stride);
  CHECK(j["passes"].get<int>() == x.passes);
  REQUIRE(j["map"].size() == x.map.size());
  double worst = 0;
  for (size_t i = 0; i < x.map.size(); ++i)
    worst = std::max(worst, std::fabs(j["map"][i].get<double>() - x.map[i]));
  CHECK(worst <= 1e-5);
  CHECK(j["peak"][0].get<double>() == Approx(x.peak_x * img.width / x.size).margin(0.01));
  CHECK(j["peak"][1].get<double>() == Approx(x.peak_y * img.height / x.size).margin(0.01));
  fs::remove_all(dir);
}
