// safetensors.h -- strict reader of .safetensors files (the weights model/export.py writes).
//
// Usage (the bytes must outlive the File; nothing is copied):
//   mc::safetensors::File f;
//   std::string err;
//   if (!mc::safetensors::File::parse(bytes, len, &f, &err)) { report(err); return; }
//   const mc::safetensors::Tensor* t = f.find("conv1.weight");   // nullptr if absent
//   std::vector<float> w = mc::safetensors::to_f32(*t);          // F32 / F16 / I64 -> float
//   f.metadata();                                                 // __metadata__ (string map)
//
// Format: u64 little-endian header length N, N bytes of JSON {name: {"dtype", "shape",
// "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the data; offsets relative
// to the data start. Checked at runtime: header length and JSON, dtype (F32, F16, I64),
// rank <= 8, shape product overflow, end - begin == product * dtype size, offsets inside the
// data and covering it exactly without overlap, limits below. Errors start "safetensors: ".
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mc {
namespace safetensors {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // 100 MB, as the reference implementation
constexpr size_t kMaxTensors = 4096;
constexpr size_t kMaxRank = 8;
constexpr uint64_t kMaxDim = 2147483647;

enum class DType : uint8_t { F32, F16, I64 };
const char* dtype_name(DType d);  // "F32", "F16", "I64"
size_t dtype_size(DType d);

struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t elements = 1;
  const uint8_t* data = nullptr;  // little-endian, not necessarily aligned
  size_t bytes = 0;
};

class File {
 public:
  static bool parse(const uint8_t* data, size_t len, File* out, std::string* err);
  const Tensor* find(const std::string& name) const;
  const std::vector<Tensor>& tensors() const { return tensors_; }  // sorted by name
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  friend struct StParser_;
  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Element values widened to float (I64 converted, may round).
std::vector<float> to_f32(const Tensor& t);

}  // namespace safetensors
}  // namespace mc
