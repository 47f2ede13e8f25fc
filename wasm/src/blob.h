// blob.h -- reader and writer of the model blob (.mcb, docs/FORMAT.md).
//
// Reading (engine side; the bytes must outlive the Blob, nothing is copied):
//   mc::blob::Blob b;
//   std::string err;
//   if (!mc::blob::Blob::parse(bytes, len, &b, &err)) { report(err); return; }  // names the check
//   const mc::blob::InputSpec& in = b.input();              // in.size, in.mean[c], in.std[c]
//   const mc::blob::Calibration& cal = b.calibration();     // cal.temperature, cal.band_lo/hi
//   for (const mc::resnet18::ConvSpec& c : mc::resnet18::convs()) {   // resnet18.h
//     const mc::blob::Tensor* t = b.find(c.name);          // never null after a successful parse
//     // t->dtype F32: t->data holds t->elements floats (packed by mc::conv_pack_f32)
//     // t->dtype F16: t->elements halfs, widen with mc::blob::f16_to_f32
//   }
//   const mc::blob::Tensor* fcw = b.find("fc.weight");       // [N][F] row-major (linear head)
//   const mc::blob::Head& hd = b.head();   // version 2: mlp head "head.fc1.*", "head.fc2.*",
//                                          // N labels, labels()[hd.positive] is parasitized
//   // int8 blobs (weight_dtype() == "int8"): convs are I8 byte buffers packed by
//   // mc::conv_pack_qs8 (quantization in their header), fc stays f32; see FORMAT.md 5.
//
// Writing (converter, tests):
//   nlohmann::json h = meta;                 // architecture, labels, input, calibration, ...
//   h["weights"] = {{"dtype", "f32"}, {"packed_layout", mc::conv_packed_layout_name()}, ...};
//   std::vector<mc::blob::TensorIn> ts;      // in data order
//   ts.push_back(mc::blob::tensor_f32("fc.bias", {2}, bias, {{"layout", "row-major"}}));
//   std::vector<uint8_t> file = mc::blob::write(h, ts);     // deterministic bytes
//
// Every check of parse is a runtime check (release builds included), all size arithmetic is
// overflow-checked, and the error message is one of the texts listed in docs/FORMAT.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mc {
namespace blob {

constexpr uint32_t kVersion = 1;      // a header without "head": ResNet18 + fc, 2 labels
constexpr uint32_t kVersionHead = 2;  // a header with "head" (FORMAT.md 2): any head it names
constexpr int kMaxClasses = 64;       // labels of a version 2 blob
constexpr int kMaxHidden = 4096;      // the hidden layer of an "mlp" head
constexpr size_t kPreambleSize = 64;
constexpr size_t kAlign = 64;
constexpr uint64_t kMaxHeaderBytes = 4u << 20;  // 4 MiB
constexpr uint64_t kMaxDataBytes = 1u << 30;    // 1 GiB
constexpr size_t kMaxTensors = 1024;
constexpr size_t kMaxRank = 8;
constexpr size_t kMaxNameBytes = 256;
constexpr int64_t kMaxDim = 2147483647;
extern const uint8_t kMagic[8];  // 89 4D 43 42 0D 0A 1A 0A

enum class DType : uint8_t { F32, F16, I8, I32 };
const char* dtype_name(DType d);  // "f32", "f16", "i8", "i32"
size_t dtype_size(DType d);
bool dtype_from_name(const std::string& s, DType* out);

// Quantization parameters of an int8 tensor (empty scheme: not quantized).
struct Quant {
  std::string scheme;  // "symmetric-per-channel"
  int axis = 0;
  std::vector<float> scales;
};

// One tensor of a parsed blob. `data` points into the caller's buffer.
struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // stored shape
  uint64_t elements = 1;       // product of shape
  const uint8_t* data = nullptr;
  size_t bytes = 0;                    // elements * dtype_size(dtype)
  uint64_t offset = 0;                 // from the start of the data section
  std::string layout;                  // "packed", "row-major" or ""
  std::vector<int64_t> logical_shape;  // convolutions: [out_c, kh, kw, in_c]
  int stride = 0, pad = 0;             // convolutions
  Quant quant;
};

struct InputSpec {
  int size = 0;               // S
  std::string resize_filter;  // "area-int"
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
  std::string channel_order;  // "RGB"
};

