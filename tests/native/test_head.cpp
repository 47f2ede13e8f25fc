// Format version 2 heads (docs/FORMAT.md 2, "head"): fast.ai's head (concat pool, fc1 -> ReLU ->
// fc2) and N labels with a chosen positive class; the reader's refusals of off-spec heads, the
// engine's N-class outputs. End-to-end parity with PyTorch: tests/python/test_byom.py. [blob]
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "blob.h"
#include "engine.h"
#include "ops/ops.h"
#include "resnet18.h"

using nlohmann::json;
namespace bl = mc::blob;

namespace {

json head_header_(const json& head, const json& labels) {
  return json{{"architecture", "resnet18"},
              {"labels", labels},
              {"head", head},
              {"input",
               {{"size", 32},
                {"resize_filter", "area-int"},
                {"mean", {0.5, 0.5, 0.5}},
                {"std", {0.25, 0.25, 0.25}},
                {"channel_order", "RGB"}}},
              {"calibration", {{"temperature", 1.5}, {"band", {0.2, 0.8}}}},
              {"provenance", json::object()},
              {"metrics", json::object()},
              {"weights", {{"dtype", "f32"}, {"packed_layout", mc::conv_packed_layout_name()}}}};
}

// Every conv (small deterministic weights), then the head's tensors: {name, shape} with values
// from a fixed formula.
std::vector<uint8_t> head_blob_(const json& header,
                                const std::vector<std::pair<std::string, std::vector<int64_t>>>& fc,
                                std::string* err) {
  std::vector<bl::TensorIn> ts;
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
    mc::ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0};
    std::vector<float> w(size_t(c.out_c) * c.k * c.k * c.in_c), b(size_t(c.out_c));
    for (size_t i = 0; i < w.size(); ++i) w[i] = float((i * 2654435761u) % 1000) / 1000.0f - 0.45f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = 0.01f * float(i % 7);
    for (float& x : w) x *= 1.5f / std::sqrt(float(c.k * c.k * c.in_c));
    std::vector<float> packed(mc::conv_packed_f32_size(s));
    mc::conv_pack_f32(s, w.data(), b.data(), packed.data());
    ts.push_back(bl::tensor_f32(c.name, {int64_t(packed.size())}, packed,
                                {{"layout", "packed"},
                                 {"logical_shape", {c.out_c, c.k, c.k, c.in_c}},
                                 {"stride", c.stride},
                                 {"pad", c.pad}}));
  }
  for (const auto& t : fc) {
    size_t n = 1;
    for (int64_t d : t.second) n *= size_t(d);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = float(int((i * 7919u) % 201) - 100) / 400.0f;
    ts.push_back(bl::tensor_f32(t.first, t.second, v, {{"layout", "row-major"}}));
  }
  return bl::write(header, ts, err);
}

const json kMlpHead = {
    {"kind", "mlp"}, {"pooling", "concat-max-avg"}, {"sizes", {1024, 16, 3}}, {"positive", 1}};
const std::vector<std::pair<std::string, std::vector<int64_t>>> kMlpTensors = {
    {"head.fc1.weight", {16, 1024}},
    {"head.fc1.bias", {16}},
    {"head.fc2.weight", {3, 16}},
    {"head.fc2.bias", {3}}};
const json kLabels3 = {"Gametocyte", "Parasitized", "Uninfected"};

// The same header and data under another format version.
std::vector<uint8_t> with_version_(const std::vector<uint8_t>& f, uint32_t version) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(f[16 + size_t(i)]) << (8 * i);
  const std::string text(f.begin() + 64, f.begin() + 64 + long(n));
  const size_t start = 64 + size_t((n + 63) & ~uint64_t(63));
  return bl::assemble(text, std::vector<uint8_t>(f.begin() + long(start), f.end()), version);
}

std::string parse_err_(const std::vector<uint8_t>& f) {
  bl::Blob b;
  std::string err;
  return bl::Blob::parse(f.data(), f.size(), &b, &err) ? std::string("OK") : err;
}

