// safetensors.cpp -- see safetensors.h.
#include "safetensors.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "blob.h"  // f16_to_f32

namespace mc {
namespace safetensors {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::I64: return "I64";
  }
  return "?";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::I64: return 8;
  }
  return 0;
}

namespace {

// nlohmann's DOM parser without exceptions, keeping the message (see blob.cpp).
struct StSax_ : nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
  std::string message;
  explicit StSax_(nlohmann::json& j) : json_sax_dom_parser(j, false) {}
  template <class Exception>
  bool parse_error(std::size_t pos, const std::string& tok, const Exception& ex) {
    message = ex.what();
    return json_sax_dom_parser::parse_error(pos, tok, ex);
  }
};

std::string u_(uint64_t v) { return std::to_string(v); }

}  // namespace

struct StParser_ {
  std::string err;
  bool fail(const std::string& m) {
    err = "safetensors: " + m;
    return false;
  }

  bool run(const uint8_t* p, size_t len, File& f) {
    if (len < 8)
      return fail("truncated: " + u_(len) + " bytes, shorter than the 8-byte header length");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(p[i]) << (8 * i);
    if (n == 0) return fail("header length is zero");
    if (n > kMaxHeaderBytes)
      return fail("header length " + u_(n) + " exceeds the limit of " + u_(kMaxHeaderBytes) +
                  " bytes");
    if (n > len - 8)
      return fail("truncated: header length " + u_(n) + " but only " + u_(len - 8) +
                  " bytes follow");
    if (p[8] != '{') return fail("header does not start with '{'");
    const char* hb = reinterpret_cast<const char*>(p + 8);
    nlohmann::json h;
    StSax_ sax(h);
    bool ok =
        nlohmann::json::sax_parse(hb, hb + n, &sax, nlohmann::json::input_format_t::json, true);
    if (!ok || sax.is_errored())
      return fail("header is not valid JSON: " +
                  (sax.message.empty() ? std::string("parse error") : sax.message));
    if (!h.is_object()) return fail("header is not a JSON object");
    const uint8_t* data = p + 8 + n;
    const uint64_t data_len = len - 8 - n;
    if (h.size() > kMaxTensors + 1)
      return fail("too many tensors: " + u_(h.size()) + " (limit " + u_(kMaxTensors) + ")");
    struct Span {
      uint64_t b, e;
      size_t idx;
    };
    std::vector<Span> spans;
    for (auto it = h.begin(); it != h.end(); ++it) {
      const std::string& name = it.key();
      const nlohmann::json& e = it.value();
      if (name == "__metadata__") {
        if (!e.is_object()) return fail("__metadata__ is not an object");
        for (auto m = e.begin(); m != e.end(); ++m) {
          if (!m.value().is_string())
            return fail("__metadata__ value of '" + m.key() + "' is not a string");
          f.metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string tn = "tensor '" + name + "'";
      if (name.empty()) return fail("tensor with an empty name");
      if (!e.is_object()) return fail(tn + ": entry is not an object");
      Tensor t;
      t.name = name;
      auto d = e.find("dtype");
      if (d == e.end() || !d->is_string()) return fail(tn + ": dtype is missing");
      const std::string& ds = d->get_ref<const std::string&>();
      if (ds == "F32")
        t.dtype = DType::F32;
      else if (ds == "F16")
        t.dtype = DType::F16;
      else if (ds == "I64")
        t.dtype = DType::I64;
      else
        return fail(tn + ": unsupported dtype '" + ds.substr(0, 32) + "' (F32, F16, I64 are read)");
      auto s = e.find("shape");
      if (s == e.end() || !s->is_array()) return fail(tn + ": shape is missing or not an array");
      if (s->size() > kMaxRank)
        return fail(tn + ": rank " + u_(s->size()) + " exceeds the limit of 8");
      uint64_t elements = 1;
      for (const auto& dim : *s) {
        if (!dim.is_number_unsigned() || dim.get<uint64_t>() > kMaxDim)
          return fail(tn + ": dimension out of range [0, 2147483647]");
        uint64_t v = dim.get<uint64_t>();
        if (v != 0 && elements > UINT64_MAX / v) return fail(tn + ": shape product overflows");
        elements *= v;
        t.shape.push_back(int64_t(v));
      }
      if (elements > UINT64_MAX / dtype_size(t.dtype))
        return fail(tn + ": shape product overflows");
      uint64_t bytes = elements * dtype_size(t.dtype);
      auto o = e.find("data_offsets");
      if (o == e.end() || !o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() ||
          !(*o)[1].is_number_unsigned())
        return fail(tn + ": data_offsets is missing or not [begin, end]");
      uint64_t b = (*o)[0].get<uint64_t>(), en = (*o)[1].get<uint64_t>();
      if (b > en) return fail(tn + ": data_offsets [" + u_(b) + ", " + u_(en) + "] are reversed");
      if (en > data_len)
        return fail(tn + ": data_offsets [" + u_(b) + ", " + u_(en) + "] extend past the data (" +
                    u_(data_len) + " bytes; truncated file?)");
      if (en - b != bytes)
        return fail(tn + ": data_offsets span " + u_(en - b) + " bytes, shape and dtype need " +
                    u_(bytes));
      t.elements = elements;
      t.bytes = size_t(bytes);
      t.data = data + b;
      spans.push_back({b, en, f.tensors_.size()});
      f.tensors_.push_back(std::move(t));
    }
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.b != b.b ? a.b < b.b : a.e < b.e; });
    uint64_t pos = 0;
    for (const Span& s : spans) {
      if (s.b < pos) return fail("tensor '" + f.tensors_[s.idx].name + "' overlaps another tensor");
      if (s.b > pos)
        return fail("data bytes [" + u_(pos) + ", " + u_(s.b) + ") belong to no tensor");
      pos = s.e;
    }
    if (pos != data_len)
      return fail("data has " + u_(data_len - pos) + " bytes after the last tensor");
    return true;
  }
};

bool File::parse(const uint8_t* data, size_t len, File* out, std::string* err) {
  File f;
  StParser_ p;
  if (!data) len = 0;
  if (!p.run(data, len, f)) {
    if (err) *err = p.err;
    if (out) *out = File();
    return false;
  }
  if (out) *out = std::move(f);
  return true;
}

const Tensor* File::find(const std::string& name) const {
  for (const Tensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> to_f32(const Tensor& t) {
  std::vector<float> out(size_t(t.elements));
  const uint8_t* p = t.data;
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype) {
      case DType::F32: {
        uint32_t u = uint32_t(p[4 * i]) | uint32_t(p[4 * i + 1]) << 8 |
                     uint32_t(p[4 * i + 2]) << 16 | uint32_t(p[4 * i + 3]) << 24;
        std::memcpy(&out[i], &u, 4);
        break;
      }
      case DType::F16: out[i] = blob::f16_to_f32(uint16_t(p[2 * i] | p[2 * i + 1] << 8)); break;
      case DType::I64: {
        uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u |= uint64_t(p[8 * i + k]) << (8 * k);
        out[i] = float(int64_t(u));
        break;
      }
    }
  }
  return out;
}

}  // namespace safetensors
}  // namespace mc
