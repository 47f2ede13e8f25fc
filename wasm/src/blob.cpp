// blob.cpp -- see blob.h and docs/FORMAT.md (the messages here are the ones listed there).
#include "blob.h"

#include <cmath>
#include <cstring>
#include <set>

#include "fail.h"
#include "ops/ops.h"
#include "ops/ops_qs8.h"
#include "resnet18.h"
#include "sha256.h"

namespace mc {
namespace blob {

const uint8_t kMagic[8] = {0x89, 'M', 'C', 'B', 0x0D, 0x0A, 0x1A, 0x0A};

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::I8: return "i8";
    case DType::I32: return "i32";
  }
  return "?";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::I8: return 1;
    case DType::I32: return 4;
  }
  return 0;
}

bool dtype_from_name(const std::string& s, DType* out) {
  static const DType all[] = {DType::F32, DType::F16, DType::I8, DType::I32};
  for (DType d : all)
    if (s == dtype_name(d)) {
      *out = d;
      return true;
    }
  return false;
}

// ---------------------------------------------------------------------------------------------
// little helpers

namespace {

uint32_t rd_u32_(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t rd_u64_(const uint8_t* p) { return uint64_t(rd_u32_(p)) | uint64_t(rd_u32_(p + 4)) << 32; }
void wr_u32_(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void wr_u64_(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

// align64 without overflow: false if x + 63 overflows.
bool align_up_(uint64_t x, uint64_t* out) {
  if (x > UINT64_MAX - (kAlign - 1)) return false;
  *out = (x + kAlign - 1) & ~uint64_t(kAlign - 1);
  return true;
}
bool mul_ok_(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *out = a * b;
  return true;
}

std::string u_(uint64_t v) { return std::to_string(v); }
std::string q_(const std::string& s) { return "'" + s + "'"; }

// The magic check (FORMAT.md 1): recognise the usual wrong files by name.
std::string identify_bad_magic_(const uint8_t* p, size_t len) {
  // HTML / XML: optional UTF-8 BOM and whitespace, then '<'
  size_t i = 0;
  if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) i = 3;
  while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) ++i;
  if (i < len && p[i] == '<')
    return "not a model blob: this is an HTML page (an error or login page served instead of "
           "the model?)";
  if (len >= 9 && p[8] == '{' && rd_u64_(p) > 0 && rd_u64_(p) <= len - 8 + (uint64_t(1) << 40))
    return "not a model blob: this is a safetensors file (convert it with malaria-convert)";
  if (len >= 4 && p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4)
    return "not a model blob: this is a zip archive";
  if (len >= 2 && p[0] == 0x1F && p[1] == 0x8B) return "not a model blob: this is a gzip file";
  // mangled forms of our magic: high bit stripped, or CR/LF/EOF bytes translated
  if (len >= 4 && (p[0] & 0x7F) == 0x09 && p[1] == 'M' && p[2] == 'C' && p[3] == 'B')
    return "not a model blob: magic damaged by a text-mode transfer (download it in binary mode)";
  return "not a model blob: bad magic";
}

// nlohmann's DOM parser without exceptions (wasm builds disable catching), keeping the message.
struct SaxDom_ : nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
  std::string message;
  explicit SaxDom_(nlohmann::json& j) : json_sax_dom_parser(j, false) {}
  template <class Exception>
  bool parse_error(std::size_t pos, const std::string& tok, const Exception& ex) {
    message = ex.what();
    return json_sax_dom_parser::parse_error(pos, tok, ex);
  }
};

// dump() of a scalar only: a nested value could be megabytes deep (dump recurses).
std::string short_dump_(const nlohmann::json& v) {
  if (v.is_structured()) return v.is_array() ? "(an array)" : "(an object)";
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

bool finite_number_(const nlohmann::json& v) {
  return v.is_number() && std::isfinite(v.get<double>());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// parser

struct BlobParser_ {
  const uint8_t* p;
  size_t len;
  const ParseOptions& opt;
  Blob& b;
  std::string* err;  // the message of the first failed check (may be null)

  // FORMAT.md 6, checks 21 and 22: "header field 'K' is missing or is not T" / "... is invalid:
  // WHY", with WHY a literal or made by why()
  bool missing(const char* key, const char* what) {
    return fail(err, [&] { return "header field " + q_(key) + " is missing or is not " + what; });
  }
  template <typename Why>
  bool invalid(const char* key, Why why) {
    return fail(err, [&] { return "header field " + q_(key) + " is invalid: " + why(); });
  }
  bool invalid(const char* key, const char* why) {
    return invalid(key, [&] { return std::string(why); });
  }

  bool run() {
    if (len == 0) return fail(err, "not a model blob: the file is empty");
    size_t m = len < 8 ? len : 8;
    if (std::memcmp(p, kMagic, m) != 0)
      return fail(err, [&] { return identify_bad_magic_(p, len); });
    if (len < kPreambleSize)
      return fail(err, [&] {
        return "truncated: " + u_(len) + " bytes, shorter than the 64-byte preamble";
      });
    uint32_t version = rd_u32_(p + 8), reserved = rd_u32_(p + 12);
    uint64_t header_len = rd_u64_(p + 16), data_len = rd_u64_(p + 24);
    if (version != kVersion && version != kVersionHead)
      return fail(err, [&] {
        return "unsupported format version " + u_(version) +
               " (this reader reads versions 1 and 2)";
      });
    b.version_ = version;
    if (reserved != 0) return fail(err, "reserved preamble field is not zero");
    if (header_len == 0) return fail(err, "header length is zero");
    if (header_len > kMaxHeaderBytes)
      return fail(err, [&] {
        return "header length " + u_(header_len) + " exceeds the limit of " + u_(kMaxHeaderBytes) +
               " bytes";
      });
    if (data_len > kMaxDataBytes)
      return fail(err, [&] {
        return "data length " + u_(data_len) + " exceeds the limit of " + u_(kMaxDataBytes) +
               " bytes";
      });
    if (data_len % kAlign != 0)
      return fail(err, [&] { return "data length " + u_(data_len) + " is not a multiple of 64"; });
    uint64_t padded_header = 0;
    align_up_(header_len, &padded_header);  // cannot overflow: header_len <= 4 MiB
    const uint64_t data_start = kPreambleSize + padded_header;
    const uint64_t total = data_start + data_len;  // <= 64 + 4 MiB + 1 GiB
    if (uint64_t(len) < total)
      return fail(err, [&] {
        return "truncated: file is " + u_(len) + " bytes, the preamble declares " + u_(total);
      });
    if (uint64_t(len) > total)
      return fail(err, [&] {
        return "trailing bytes: file is " + u_(len) + " bytes, the preamble declares " + u_(total);
      });
    for (uint64_t i = kPreambleSize + header_len; i < data_start; ++i)
      if (p[i] != 0)
        return fail(err,
                    [&] { return "non-zero padding byte after the header at offset " + u_(i); });
    uint8_t digest[32];
    if (opt.payload_sha256)
      std::memcpy(digest, opt.payload_sha256, 32);  // hashed by the caller (ParseOptions)
    else
      sha256(p + kPreambleSize, size_t(total - kPreambleSize), digest);
    if (std::memcmp(digest, p + 32, 32) != 0)
      return fail(err,
                  "checksum mismatch: the SHA-256 of the payload does not match the preamble "
                  "(corrupted file?)");

    // ---- header JSON
    const char* hb = reinterpret_cast<const char*>(p + kPreambleSize);
    // nlohmann's lexer ends the input at a NUL byte: without this check the header length
    // could be changed by a few bytes of zero padding and still parse. JSON text has no NULs.
    if (const void* nul = std::memchr(hb, 0, size_t(header_len)))
      return fail(err, [&] {
        return "header is not valid JSON: NUL byte at header offset " +
               u_(uint64_t(static_cast<const char*>(nul) - hb));
      });
    b.header_text_.assign(hb, size_t(header_len));
    {
      SaxDom_ sax(b.header_);
      bool ok = nlohmann::json::sax_parse(hb, hb + header_len, &sax,
                                          nlohmann::json::input_format_t::json, true);
      if (!ok || sax.is_errored())
        return fail(err, [&] {
          return "header is not valid JSON: " +
                 (sax.message.empty() ? std::string("parse error") : sax.message);
        });
    }
    const nlohmann::json& h = b.header_;
    if (!h.is_object()) return fail(err, "header is not a JSON object");
    if (!header_fields(h)) return false;
    return tensor_table(h, data_start, data_len);
  }

  // typed lookup of h[key] (dotted name for messages)
  const nlohmann::json* get(const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  }

  // "head": absent in version 1 (fc over the average pool, labels[1] parasitized), required in
  // version 2, where it names the pooling, the layers and the parasitized label.
  bool head_field(const nlohmann::json& h) {
    Head& hd = b.head_;
    hd.classes = int(b.labels_.size());
    const nlohmann::json* o = get(h, "head");
    if (b.version_ != kVersionHead) {
      if (o) return invalid("head", "needs format version 2 (this file is version 1)");
      return true;
    }
    if (!o || !o->is_object()) return missing("head", "an object");
    const nlohmann::json* v = get(*o, "kind");
    if (!v || !v->is_string()) return missing("head.kind", "a string");
    if (*v != "linear" && *v != "mlp")
      return invalid("head.kind",
                     [&] { return "expected \"linear\" or \"mlp\", got " + short_dump_(*v); });
    hd.mlp = *v == "mlp";
    v = get(*o, "pooling");
    if (!v || !v->is_string()) return missing("head.pooling", "a string");
    if (*v != "avg" && *v != "concat-max-avg")
      return invalid("head.pooling", [&] {
        return "expected \"avg\" or \"concat-max-avg\", got " + short_dump_(*v);
      });
    hd.concat_pool = *v == "concat-max-avg";
    v = get(*o, "sizes");
    if (!v || !v->is_array()) return missing("head.sizes", "an array");
    const size_t want = hd.mlp ? 3 : 2;
    if (v->size() != want)
      return invalid("head.sizes", hd.mlp ? "expected [F, H, N] for an mlp head"
                                          : "expected [F, N] for a linear head");
    int64_t sz[3] = {0, 0, 0};
    for (size_t i = 0; i < want; ++i) {
      if (!(*v)[i].is_number_unsigned() || (*v)[i].get<uint64_t>() > uint64_t(kMaxHidden))
        return invalid("head.sizes", "every size must be an integer in [1, 4096]");
      sz[i] = int64_t((*v)[i].get<uint64_t>());
      if (sz[i] < 1) return invalid("head.sizes", "every size must be an integer in [1, 4096]");
    }
    const int64_t F = hd.concat_pool ? 2 * resnet18::kFeatures : resnet18::kFeatures;
    if (sz[0] != F)
      return invalid("head.sizes", [&] {
        return "F must be " + u_(uint64_t(F)) + " with pooling " +
               (hd.concat_pool ? "\"concat-max-avg\"" : "\"avg\"") + ", got " + u_(uint64_t(sz[0]));
      });
    if (sz[want - 1] != hd.classes)
      return invalid("head.sizes", [&] {
        return "N = " + u_(uint64_t(sz[want - 1])) + " does not match the " + u_(hd.classes) +
               " labels";
      });
    hd.features = int(F);
    hd.hidden = hd.mlp ? int(sz[1]) : 0;
    v = get(*o, "positive");
    if (!v || !v->is_number_integer()) return missing("head.positive", "an integer");
    if (!v->is_number_unsigned() || v->get<uint64_t>() >= uint64_t(hd.classes))
      return invalid("head.positive", [&] {
        return "must index the labels (0 to " + u_(hd.classes - 1) + "), got " + short_dump_(*v);
      });
    hd.positive = int(v->get<uint64_t>());
    return true;
  }

  bool header_fields(const nlohmann::json& h) {
    const nlohmann::json* v = get(h, "architecture");
    if (!v || !v->is_string()) return missing("architecture", "a string");
    b.architecture_ = v->get<std::string>();
    if (b.architecture_ != "resnet18")
      return fail(err, [&] {
        return "unsupported architecture " + q_(b.architecture_) +
               " (this reader supports 'resnet18')";
      });

    v = get(h, "labels");
    if (!v || !v->is_array()) return missing("labels", "an array");
    const bool v2 = b.version_ == kVersionHead;
    if (!v2 && v->size() != 2)
      return invalid("labels", [&] { return "expected 2 labels, got " + u_(v->size()); });
    if (v2 && (v->size() < 2 || v->size() > size_t(kMaxClasses)))
      return invalid("labels", [&] {
        return "expected 2 to " + u_(kMaxClasses) + " labels, got " + u_(v->size());
      });
    for (const auto& l : *v) {
      if (!l.is_string() || l.get_ref<const std::string&>().empty())
        return invalid("labels", "every label must be a non-empty string");
      for (const std::string& seen : b.labels_)
        if (seen == l.get_ref<const std::string&>())
          return invalid("labels", [&] { return "duplicate label " + short_dump_(l); });
      b.labels_.push_back(l.get<std::string>());
    }
    if (!head_field(h)) return false;

    const nlohmann::json* in = get(h, "input");
    if (!in || !in->is_object()) return missing("input", "an object");
    v = get(*in, "size");
    if (!v || !v->is_number_integer()) return missing("input.size", "an integer");
    if (!v->is_number_unsigned() || v->get<uint64_t>() < 8 || v->get<uint64_t>() > 1024)
      return invalid("input.size", [&] { return "must be in [8, 1024], got " + short_dump_(*v); });
    b.input_.size = int(v->get<uint64_t>());
    v = get(*in, "resize_filter");
    if (!v || !v->is_string()) return missing("input.resize_filter", "a string");
    if (*v != "area-int")
      return invalid("input.resize_filter", [&] {
        return "unsupported filter " + short_dump_(*v) + " (expected \"area-int\")";
      });
    b.input_.resize_filter = v->get<std::string>();
    v = get(*in, "channel_order");
    if (!v || !v->is_string()) return missing("input.channel_order", "a string");
    if (*v != "RGB")
      return invalid("input.channel_order",
                     [&] { return "expected \"RGB\", got " + short_dump_(*v); });
    b.input_.channel_order = v->get<std::string>();
    for (int k = 0; k < 2; ++k) {
      const char* key = k == 0 ? "mean" : "std";
      const char* dotted = k == 0 ? "input.mean" : "input.std";
      v = get(*in, key);
      if (!v || !v->is_array()) return missing(dotted, "an array");
      if (v->size() != 3)
        return invalid(dotted, [&] { return "expected 3 numbers, got " + u_(v->size()); });
      for (size_t c = 0; c < 3; ++c) {
        const nlohmann::json& x = (*v)[c];
        if (!finite_number_(x)) return invalid(dotted, "every entry must be a finite number");
        double d = x.get<double>();
        if (k == 1 && !(d > 0)) return invalid(dotted, "every entry must be > 0");
        if (std::fabs(d) > 1e6) return invalid(dotted, "entry out of range");
        (k == 0 ? b.input_.mean : b.input_.std)[c] = float(d);
      }
    }

    const nlohmann::json* cal = get(h, "calibration");
    if (!cal || !cal->is_object()) return missing("calibration", "an object");
    v = get(*cal, "temperature");
    if (!v || !v->is_number()) return missing("calibration.temperature", "a number");
    if (!finite_number_(*v) || !(v->get<double>() > 0) || v->get<double>() > 1e6)
      return invalid("calibration.temperature",
                     [&] { return "must be finite and > 0, got " + short_dump_(*v); });
    b.calibration_.temperature = float(v->get<double>());
    v = get(*cal, "band");
    if (!v || !v->is_array()) return missing("calibration.band", "an array");
    if (v->size() != 2 || !finite_number_((*v)[0]) || !finite_number_((*v)[1]))
      return invalid("calibration.band", "expected [lo, hi], two finite numbers");
    double lo = (*v)[0].get<double>(), hi = (*v)[1].get<double>();
    if (!(0 <= lo && lo <= hi && hi <= 1))
      return invalid("calibration.band", [&] {
        return "need 0 <= lo <= hi <= 1, got [" + short_dump_((*v)[0]) + "," +
               short_dump_((*v)[1]) + "]";
      });
    b.calibration_.band_lo = float(lo);
    b.calibration_.band_hi = float(hi);

    v = get(h, "provenance");
    if (!v || !v->is_object()) return missing("provenance", "an object");
    v = get(h, "metrics");
    if (!v || !v->is_object()) return missing("metrics", "an object");

    const nlohmann::json* w = get(h, "weights");
    if (!w || !w->is_object()) return missing("weights", "an object");
    v = get(*w, "dtype");
    if (!v || !v->is_string()) return missing("weights.dtype", "a string");
    b.weight_dtype_ = v->get<std::string>();
    if (b.weight_dtype_ != "f32" && b.weight_dtype_ != "f16" && b.weight_dtype_ != "int8")
      return fail(err, [&] { return "unsupported weight dtype " + q_(b.weight_dtype_); });
    if (b.weight_dtype_ == "int8") {
      v = get(*w, "packed_layout_int8");
      if (!v || !v->is_string()) return missing("weights.packed_layout_int8", "a string");
      b.packed_layout_int8_ = v->get<std::string>();
      if (opt.check_layout && b.packed_layout_int8_ != conv_packed_qs8_layout_name())
        return fail(err, [&] {
          return "packed layout " + q_(b.packed_layout_int8_) +
                 " is not supported by this build (its kernels use " +
                 q_(conv_packed_qs8_layout_name()) + "); re-convert the model";
        });
    }
    v = get(*w, "packed_layout");
    if (!v || !v->is_string()) return missing("weights.packed_layout", "a string");
    b.packed_layout_ = v->get<std::string>();
    if (opt.check_layout && b.packed_layout_ != conv_packed_layout_name())
      return fail(err, [&] {
        return "packed layout " + q_(b.packed_layout_) +
               " is not supported by this build (its kernels use " + q_(conv_packed_layout_name()) +
               "); re-convert the model";
      });
    // the runtime has no BatchNorm: a blob that says its BatchNorm is not folded cannot run
    v = get(*w, "bn_folded");
    if (v && !(v->is_boolean() && v->get<bool>()))
      return fail(err,
                  "header field 'weights.bn_folded' is invalid: must be true (the runtime "
                  "has no BatchNorm; fold it with malaria-convert)");
    return true;
  }

  bool uint_field(const nlohmann::json& e, const char* key, uint64_t* out) {
    auto it = e.find(key);
    if (it == e.end() || !it->is_number_unsigned()) return false;
    *out = it->get<uint64_t>();
    return true;
  }

  bool tensor_table(const nlohmann::json& h, uint64_t data_start, uint64_t data_len) {
    const nlohmann::json* ts = get(h, "tensors");
    if (!ts || !ts->is_array()) return missing("tensors", "an array");
    if (ts->size() > kMaxTensors)
      return fail(err, [&] {
        return "too many tensors: " + u_(ts->size()) + " (limit " + u_(kMaxTensors) + ")";
      });
    std::set<std::string> names;
    uint64_t prev_end = 0;  // end of the previous tensor in the data section
    const uint8_t* data = p + data_start;
    b.tensors_.reserve(ts->size());
    for (size_t i = 0; i < ts->size(); ++i) {
      const nlohmann::json& e = (*ts)[i];
      const std::string idx = "tensor #" + u_(i);
      if (!e.is_object()) return fail(err, [&] { return idx + ": entry is not an object"; });
      Tensor t;
      const nlohmann::json* v = get(e, "name");
      if (!v || !v->is_string() || v->get_ref<const std::string&>().empty() ||
          v->get_ref<const std::string&>().size() > kMaxNameBytes)
        return fail(err, [&] { return idx + ": name is missing, empty or longer than 256 bytes"; });
      t.name = v->get<std::string>();
      const std::string tn = "tensor " + q_(t.name);
      if (!names.insert(t.name).second) return fail(err, [&] { return tn + ": duplicate name"; });
      v = get(e, "dtype");
      if (!v || !v->is_string() || !dtype_from_name(v->get<std::string>(), &t.dtype))
        return fail(err, [&] {
          return tn + ": unknown dtype " +
                 (v && v->is_string() ? q_(v->get<std::string>()) : q_(v ? short_dump_(*v) : ""));
        });
      v = get(e, "shape");
      if (!v || !v->is_array())
        return fail(err, [&] { return tn + ": shape is missing or not an array"; });
      if (v->size() > kMaxRank)
        return fail(err, [&] {
          return tn + ": rank " + u_(v->size()) + " exceeds the limit of " + u_(kMaxRank);
        });
      uint64_t elements = 1;
      for (const auto& d : *v) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() < 1 ||
            d.get<uint64_t>() > uint64_t(kMaxDim))
          return fail(err, [&] {
            return tn + ": dimension " + short_dump_(d) + " is out of range [1, 2147483647]";
          });
        t.shape.push_back(int64_t(d.get<uint64_t>()));
        if (!mul_ok_(elements, d.get<uint64_t>(), &elements))
          return fail(err, [&] { return tn + ": shape product overflows"; });
      }
      uint64_t expect_bytes = 0;
      if (!mul_ok_(elements, dtype_size(t.dtype), &expect_bytes))
        return fail(err, [&] { return tn + ": shape product overflows"; });
      uint64_t off = 0, size = 0;
      if (!uint_field(e, "offset", &off) || !uint_field(e, "size", &size))
        return fail(err,
                    [&] { return tn + ": offset or size is missing or not an unsigned integer"; });
      if (size != expect_bytes)
        return fail(err, [&] {
          return tn + ": size " + u_(size) + " does not match shape and dtype (expected " +
                 u_(expect_bytes) + ")";
        });
      if (off % kAlign != 0)
        return fail(err, [&] { return tn + ": offset " + u_(off) + " is not a multiple of 64"; });
      uint64_t expect_off = 0;
      align_up_(prev_end, &expect_off);  // prev_end <= data_len <= 1 GiB: no overflow
      if (off < prev_end)
        return fail(err, [&] {
          return tn + ": offset " + u_(off) + " overlaps the previous tensor (ends at " +
                 u_(prev_end) + ")";
        });
      if (off != expect_off)
        return fail(err, [&] {
          return tn + ": offset " + u_(off) + " leaves a gap (expected " + u_(expect_off) + ")";
        });
      if (off > data_len || size > data_len - off)
        return fail(err, [&] {
          return tn + ": bytes [" + u_(off) + ", " +
                 (size > UINT64_MAX - off ? std::string("overflow") : u_(off + size)) +
                 ") extend past the data section (" + u_(data_len) + " bytes)";
        });
      // zero padding between the previous tensor and this one
      for (uint64_t k = prev_end; k < off; ++k)
        if (data[k] != 0)
          return fail(err, [&] {
            return "non-zero padding byte in the data section at offset " + u_(data_start + k);
          });
      t.elements = elements;
      t.offset = off;
      t.bytes = size_t(size);
      t.data = data + off;
      prev_end = off + size;
      if (!tensor_extras(e, tn, &t)) return false;
      b.tensors_.push_back(std::move(t));
    }
    uint64_t expect_len = 0;
    align_up_(prev_end, &expect_len);
    if (data_len != expect_len)
      return fail(err, [&] {
        return "data section has " + u_(data_len - prev_end) +
               " bytes after the last tensor (expected " + u_(expect_len - prev_end) + ")";
      });
    for (uint64_t k = prev_end; k < data_len; ++k)
      if (data[k] != 0)
        return fail(err, [&] {
          return "non-zero padding byte in the data section at offset " + u_(data_start + k);
        });
    if (opt.check_model) return check_resnet18();
    return true;
  }

  bool int_list(const nlohmann::json& v, std::vector<int64_t>* out) {
    if (!v.is_array() || v.size() > kMaxRank) return false;
    for (const auto& d : v) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(kMaxDim)) return false;
      out->push_back(int64_t(d.get<uint64_t>()));
    }
    return true;
  }

  bool tensor_extras(const nlohmann::json& e, const std::string& tn, Tensor* t) {
    auto it = e.find("layout");
    if (it != e.end()) {
      if (!it->is_string()) return fail(err, [&] { return tn + ": layout is not a string"; });
      t->layout = it->get<std::string>();
    }
    it = e.find("logical_shape");
    if (it != e.end() && !int_list(*it, &t->logical_shape))
      return fail(err,
                  [&] { return tn + ": logical_shape is not an array of at most 8 dimensions"; });
    for (int k = 0; k < 2; ++k) {
      const char* key = k ? "pad" : "stride";
      it = e.find(key);
      if (it == e.end()) continue;
      if (!it->is_number_unsigned() || it->get<uint64_t>() > 64)
        return fail(err, [&] { return tn + ": " + key + " is not an integer in [0, 64]"; });
      (k ? t->pad : t->stride) = int(it->get<uint64_t>());
    }
    it = e.find("quant");
    if (it != e.end()) {
      const nlohmann::json& q = *it;
      if (!q.is_object()) return fail(err, [&] { return tn + ": invalid quant: not an object"; });
      auto s = q.find("scheme");
      if (s == q.end() || *s != "symmetric-per-channel")
        return fail(
            err, [&] { return tn + ": invalid quant: scheme must be \"symmetric-per-channel\""; });
      t->quant.scheme = s->get<std::string>();
      auto ax = q.find("axis");
      if (ax == q.end() || !ax->is_number_unsigned() || ax->get<uint64_t>() >= t->shape.size())
        return fail(err, [&] { return tn + ": invalid quant: axis missing or out of range"; });
      t->quant.axis = int(ax->get<uint64_t>());
      auto sc = q.find("scales");
      if (sc == q.end() || !sc->is_array() ||
          sc->size() != uint64_t(t->shape[size_t(t->quant.axis)]))
        return fail(err, [&] {
          return tn + ": invalid quant: scales must have one entry per channel of the axis";
        });
      for (const auto& x : *sc) {
        if (!finite_number_(x) || !(x.get<double>() > 0))
          return fail(err, [&] { return tn + ": invalid quant: scales must be finite and > 0"; });
        t->quant.scales.push_back(float(x.get<double>()));
      }
    }
    return true;
  }

  bool check_resnet18() {
    std::set<std::string> known;
    const bool int8 = b.weight_dtype_ == "int8";
    DType wd = b.weight_dtype_ == "f16" ? DType::F16 : int8 ? DType::I8 : DType::F32;
    const std::string conv_layout = int8 ? "packed-qs8" : "packed";
    auto mismatch = [&](const std::string& name, const char* what, const std::string& want,
                        const std::string& got) {
      return fail(err, [&] {
        return "tensor " + q_(name) + ": " + what + " does not match resnet18 (expected " + want +
               ", got " + got + ")";
      });
    };
    auto shape_str = [](const std::vector<int64_t>& s) {
      std::string r = "[";
      for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
      return r + "]";
    };
    for (const resnet18::ConvSpec& c : resnet18::convs()) {
      known.insert(c.name);
      const Tensor* t = b.find(c.name);
      if (!t)
        return fail(err, [&] { return "missing tensor " + q_(c.name) + " required by resnet18"; });
      if (t->dtype != wd) return mismatch(c.name, "dtype", dtype_name(wd), dtype_name(t->dtype));
      if (t->layout != conv_layout)
        return mismatch(c.name, "layout", q_(conv_layout), q_(t->layout));
      std::vector<int64_t> ls = {c.out_c, c.k, c.k, c.in_c};
      if (t->logical_shape != ls)
        return mismatch(c.name, "logical_shape", shape_str(ls), shape_str(t->logical_shape));
      if (t->stride != c.stride)
        return mismatch(c.name, "stride", std::to_string(c.stride), std::to_string(t->stride));
      if (t->pad != c.pad)
        return mismatch(c.name, "pad", std::to_string(c.pad), std::to_string(t->pad));
      if (opt.check_layout) {
        ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0};
        std::vector<int64_t> want = {
            int64_t(int8 ? conv_packed_qs8_size(s) : conv_packed_f32_size(s))};
        if (t->shape != want)
          return mismatch(c.name, "stored shape", shape_str(want), shape_str(t->shape));
      }
    }
    if (int8 && opt.check_layout) {
      // the quantization recorded in each packed header: valid, and each conv's input
      // parameters equal its producer's output parameters (the engine relies on it)
      const std::vector<resnet18::ConvSpec>& convs = resnet18::convs();
      const std::vector<int>& inputs = resnet18::conv_inputs();
      for (size_t i = 0; i < convs.size(); ++i) {
        const Tensor* t = b.find(convs[i].name);
        QuantParams qi = conv_packed_qs8_input_params(t->data);
        QuantParams qo = conv_packed_qs8_output_params(t->data);
        if (!quant_params_valid(qi) || !quant_params_valid(qo))
          return fail(err, [&] {
            return "tensor " + q_(convs[i].name) +
                   ": invalid quant: packed header holds invalid "
                   "scale or zero point";
          });
        const resnet18::ConvSpec& c = convs[i];
        if (!conv_packed_qs8_scales_valid(ConvShape{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0},
                                          t->data))
          return fail(err, [&] {
            return "tensor " + q_(convs[i].name) +
                   ": invalid quant: a requantization scale is not finite, negative or huge";
          });
        if (inputs[i] >= 0) {
          QuantParams po =
              conv_packed_qs8_output_params(b.find(convs[size_t(inputs[i])].name)->data);
          if (po.scale != qi.scale || po.zero_point != qi.zero_point)
            return fail(err, [&] {
              return "tensor " + q_(convs[i].name) +
                     ": invalid quant: input parameters differ from "
                     "the output parameters of " +
                     q_(convs[size_t(inputs[i])].name);
            });
        }
      }
    }
    const Head& hd = b.head_;
    struct Fc {
      const char* name;
      std::vector<int64_t> shape;
    };
    const std::vector<Fc> fcs =
        hd.mlp ? std::vector<Fc>{{resnet18::kHeadFc1Weight, {hd.hidden, hd.features}},
                                 {resnet18::kHeadFc1Bias, {hd.hidden}},
                                 {resnet18::kHeadFc2Weight, {hd.classes, hd.hidden}},
                                 {resnet18::kHeadFc2Bias, {hd.classes}}}
               : std::vector<Fc>{{resnet18::kFcWeight, {hd.classes, hd.features}},
                                 {resnet18::kFcBias, {hd.classes}}};
    for (const Fc& f : fcs) {
      known.insert(f.name);
      const Tensor* t = b.find(f.name);
      if (!t)
        return fail(err, [&] { return "missing tensor " + q_(f.name) + " required by resnet18"; });
      const DType fd = int8 ? DType::F32 : wd;  // int8 blobs keep the fc in f32
      if (t->dtype != fd) return mismatch(f.name, "dtype", dtype_name(fd), dtype_name(t->dtype));
      if (t->shape != f.shape)
        return mismatch(f.name, "shape", shape_str(f.shape), shape_str(t->shape));
      // the engine reads the fc row-major: a tensor that names another layout is refused
      if (!t->layout.empty() && t->layout != "row-major")
        return mismatch(f.name, "layout", q_("row-major"), q_(t->layout));
    }
    for (const Tensor& t : b.tensors_)
      if (!known.count(t.name))
        return fail(err,
                    [&] { return "unexpected tensor " + q_(t.name) + " (not part of resnet18)"; });
    return true;
  }
};

