// test_util.h -- helpers shared by the native tests (header-only, test code only).
//
// Usage:
//   std::map<std::string, mc_test_util::F32Tensor> t;
//   REQUIRE(mc_test_util::read_safetensors_f32(path, &t));   // golden.safetensors, exported weights
#pragma once
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "safetensors.h"

namespace mc_test_util {

struct F32Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Every tensor of a safetensors file widened to float, through the project's strict reader.
template <class T>
bool read_safetensors_f32(const std::string& path, std::map<std::string, T>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  mc::safetensors::File st;
  std::string err;
  if (!mc::safetensors::File::parse(bytes.data(), bytes.size(), &st, &err)) return false;
  for (const auto& t : st.tensors()) {
    T v;
    v.shape = t.shape;
    v.data = mc::safetensors::to_f32(t);
    (*out)[t.name] = std::move(v);
  }
  return true;
}

}  // namespace mc_test_util
