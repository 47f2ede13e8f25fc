// Model blob reader/writer (docs/FORMAT.md), SHA-256, f16 and the safetensors reader. [blob]
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "blob.h"
#include "image.h"
#include "ops/ops.h"
#include "resnet18.h"
#include "safetensors.h"
#include "sha256.h"

using nlohmann::json;
namespace bl = mc::blob;

namespace {

const bl::ParseOptions kContainerOnly{false, false};  // no resnet18 tensor set, any layout

json base_header_() {
  return json{{"architecture", "resnet18"},
              {"labels", {"Uninfected", "Parasitized"}},
              {"input",
               {{"size", 64},
                {"resize_filter", "area-int"},
                {"mean", {0.5, 0.5, 0.5}},
                {"std", {0.25, 0.25, 0.25}},
                {"channel_order", "RGB"}}},
              {"calibration", {{"temperature", 1.5}, {"band", {0.2, 0.8}}}},
              {"provenance", json::object()},
              {"metrics", json::object()},
              {"weights", {{"dtype", "f32"}, {"packed_layout", "test-layout"}}}};
}

// A small valid container: "a" f32 [3] at 0 (12 bytes), "b" f32 [2, 2] at 64 (16 bytes).
json small_header_() {
  json h = base_header_();
  h["tensors"] = json::array({
      {{"name", "a"}, {"dtype", "f32"}, {"shape", {3}}, {"offset", 0}, {"size", 12}},
      {{"name", "b"}, {"dtype", "f32"}, {"shape", {2, 2}}, {"offset", 64}, {"size", 16}},
  });
  return h;
}

std::vector<uint8_t> small_data_() {
  std::vector<uint8_t> d(128, 0);
  for (int i = 0; i < 12; ++i) d[size_t(i)] = uint8_t(i + 1);
  for (int i = 0; i < 16; ++i) d[size_t(64 + i)] = uint8_t(0x40 + i);
  return d;
}

std::vector<uint8_t> small_blob_() { return bl::assemble(small_header_().dump(), small_data_()); }

std::string parse_err_(const std::vector<uint8_t>& f,
                       const bl::ParseOptions& opt = kContainerOnly) {
  bl::Blob b;
  std::string err;
  bool ok = bl::Blob::parse(f.data(), f.size(), &b, &err, opt);
  return ok ? std::string("OK") : err;
}

std::vector<uint8_t> bytes_(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

void put_u32_(std::vector<uint8_t>& f, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) f[at + size_t(i)] = uint8_t(v >> (8 * i));
}
void put_u64_(std::vector<uint8_t>& f, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) f[at + size_t(i)] = uint8_t(v >> (8 * i));
}

// A complete valid resnet18 blob (zero weights) in the layout of the kernels of this build.
const std::vector<uint8_t>& full_model_() {
  static std::vector<uint8_t> file;
  if (!file.empty()) return file;
  std::vector<bl::TensorIn> ts;
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {
    mc::ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0};
    size_t n = mc::conv_packed_f32_size(s);
    ts.push_back(bl::tensor_f32(c.name, {int64_t(n)}, std::vector<float>(n, 0.0f),
                                {{"layout", "packed"},
                                 {"logical_shape", {c.out_c, c.k, c.k, c.in_c}},
                                 {"stride", c.stride},
                                 {"pad", c.pad}}));
  }
  ts.push_back(bl::tensor_f32("fc.weight", {2, 512}, std::vector<float>(1024, 0.25f),
                              {{"layout", "row-major"}}));
  ts.push_back(bl::tensor_f32("fc.bias", {2}, {0.5f, -0.5f}, {{"layout", "row-major"}}));
  json h = base_header_();
  h["weights"]["packed_layout"] = mc::conv_packed_layout_name();
  std::string err;
  file = bl::write(h, ts, &err);
  INFO(err);
  REQUIRE(!file.empty());
  return file;
}

// Header + data of a parsed file, to rebuild it with changes.
json header_of_(const std::vector<uint8_t>& f) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(f[16 + size_t(i)]) << (8 * i);
  return json::parse(f.begin() + 64, f.begin() + 64 + long(n));
}
std::vector<uint8_t> data_of_(const std::vector<uint8_t>& f) {
  uint64_t n = 0, d = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(f[16 + size_t(i)]) << (8 * i);
  for (int i = 0; i < 8; ++i) d |= uint64_t(f[24 + size_t(i)]) << (8 * i);
  size_t start = 64 + size_t((n + 63) & ~uint64_t(63));
  return std::vector<uint8_t>(f.begin() + long(start), f.begin() + long(start + d));
}