bool Blob::parse(const uint8_t* data, size_t len, Blob* out, std::string* err,
                 const ParseOptions& opt) {
  Blob b;
  BlobParser_ parser{data, len, opt, b, err};
  const bool ok =
      data != nullptr || len == 0 ? parser.run() : fail(err, "not a model blob: the file is empty");
  if (!ok) {
    if (out) *out = Blob();
    return false;
  }
  if (out) *out = std::move(b);
  return true;
}

const Tensor* Blob::find(const std::string& name) const {
  for (const Tensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// f16

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000 | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while (!(man & 0x400));
    bits = sign | uint32_t(112 - e) << 23 | ((man & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = uint16_t((x >> 16) & 0x8000);
  uint32_t exp = (x >> 23) & 0xFF, man = x & 0x7FFFFF;
  if (exp == 0xFF) return uint16_t(sign | 0x7C00 | (man ? 0x200 | (man >> 13) : 0));
  int e = int(exp) - 127 + 15;
  if (e >= 0x1F) return uint16_t(sign | 0x7C00);  // overflow -> inf
  if (e <= 0) {                                   // subnormal half or zero
    if (e < -10) return sign;
    man |= 0x800000;
    int shift = 14 - e;  // 14..24
    uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = uint32_t(e) << 10 | (man >> 13), rem = man & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;  // may carry into exp: fine (inf)
  return uint16_t(sign | half);
}

// ---------------------------------------------------------------------------------------------
// writer

namespace {
std::vector<uint8_t> failed_(bool) { return {}; }  // write()'s result after a failed check
}  // namespace

TensorIn tensor_f32(const std::string& name, const std::vector<int64_t>& shape,
                    const std::vector<float>& values, const nlohmann::json& extra) {
  TensorIn t{name, DType::F32, shape, std::vector<uint8_t>(values.size() * 4), extra};
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &values[i], 4);
    wr_u32_(&t.bytes[4 * i], u);
  }
  return t;
}

TensorIn tensor_f16(const std::string& name, const std::vector<int64_t>& shape,
                    const std::vector<float>& values, const nlohmann::json& extra) {
  TensorIn t{name, DType::F16, shape, std::vector<uint8_t>(values.size() * 2), extra};
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t h = f32_to_f16(values[i]);
    t.bytes[2 * i] = uint8_t(h);
    t.bytes[2 * i + 1] = uint8_t(h >> 8);
  }
  return t;
}

std::vector<uint8_t> assemble(const std::string& header_text,
                              const std::vector<uint8_t>& data_section, uint32_t version,
                              uint32_t reserved) {
  uint64_t padded = 0;
  align_up_(header_text.size(), &padded);
  std::vector<uint8_t> f(kPreambleSize + size_t(padded) + data_section.size(), 0);
  std::memcpy(f.data(), kMagic, 8);
  wr_u32_(&f[8], version);
  wr_u32_(&f[12], reserved);
  wr_u64_(&f[16], header_text.size());
  wr_u64_(&f[24], data_section.size());
  std::memcpy(&f[kPreambleSize], header_text.data(), header_text.size());
  if (!data_section.empty())
    std::memcpy(&f[kPreambleSize + size_t(padded)], data_section.data(), data_section.size());
  reseal(f);
  return f;
}

void reseal(std::vector<uint8_t>& file) {
  if (file.size() < kPreambleSize) return;
  sha256(file.data() + kPreambleSize, file.size() - kPreambleSize, &file[32]);
}

std::vector<uint8_t> write(const nlohmann::json& header, const std::vector<TensorIn>& tensors,
                           std::string* err) {
  if (!header.is_object()) return failed_(fail(err, "write: header is not an object"));
  nlohmann::json h = header;
  nlohmann::json table = nlohmann::json::array();
  uint64_t off = 0;
  for (const TensorIn& t : tensors) {
    uint64_t n = 1;
    for (int64_t d : t.shape)
      if (d < 1 || !mul_ok_(n, uint64_t(d), &n))
        return failed_(fail(err, [&] { return "write: tensor '" + t.name + "': bad shape"; }));
    uint64_t bytes = 0;
    if (!mul_ok_(n, dtype_size(t.dtype), &bytes) || bytes != t.bytes.size())
      return failed_(fail(err, [&] {
        return "write: tensor '" + t.name + "': " + u_(t.bytes.size()) +
               " bytes do not match shape and dtype";
      }));
    nlohmann::json e = t.extra.is_object() ? t.extra : nlohmann::json::object();
    e["name"] = t.name;
    e["dtype"] = dtype_name(t.dtype);
    e["shape"] = t.shape;
    e["offset"] = off;
    e["size"] = bytes;
    table.push_back(std::move(e));
    align_up_(off + bytes, &off);
    if (off > kMaxDataBytes) return failed_(fail(err, "write: data exceeds the limit of 1 GiB"));
  }
  h["tensors"] = std::move(table);
  std::string text = h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxHeaderBytes)
    return failed_(fail(err, "write: header exceeds the limit of 4 MiB"));
  std::vector<uint8_t> data(size_t(off), 0);
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].bytes.empty()) continue;
    size_t o = size_t(h["tensors"][i]["offset"].get<uint64_t>());
    std::memcpy(&data[o], tensors[i].bytes.data(), tensors[i].bytes.size());
  }
  return assemble(text, data,
                  header.is_object() && header.contains("head") ? kVersionHead : kVersion);
}

}  // namespace blob
}  // namespace mc