std::string head_err_(const std::function<void(json&)>& edit,
                      std::vector<std::pair<std::string, std::vector<int64_t>>> fc = kMlpTensors) {
  json h = head_header_(kMlpHead, kLabels3);
  edit(h);
  std::string err;
  std::vector<uint8_t> f = head_blob_(h, fc, &err);
  REQUIRE(!f.empty());
  return parse_err_(f);
}

}  // namespace

TEST_CASE("a version 2 blob with fast.ai's head parses and runs", "[blob]") {
  std::string err;
  std::vector<uint8_t> f = head_blob_(head_header_(kMlpHead, kLabels3), kMlpTensors, &err);
  REQUIRE(!f.empty());
  CHECK(f[8] == 2);  // the writer picks version 2 for a header with "head"
  bl::Blob b;
  REQUIRE(bl::Blob::parse(f.data(), f.size(), &b, &err));
  CHECK(b.version() == 2);
  CHECK(b.head().mlp);
  CHECK(b.head().concat_pool);
  CHECK(b.head().features == 1024);
  CHECK(b.head().hidden == 16);
  CHECK(b.head().classes == 3);
  CHECK(b.head().positive == 1);

  std::unique_ptr<mc::Engine> e = mc::Engine::create(f.data(), f.size(), &err);
  INFO(err);
  REQUIRE(e);
  CHECK(e->num_classes() == 3);
  CHECK(e->positive_class() == 1);
  CHECK(e->labels()[1] == "Parasitized");
  std::vector<uint8_t> px(40 * 36 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 37 + i / 97) % 256);
  mc::Prediction p;
  REQUIRE(e->classify(px.data(), 40, 36, 3, &p, &err));
  const float* z = e->class_logits(0);
  REQUIRE(z);
  CHECK(e->class_logits(1) == nullptr);  // one image classified (batch 1)
  CHECK(e->cam() == nullptr);            // no CAM for an mlp head
  CHECK(e->cam_grid() == nullptr);
  CHECK(p.logits[1] == z[1]);
  CHECK(p.logits[0] == std::max(z[0], z[2]));
  // the label follows p (over all N classes), as the band does: never "Parasitized" in the
  // uninfected band (with 3+ classes the positive class can win with p under 0.5)
  CHECK(p.label == (p.p_parasitized > 0.5f ? 1 : 0));
  const double m = std::max({double(z[0]), double(z[1]), double(z[2])});
  double s = 0;
  for (int j = 0; j < 3; ++j) s += std::exp((z[j] - m) / 1.5);
  CHECK(p.p_parasitized == Approx(std::exp((z[1] - m) / 1.5) / s).epsilon(1e-6));
  CHECK(std::fabs(z[0] - z[1]) + std::fabs(z[1] - z[2]) > 1e-6);  // not a degenerate head
}

TEST_CASE("calibrated_p_n over 2 classes equals calibrated_p", "[blob]") {
  for (float a : {-30.0f, -1.0f, 0.0f, 0.5f, 12.0f})
    for (float b : {-3.0f, 0.0f, 2.0f, 40.0f}) {
      const float z[2] = {a, b};
      CHECK(mc::calibrated_p_n(z, 2, 1, 1.3f) == Approx(mc::calibrated_p(z, 1.3f)).epsilon(1e-6));
    }
}

TEST_CASE("a linear head with N classes keeps a CAM; an avg-pool mlp head has none", "[blob]") {
  std::string err;
  json h =
      head_header_({{"kind", "linear"}, {"pooling", "avg"}, {"sizes", {512, 3}}, {"positive", 2}},
                   {"a", "b", "Parasitized"});
  std::vector<uint8_t> f = head_blob_(h, {{"fc.weight", {3, 512}}, {"fc.bias", {3}}}, &err);
  std::unique_ptr<mc::Engine> e = mc::Engine::create(f.data(), f.size(), &err);
  INFO(err);
  REQUIRE(e);
  std::vector<uint8_t> px(32 * 32 * 3, 128);
  mc::Prediction p;
  REQUIRE(e->classify(px.data(), 32, 32, 3, &p, &err));
  CHECK(e->cam() != nullptr);
  CHECK(p.logits[1] == e->class_logits(0)[2]);
}