// Minimal safetensors writer for the tests (F32 tensors in the given order).
std::vector<uint8_t> safetensors_(
    const std::vector<std::pair<std::string, std::vector<int64_t>>>& ts,
    const std::string& dtype = "F32", size_t esize = 4) {
  json h = json::object();
  uint64_t off = 0;
  for (auto& t : ts) {
    uint64_t n = 1;
    for (auto d : t.second) n *= uint64_t(d);
    h[t.first] = {{"dtype", dtype}, {"shape", t.second}, {"data_offsets", {off, off + n * esize}}};
    off += n * esize;
  }
  h["__metadata__"] = {{"format", "pt"}};
  std::string s = h.dump();
  while (s.size() % 8) s += ' ';
  std::vector<uint8_t> f(8 + s.size() + off, 0);
  for (int i = 0; i < 8; ++i) f[size_t(i)] = uint8_t(uint64_t(s.size()) >> (8 * i));
  std::memcpy(&f[8], s.data(), s.size());
  for (size_t i = 0; i < off; ++i) f[8 + s.size() + i] = uint8_t(i * 7);
  return f;
}

}  // namespace

TEST_CASE("sha256 matches FIPS 180-4 test vectors", "[blob]") {
  CHECK(mc::sha256_hex("", 0) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(mc::sha256_hex("abc", 3) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(mc::sha256_hex(two.data(), two.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  CHECK(mc::sha256_hex(million.data(), million.size()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // streaming in odd pieces gives the same digest
  mc::Sha256 h;
  for (size_t i = 0; i < million.size();) {
    size_t n = std::min<size_t>(1 + i % 131, million.size() - i);
    h.update(million.data() + i, n);
    i += n;
  }
  uint8_t d[32];
  h.final(d);
  CHECK(mc::to_hex(d, 32) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("f16 conversion: exact on all halves, round to nearest even", "[blob]") {
  for (uint32_t u = 0; u < 0x10000; ++u) {
    uint16_t h = uint16_t(u);
    bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
    float f = bl::f16_to_f32(h);
    if (nan) {
      REQUIRE(std::isnan(f));
      continue;
    }
    REQUIRE(bl::f32_to_f16(f) == h);
  }
  CHECK(bl::f16_to_f32(0x3C00) == 1.0f);
  CHECK(bl::f16_to_f32(0xC000) == -2.0f);
  CHECK(bl::f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(bl::f32_to_f16(65520.0f) == 0x7C00);                      // rounds to inf
  CHECK(bl::f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // tie -> even
  CHECK(bl::f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  CHECK(bl::f32_to_f16(std::ldexp(1.0f, -26)) == 0x0000);  // below half the min subnormal
  CHECK(bl::f32_to_f16(std::ldexp(1.5f, -25)) == 0x0001);
}

TEST_CASE("blob writer/reader round trip", "[blob]") {
  std::vector<bl::TensorIn> ts;
  ts.push_back(bl::tensor_f32("w", {2, 3}, {1, 2, 3, 4, 5, 6}, {{"layout", "row-major"}}));
  ts.push_back(bl::tensor_f16("h", {5}, {0.5f, -1, 2, 1e-3f, 65504}));
  ts.push_back(
      {"q",
       bl::DType::I8,
       {2, 2},
       {1, 0xFF, 3, 4},
       {{"quant", {{"scheme", "symmetric-per-channel"}, {"axis", 0}, {"scales", {0.5, 0.25}}}}}});
  json h = base_header_();
  h["zzz_extra"] = {{"kept", true}};
  std::string err;
  std::vector<uint8_t> f = bl::write(h, ts, &err);
  REQUIRE(!f.empty());
  CHECK(f.size() % 64 == 0);
  CHECK(std::memcmp(f.data(), bl::kMagic, 8) == 0);
  CHECK(bl::write(h, ts) == f);  // deterministic

  bl::Blob b;
  REQUIRE(bl::Blob::parse(f.data(), f.size(), &b, &err, kContainerOnly));
  REQUIRE(b.tensors().size() == 3);
  const bl::Tensor* w = b.find("w");
  REQUIRE(w);
  CHECK(w->dtype == bl::DType::F32);
  CHECK(w->shape == std::vector<int64_t>{2, 3});
  CHECK(w->elements == 6);
  CHECK(w->bytes == 24);
  CHECK(w->layout == "row-major");
  float v[6];
  std::memcpy(v, w->data, 24);
  CHECK(v[5] == 6.0f);
  CHECK(size_t(w->data - f.data()) % 64 == 0);
  const bl::Tensor* hh = b.find("h");
  REQUIRE(hh);
  CHECK(hh->offset == 64);
  CHECK(bl::f16_to_f32(uint16_t(hh->data[0] | hh->data[1] << 8)) == 0.5f);
  const bl::Tensor* q = b.find("q");
  REQUIRE(q);
  CHECK(q->quant.scheme == "symmetric-per-channel");
  CHECK(q->quant.scales == std::vector<float>{0.5f, 0.25f});
  CHECK(b.find("nope") == nullptr);
  CHECK(b.input().size == 64);
  CHECK(b.input().std[2] == 0.25f);
  CHECK(b.calibration().temperature == 1.5f);
  CHECK(b.calibration().band_lo == 0.2f);
  CHECK(b.calibration().band_hi == 0.8f);
  CHECK(b.labels() == std::vector<std::string>{"Uninfected", "Parasitized"});
  CHECK(b.weight_dtype() == "f32");
  CHECK(b.header()["zzz_extra"]["kept"] == true);
  CHECK(json::parse(b.header_text()) == b.header());
  // keys sorted, no whitespace
  CHECK(b.header_text().rfind("{\"architecture\":\"resnet18\",\"calibration\":", 0) == 0);
}

TEST_CASE("a complete resnet18 blob passes the model checks", "[blob]") {
  const std::vector<uint8_t>& f = full_model_();
  bl::Blob b;
  std::string err;
  INFO(err);
  REQUIRE(bl::Blob::parse(f.data(), f.size(), &b, &err));
  CHECK(b.tensors().size() == 22);
  for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) REQUIRE(b.find(c.name));
  CHECK(b.packed_layout() == mc::conv_packed_layout_name());
}

namespace {
struct Bad {
  const char* what;
  std::function<std::vector<uint8_t>()> make;
  std::string message;
  bool prefix = false;  // message is a prefix (parser details follow)
  bl::ParseOptions opt = kContainerOnly;
};

std::vector<uint8_t> with_header_(const std::function<void(json&)>& edit,
                                  std::vector<uint8_t> data = small_data_()) {
  json h = small_header_();
  edit(h);
  return bl::assemble(h.dump(), data);
}

std::vector<uint8_t> model_without_(const std::string& name) {
  const std::vector<uint8_t>& f = full_model_();
  json h = header_of_(f);
  std::vector<uint8_t> d = data_of_(f);
  json ts = json::array();
  std::vector<uint8_t> nd;
  for (auto& t : h["tensors"]) {
    if (t["name"] == name) continue;
    size_t off = t["offset"], size = t["size"];
    t["offset"] = nd.size();
    nd.insert(nd.end(), d.begin() + long(off), d.begin() + long(off + size));
    nd.resize((nd.size() + 63) & ~size_t(63), 0);
    ts.push_back(t);
  }
  h["tensors"] = ts;
  return bl::assemble(h.dump(), nd);
}
}  // namespace

TEST_CASE("malformed blobs are rejected, each with its own message", "[blob]") {
  const std::vector<uint8_t> good = small_blob_();
  REQUIRE(parse_err_(good) == "OK");
  const size_t declared = good.size();
  const std::string decl = std::to_string(declared);
  auto cut = [&](size_t n) { return std::vector<uint8_t>(good.begin(), good.begin() + long(n)); };

  std::vector<Bad> cases = {
      {"empty", [] { return std::vector<uint8_t>(); }, "not a model blob: the file is empty"},
      {"truncated in the magic", [&] { return cut(5); },
       "truncated: 5 bytes, shorter than the 64-byte preamble"},
      {"truncated in the preamble", [&] { return cut(40); },
       "truncated: 40 bytes, shorter than the 64-byte preamble"},
      {"truncated after the preamble", [&] { return cut(64); },
       "truncated: file is 64 bytes, the preamble declares " + decl},
      {"truncated in the header", [&] { return cut(100); },
       "truncated: file is 100 bytes, the preamble declares " + decl},
      {"truncated in the data", [&] { return cut(declared - 70); },
       "truncated: file is " + std::to_string(declared - 70) + " bytes, the preamble declares " +
           decl},
      {"truncated by one byte", [&] { return cut(declared - 1); },
       "truncated: file is " + std::to_string(declared - 1) + " bytes, the preamble declares " +
           decl},
      {"trailing bytes",
       [&] {
         auto f = good;
         f.push_back(0);
         return f;
       },
       "trailing bytes: file is " + std::to_string(declared + 1) +
           " bytes, the preamble declares " + decl},
      {"wrong magic", [] { return bytes_("GGUF\x03\0\0\0 some other model file format........"); },
       "not a model blob: bad magic"},
      {"an HTML page",
       [] {
         return bytes_("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n");
       },
       "not a model blob: this is an HTML page (an error or login page served instead of the "
       "model?)"},
      {"an HTML page with BOM and blank lines",
       [] { return bytes_("\xEF\xBB\xBF\r\n  <html><body>Sign in</body></html>"); },
       "not a model blob: this is an HTML page (an error or login page served instead of the "
       "model?)"},
      {"a safetensors file",
       [] {
         return safetensors_({{"x", {2}}});
       },
       "not a model blob: this is a safetensors file (convert it with malaria-convert)"},
      {"a zip archive", [] { return bytes_(std::string("PK\x03\x04", 4) + "rest of a zip file"); },
       "not a model blob: this is a zip archive"},
      {"a gzip file", [] { return bytes_("\x1F\x8B\x08\x00 gzip data"); },
       "not a model blob: this is a gzip file"},
      {"CRLF -> LF transfer",
       [&] {
         std::vector<uint8_t> f;
         for (size_t i = 0; i < good.size(); ++i)
           if (!(good[i] == '\r' && i + 1 < good.size() && good[i + 1] == '\n'))
             f.push_back(good[i]);
         return f;
       },
       "not a model blob: magic damaged by a text-mode transfer (download it in binary mode)"},
      {"LF -> CRLF transfer",
       [&] {
         std::vector<uint8_t> f;
         for (uint8_t c : good) {
           if (c == '\n') f.push_back('\r');
           f.push_back(c);
         }
         return f;
       },
       "not a model blob: magic damaged by a text-mode transfer (download it in binary mode)"},
      {"7-bit transfer",
       [&] {
         auto f = good;
         for (auto& c : f) c &= 0x7F;
         return f;
       },
       "not a model blob: magic damaged by a text-mode transfer (download it in binary mode)"},
      {"version 3",
       [&] {
         auto f = good;
         put_u32_(f, 8, bl::kVersionHead + 1);
         return f;
       },
       "unsupported format version 3 (this reader reads versions 1 and 2)"},
      {"reserved field",
       [&] {
         auto f = good;
         put_u32_(f, 12, 1);
         return f;
       },
       "reserved preamble field is not zero"},
      {"header length zero",
       [&] {
         auto f = good;
         put_u64_(f, 16, 0);
         return f;
       },
       "header length is zero"},
      {"header larger than the limit",
       [&] {
         auto f = good;
         put_u64_(f, 16, bl::kMaxHeaderBytes + 1);
         return f;
       },
       "header length 4194305 exceeds the limit of 4194304 bytes"},
      {"header length near 2^64",
       [&] {
         auto f = good;
         put_u64_(f, 16, ~uint64_t(0) - 10);
         return f;
       },
       "header length 18446744073709551605 exceeds the limit of 4194304 bytes"},
      {"data larger than the limit",
       [&] {
         auto f = good;
         put_u64_(f, 24, bl::kMaxDataBytes + 64);
         return f;
       },
       "data length 1073741888 exceeds the limit of 1073741824 bytes"},
      {"data length not aligned",
       [&] {
         auto f = good;
         put_u64_(f, 24, 100);
         return f;
       },
       "data length 100 is not a multiple of 64"},
      {"bad checksum (data byte flipped)",
       [&] {
         auto f = good;
         f[f.size() - 100] ^= 1;
         return f;
       },
       "checksum mismatch: the SHA-256 of the payload does not match the preamble (corrupted "
       "file?)"},
      {"bad checksum (digest byte flipped)",
       [&] {
         auto f = good;
         f[40] ^= 0x80;
         return f;
       },
       "checksum mismatch: the SHA-256 of the payload does not match the preamble (corrupted "
       "file?)"},
      {"non-zero padding after the header",
       [&] {
         std::string t = small_header_().dump();
         auto f = bl::assemble(t, small_data_());
         f[64 + t.size()] = ' ';  // pad the JSON with a space instead of a zero
         bl::reseal(f);
         return f;
       },
       "non-zero padding byte after the header at offset " +
           std::to_string(64 + small_header_().dump().size())},
      {"header not JSON", [] { return bl::assemble("architecture = resnet18", small_data_()); },
       "header is not valid JSON: ", true},
      {"header truncated JSON",
       [] {
         std::string t = small_header_().dump();
         return bl::assemble(t.substr(0, t.size() - 1), small_data_());
       },
       "header is not valid JSON: ", true},
      {"header invalid UTF-8", [] { return bl::assemble("{\"a\":\"\xFF\"}", small_data_()); },
       "header is not valid JSON: ", true},
      {"header with a NUL byte",
       [] { return bl::assemble(std::string("{}\0\0", 4), small_data_()); },
       "header is not valid JSON: NUL byte at header offset 2"},
      {"header is an array", [] { return bl::assemble("[1,2,3]", small_data_()); },
       "header is not a JSON object"},
      {"architecture missing",
       [] { return with_header_([](json& h) { h.erase("architecture"); }); },
       "header field 'architecture' is missing or is not a string"},
      {"other architecture",
       [] { return with_header_([](json& h) { h["architecture"] = "resnet50"; }); },
       "unsupported architecture 'resnet50' (this reader supports 'resnet18')"},
      {"input.size missing", [] { return with_header_([](json& h) { h["input"].erase("size"); }); },
       "header field 'input.size' is missing or is not an integer"},
      {"input.size out of range",
       [] { return with_header_([](json& h) { h["input"]["size"] = 4096; }); },
       "header field 'input.size' is invalid: must be in [8, 1024], got 4096"},
      {"resize filter",
       [] { return with_header_([](json& h) { h["input"]["resize_filter"] = "bilinear"; }); },
       "header field 'input.resize_filter' is invalid: unsupported filter \"bilinear\" (expected "
       "\"area-int\")"},
      {"std zero", [] { return with_header_([](json& h) { h["input"]["std"][1] = 0; }); },
       "header field 'input.std' is invalid: every entry must be > 0"},
      {"band reversed",
       [] { return with_header_([](json& h) {
              h["calibration"]["band"] = {0.9, 0.1};
            }); },
       "header field 'calibration.band' is invalid: need 0 <= lo <= hi <= 1, got [0.9,0.1]"},
      {"temperature negative",
       [] { return with_header_([](json& h) { h["calibration"]["temperature"] = -1; }); },
       "header field 'calibration.temperature' is invalid: must be finite and > 0, got -1"},
      {"unknown weight dtype",
       [] { return with_header_([](json& h) { h["weights"]["dtype"] = "bf16"; }); },
       "unsupported weight dtype 'bf16'"},
      {"int8 weights", [] { return with_header_([](json& h) { h["weights"]["dtype"] = "int8"; }); },
       "header field 'weights.packed_layout_int8' is missing or is not a string"},
      {"packed layout of other kernels",
       [] {
         return with_header_([](json& h) { h["weights"]["packed_layout"] = "igemm-f32-nr4"; });
       },
       std::string(
           "packed layout 'igemm-f32-nr4' is not supported by this build (its kernels use '") +
           mc::conv_packed_layout_name() + "'); re-convert the model",
       false, bl::ParseOptions{false, true}},
      {"tensors missing", [] { return with_header_([](json& h) { h.erase("tensors"); }); },
       "header field 'tensors' is missing or is not an array"},
      {"too many tensors",
       [] {
         return with_header_([](json& h) {
           for (int i = 0; i < 1100; ++i) h["tensors"].push_back(json::object());
         });
       },
       "too many tensors: 1102 (limit 1024)"},
      {"entry not an object", [] { return with_header_([](json& h) { h["tensors"][1] = 5; }); },
       "tensor #1: entry is not an object"},
      {"empty name", [] { return with_header_([](json& h) { h["tensors"][1]["name"] = ""; }); },
       "tensor #1: name is missing, empty or longer than 256 bytes"},
      {"duplicate name",
       [] { return with_header_([](json& h) { h["tensors"][1]["name"] = "a"; }); },
       "tensor 'a': duplicate name"},
      {"unknown dtype",
       [] { return with_header_([](json& h) { h["tensors"][0]["dtype"] = "bf16"; }); },
       "tensor 'a': unknown dtype 'bf16'"},
      {"shape not an array",
       [] { return with_header_([](json& h) { h["tensors"][0]["shape"] = 3; }); },
       "tensor 'a': shape is missing or not an array"},
      {"rank 9",
       [] {
         return with_header_(
             [](json& h) { h["tensors"][0]["shape"] = {1, 1, 1, 1, 1, 1, 1, 1, 3}; });
       },
       "tensor 'a': rank 9 exceeds the limit of 8"},
      {"zero dimension",
       [] { return with_header_([](json& h) {
              h["tensors"][0]["shape"] = {0, 3};
            }); },
       "tensor 'a': dimension 0 is out of range [1, 2147483647]"},
      {"negative dimension",
       [] { return with_header_([](json& h) { h["tensors"][0]["shape"] = {-3}; }); },
       "tensor 'a': dimension -3 is out of range [1, 2147483647]"},
      {"dimension too large",
       [] { return with_header_([](json& h) { h["tensors"][0]["shape"] = {4294967296LL}; }); },
       "tensor 'a': dimension 4294967296 is out of range [1, 2147483647]"},
      {"overflowing shape product",
       [] {
         return with_header_([](json& h) {
           h["tensors"][0]["shape"] = {2147483647, 2147483647, 2147483647, 3};
         });
       },
       "tensor 'a': shape product overflows"},
      {"overflowing byte count",
       [] {
         return with_header_([](json& h) {
           h["tensors"][0]["shape"] = {2147483647, 2147483647, 4};
         });
       },  // 2^64-ish elements * 4 bytes
       "tensor 'a': shape product overflows"},
      {"size does not match the shape",
       [] { return with_header_([](json& h) { h["tensors"][0]["size"] = 16; }); },
       "tensor 'a': size 16 does not match shape and dtype (expected 12)"},
      {"size wraps the offset",
       [] {
         return with_header_([](json& h) {
           h["tensors"][1]["shape"] = {2147483647, 2147483647, 1};
           h["tensors"][1]["dtype"] = "f32";
           h["tensors"][1]["size"] = uint64_t(2147483647) * 2147483647 * 4;
         });
       },
       "tensor 'b': bytes [64, " + std::to_string(uint64_t(2147483647) * 2147483647 * 4 + 64) +
           ") extend past the data section (128 bytes)"},
      {"offset missing",
       [] { return with_header_([](json& h) { h["tensors"][0].erase("offset"); }); },
       "tensor 'a': offset or size is missing or not an unsigned integer"},
      {"misaligned offset",
       [] { return with_header_([](json& h) { h["tensors"][1]["offset"] = 72; }); },
       "tensor 'b': offset 72 is not a multiple of 64"},
      {"overlapping offsets",
       [] { return with_header_([](json& h) { h["tensors"][1]["offset"] = 0; }); },
       "tensor 'b': offset 0 overlaps the previous tensor (ends at 12)"},
      {"gap between tensors",
       [] { return with_header_([](json& h) { h["tensors"][1]["offset"] = 128; }); },
       "tensor 'b': offset 128 leaves a gap (expected 64)"},
      {"first tensor not at 0",
       [] { return with_header_([](json& h) { h["tensors"][0]["offset"] = 64; }); },
       "tensor 'a': offset 64 leaves a gap (expected 0)"},
      {"tensor past the data",
       [] {
         return with_header_([](json& h) {
           h["tensors"][1]["shape"] = {2, 20};
           h["tensors"][1]["size"] = 160;
         });
       },
       "tensor 'b': bytes [64, 224) extend past the data section (128 bytes)"},
      {"data section too long",
       [] {
         auto d = small_data_();
         d.resize(192, 0);
         return with_header_([](json&) {}, d);
       },
       "data section has 112 bytes after the last tensor (expected 48)"},
      {"non-zero padding between tensors",
       [] {
         auto d = small_data_();
         d[20] = 1;
         return with_header_([](json&) {}, d);
       },
       "non-zero padding byte in the data section at offset " +
           std::to_string(64 + ((small_header_().dump().size() + 63) & ~size_t(63)) + 20)},
      {"non-zero padding after the last tensor",
       [] {
         auto d = small_data_();
         d[127] = 9;
         return with_header_([](json&) {}, d);
       },
       "non-zero padding byte in the data section at offset " +
           std::to_string(64 + ((small_header_().dump().size() + 63) & ~size_t(63)) + 127)},
      {"bad quant",
       [] {
         return with_header_([](json& h) {
           h["tensors"][1]["quant"] = {
               {"scheme", "symmetric-per-channel"}, {"axis", 0}, {"scales", {1.0}}};
         });
       },
       "tensor 'b': invalid quant: scales must have one entry per channel of the axis"},
      {"missing tensor", [] { return model_without_("layer3.1.conv2"); },
       "missing tensor 'layer3.1.conv2' required by resnet18", false, bl::ParseOptions()},
      {"missing fc", [] { return model_without_("fc.bias"); },
       "missing tensor 'fc.bias' required by resnet18", false, bl::ParseOptions()},
      {"extra tensor",
       [] {
         const auto& f = full_model_();
         json h = header_of_(f);
         auto d = data_of_(f);
         h["tensors"].push_back({{"name", "extra"},
                                 {"dtype", "f32"},
                                 {"shape", {1}},
                                 {"offset", d.size()},
                                 {"size", 4}});
         d.resize(d.size() + 64, 0);
         return bl::assemble(h.dump(), d);
       },
       "unexpected tensor 'extra' (not part of resnet18)", false, bl::ParseOptions()},
      {"conv with the wrong stride",
       [] {
         const auto& f = full_model_();
         json h = header_of_(f);
         for (auto& t : h["tensors"])
           if (t["name"] == "layer2.0.conv1") t["stride"] = 1;
         return bl::assemble(h.dump(), data_of_(f));
       },
       "tensor 'layer2.0.conv1': stride does not match resnet18 (expected 2, got 1)", false,
       bl::ParseOptions()},
      {"fc stored in another layout",
       [] {
         const auto& f = full_model_();
         json h = header_of_(f);
         for (auto& t : h["tensors"])
           if (t["name"] == "fc.weight") t["layout"] = "column-major";
         return bl::assemble(h.dump(), data_of_(f));
       },
       "tensor 'fc.weight': layout does not match resnet18 (expected 'row-major', got "
       "'column-major')",
       false, bl::ParseOptions()},
      {"BatchNorm not folded",
       [] { return with_header_([](json& h) { h["weights"]["bn_folded"] = false; }); },
       "header field 'weights.bn_folded' is invalid: must be true (the runtime has no BatchNorm; "
       "fold it with malaria-convert)"},
  };
  for (const Bad& c : cases) {
    SECTION(c.what) {
      std::string err = parse_err_(c.make(), c.opt);
      INFO("case: " << c.what);
      if (c.prefix) {
        CHECK(err.rfind(c.message, 0) == 0);
        CHECK(err.size() > c.message.size());
        CHECK(err.find("json.exception") != std::string::npos);
      } else {
        CHECK(err == c.message);
      }
    }
  }
}

TEST_CASE("int8 blob: a requantization scale that is not finite or negative is refused", "[blob]") {
  // the shipped int8 blob, one scale of one output channel changed and the blob resealed
  std::vector<uint8_t> f;
  std::string err;
  if (!mc::read_file_bytes(std::string(MC_REPO_ROOT) + "/model/malaria_resnet18.mcb",
                           size_t(1) << 31, &f, &err)) {
    WARN("no shipped model; skipped");
    return;
  }
  const json h = header_of_(f);
  REQUIRE(h["weights"]["dtype"] == "int8");
  REQUIRE(parse_err_(bl::assemble(h.dump(), data_of_(f)), bl::ParseOptions()) == "OK");
  size_t at = 0;
  for (const auto& t : h["tensors"])
    if (t["name"] == "layer3.0.conv2") at = t["offset"].get<size_t>();
  REQUIRE(at > 0);
  for (float bad : {std::nanf(""), INFINITY, -0.5f}) {
    std::vector<uint8_t> d = data_of_(f);
    // the header (16 bytes), the second panel (64 + 9 * 128 * 16 bytes), its bias[8], scale[3]
    std::memcpy(&d[at + 16 + (64 + 9 * 128 * 16) + 32 + 3 * 4], &bad, 4);
    INFO(bad);
    CHECK(parse_err_(bl::assemble(h.dump(), d), bl::ParseOptions()) ==
          "tensor 'layer3.0.conv2': invalid quant: a requantization scale is not finite, "
          "negative or huge");
  }
}

TEST_CASE("every prefix of a valid blob is rejected, every single-byte change too", "[blob]") {
  const std::vector<uint8_t> good = small_blob_();
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> f(good.begin(), good.begin() + long(n));
    INFO("length " << n);
    REQUIRE(parse_err_(f) != "OK");
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> f = good;
    f[i] ^= 0x10;
    INFO("byte " << i);
    REQUIRE(parse_err_(f) != "OK");
  }
}

TEST_CASE("safetensors reader", "[blob]") {
  std::vector<uint8_t> f = safetensors_({{"b", {2, 3}}, {"a", {4}}, {"s", {}}});
  mc::safetensors::File st;
  std::string err;
  REQUIRE(mc::safetensors::File::parse(f.data(), f.size(), &st, &err));
  REQUIRE(st.tensors().size() == 3);
  const mc::safetensors::Tensor* b = st.find("b");
  REQUIRE(b);
  CHECK(b->shape == std::vector<int64_t>{2, 3});
  CHECK(b->bytes == 24);
  CHECK(st.find("s")->elements == 1);
  CHECK(st.metadata().at("format") == "pt");
  std::vector<float> v = mc::safetensors::to_f32(*st.find("a"));
  CHECK(v.size() == 4);

  auto err_of = [](const std::vector<uint8_t>& x) {
    mc::safetensors::File s;
    std::string e;
    return mc::safetensors::File::parse(x.data(), x.size(), &s, &e) ? std::string("OK") : e;
  };
  auto with = [&](const std::string& header, size_t data) {
    std::vector<uint8_t> x(8 + header.size() + data, 0);
    for (int i = 0; i < 8; ++i) x[size_t(i)] = uint8_t(uint64_t(header.size()) >> (8 * i));
    std::memcpy(&x[8], header.data(), header.size());
    return x;
  };
  CHECK(err_of({1, 2, 3}) ==
        "safetensors: truncated: 3 bytes, shorter than the 8-byte header length");
  CHECK(err_of(std::vector<uint8_t>(f.begin(), f.end() - 1)).find("extend past the data") !=
        std::string::npos);
  CHECK(err_of(std::vector<uint8_t>(f.begin(), f.begin() + 20)) ==
        "safetensors: truncated: header length " + std::to_string(f[0] | f[1] << 8) +
            " but only 12 bytes follow");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2)) ==
        "safetensors: tensor 'x': unsupported dtype 'BF16' (F32, F16, I64 are read)");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)) ==
        "safetensors: tensor 'x': data_offsets span 4 bytes, shape and dtype need 8");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
                    6)) == "safetensors: tensor 'y' overlaps another tensor");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)) ==
        "safetensors: data has 4 bytes after the last tensor");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)) ==
        "safetensors: data bytes [0, 4) belong to no tensor");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967295,4294967295,4294967295],"
                    "\"data_offsets\":[0,4]}}",
                    4)) == "safetensors: tensor 'x': dimension out of range [0, 2147483647]");
  CHECK(err_of(with("{\"x\":{\"dtype\":\"I64\",\"shape\":[2147483647,2147483647,2147483647],"
                    "\"data_offsets\":[0,4]}}",
                    4)) == "safetensors: tensor 'x': shape product overflows");
  CHECK(err_of(with(
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551615,3]}}",
            4)) == "safetensors: tensor 'x': data_offsets [18446744073709551615, 3] are reversed");
  CHECK(err_of(with("not json", 0)) == "safetensors: header does not start with '{'");
  CHECK(err_of(with("{\"x\":", 0)).rfind("safetensors: header is not valid JSON: ", 0) == 0);
  CHECK(err_of(with("{\"__metadata__\":{\"a\":1}}", 0)) ==
        "safetensors: __metadata__ value of 'a' is not a string");
  CHECK(err_of(with("{}  ", 0)) == "OK");
}