// The classifier after the last stage (FORMAT.md 2, "head"). Version 1 blobs: the defaults.
struct Head {
  bool mlp = false;          // kind "mlp": fc1 -> ReLU -> fc2; else "linear": one fc
  bool concat_pool = false;  // pooling "concat-max-avg": [max, avg] of the last features; "avg"
  int features = 512;        // F: 512 (avg) or 1024 (concat-max-avg)
  int hidden = 0;            // H (mlp only)
  int classes = 2;           // N = labels().size()
  int positive = 1;          // labels()[positive] is the parasitized class
};

struct Calibration {
  float temperature = 1;
  float band_lo = 0.5f, band_hi = 0.5f;
};

struct ParseOptions {
  bool check_model = true;   // require exactly the resnet18 tensor set (FORMAT.md 3)
  bool check_layout = true;  // require weights.packed_layout == mc::conv_packed_layout_name()
                             // (and _int8 == conv_packed_qs8_layout_name()), packed sizes
  // The SHA-256 of the payload (bytes [64, len) of the buffer given to parse), computed by the
  // caller with a faster hash than ours (the browser's WebCrypto, native code). The reader
  // compares it with the preamble's checksum instead of hashing (same failure message). It must
  // be the digest of exactly the bytes passed; null: hash here.
  const uint8_t* payload_sha256 = nullptr;
};

class Blob {
 public:
  // Validates everything; on failure returns false and sets *err (out is left empty).
  static bool parse(const uint8_t* data, size_t len, Blob* out, std::string* err,
                    const ParseOptions& opt = ParseOptions());

  const Tensor* find(const std::string& name) const;  // nullptr if absent
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const nlohmann::json& header() const { return header_; }
  const std::string& header_text() const { return header_text_; }  // the JSON bytes
  const std::string& architecture() const { return architecture_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const Head& head() const { return head_; }
  uint32_t version() const { return version_; }  // kVersion or kVersionHead
  const InputSpec& input() const { return input_; }
  const Calibration& calibration() const { return calibration_; }
  const std::string& weight_dtype() const { return weight_dtype_; }  // "f32" | "f16" | "int8"
  const std::string& packed_layout() const { return packed_layout_; }
  const std::string& packed_layout_int8() const { return packed_layout_int8_; }  // int8 only

 private:
  friend struct BlobParser_;
  std::vector<Tensor> tensors_;
  nlohmann::json header_;
  std::string header_text_;
  std::string architecture_;
  std::vector<std::string> labels_;
  Head head_;
  uint32_t version_ = kVersion;
  InputSpec input_;
  Calibration calibration_;
  std::string weight_dtype_;
  std::string packed_layout_;
  std::string packed_layout_int8_;
};

// ---- writer ----
struct TensorIn {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;                       // little-endian element data
  nlohmann::json extra = nlohmann::json::object();  // layout, logical_shape, stride, pad, quant
};
TensorIn tensor_f32(const std::string& name, const std::vector<int64_t>& shape,
                    const std::vector<float>& values,
                    const nlohmann::json& extra = nlohmann::json::object());
TensorIn tensor_f16(const std::string& name, const std::vector<int64_t>& shape,
                    const std::vector<float>& values,  // rounded to nearest even
                    const nlohmann::json& extra = nlohmann::json::object());

// The full file: `header` (an object, without "tensors") plus the tensor table built from
// `tensors` (in that order, packed at 64-byte alignment). Keys sorted, no whitespace. Format
// version kVersionHead when the header has a "head" key, else kVersion.
// Returns an empty vector and sets *err if a tensor's bytes do not match its shape/dtype or
// the result would exceed the limits. Never validates the header's content: tests use it to
// build malformed blobs.
std::vector<uint8_t> write(const nlohmann::json& header, const std::vector<TensorIn>& tensors,
                           std::string* err = nullptr);
// Low level: preamble + header_text + zero padding + data_section, with a correct checksum.
std::vector<uint8_t> assemble(const std::string& header_text,
                              const std::vector<uint8_t>& data_section, uint32_t version = kVersion,
                              uint32_t reserved = 0);
// Recompute the preamble checksum after the payload of `file` was edited (tests).
void reseal(std::vector<uint8_t>& file);

// IEEE binary16 <-> binary32 (round to nearest even; inf/nan preserved).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace blob
}  // namespace mc