TEST_CASE("off-spec heads are refused, each with the message FORMAT.md lists", "[blob]") {
  using P = std::vector<std::pair<std::string, std::vector<int64_t>>>;
  CHECK(head_err_([](json&) {}) == "OK");
  {  // a version 2 file without a head (the writer would make it version 1)
    json h = head_header_(kMlpHead, kLabels3);
    h.erase("head");
    std::string err;
    CHECK(parse_err_(with_version_(head_blob_(h, kMlpTensors, &err), 2)) ==
          "header field 'head' is missing or is not an object");
  }
  CHECK(head_err_([](json& h) { h["head"]["kind"] = "transformer"; }) ==
        "header field 'head.kind' is invalid: expected \"linear\" or \"mlp\", got \"transformer\"");
  CHECK(head_err_([](json& h) { h["head"].erase("pooling"); }) ==
        "header field 'head.pooling' is missing or is not a string");
  CHECK(head_err_([](json& h) { h["head"]["pooling"] = "max"; }) ==
        "header field 'head.pooling' is invalid: expected \"avg\" or \"concat-max-avg\", got "
        "\"max\"");
  CHECK(head_err_([](json& h) {
          h["head"]["sizes"] = {1024, 3};
        }) == "header field 'head.sizes' is invalid: expected [F, H, N] for an mlp head");
  CHECK(head_err_([](json& h) {
          h["head"]["sizes"] = {1024, 0, 3};
        }) == "header field 'head.sizes' is invalid: every size must be an integer in [1, 4096]");
  CHECK(head_err_([](json& h) {
          h["head"]["sizes"] = {512, 16, 3};
        }) ==
        "header field 'head.sizes' is invalid: F must be 1024 with pooling \"concat-max-avg\", got "
        "512");
  CHECK(head_err_([](json& h) {
          h["head"]["sizes"] = {1024, 16, 2};
        }) == "header field 'head.sizes' is invalid: N = 2 does not match the 3 labels");
  CHECK(head_err_([](json& h) { h["head"]["positive"] = 3; }) ==
        "header field 'head.positive' is invalid: must index the labels (0 to 2), got 3");
  CHECK(head_err_([](json& h) { h["head"]["positive"] = "Parasitized"; }) ==
        "header field 'head.positive' is missing or is not an integer");
  CHECK(head_err_([](json& h) { h["labels"] = {"a"}; }) ==
        "header field 'labels' is invalid: expected 2 to 64 labels, got 1");
  CHECK(head_err_([](json& h) {
          h["labels"] = {"a", "b", "a"};
        }) == "header field 'labels' is invalid: duplicate label \"a\"");
  // the tensors must be the head's
  CHECK(head_err_([](json&) {}, P{{"head.fc1.weight", {16, 1024}},
                                  {"head.fc1.bias", {16}},
                                  {"head.fc2.weight", {3, 16}}}) ==
        "missing tensor 'head.fc2.bias' required by resnet18");
  CHECK(head_err_([](json&) {}, P{{"head.fc1.weight", {16, 512}},
                                  {"head.fc1.bias", {16}},
                                  {"head.fc2.weight", {3, 16}},
                                  {"head.fc2.bias", {3}}}) ==
        "tensor 'head.fc1.weight': shape does not match resnet18 (expected [16, 1024], got [16, "
        "512])");
  CHECK(head_err_([](json&) {}, P{{"head.fc1.weight", {16, 1024}},
                                  {"head.fc1.bias", {16}},
                                  {"head.fc2.weight", {3, 16}},
                                  {"head.fc2.bias", {3}},
                                  {"fc.weight", {3, 512}}}) ==
        "unexpected tensor 'fc.weight' (not part of resnet18)");
}

TEST_CASE("a version 1 blob may not carry a head", "[blob]") {
  json h = head_header_(kMlpHead, {"Uninfected", "Parasitized"});
  std::string err;
  std::vector<uint8_t> f = head_blob_(h, {}, &err);
  REQUIRE(!f.empty());
  CHECK(parse_err_(with_version_(f, 1)) ==
        "header field 'head' is invalid: needs format version 2 (this file is version 1)");
}
