// test_util.h -- helpers shared by the native tests (header-only, test code only).
//
// Usage:
//   std::map<std::string, mc_test_util::F32Tensor> t;
//   REQUIRE(mc_test_util::read_safetensors_f32(path, &t));   // golden.safetensors, exported
//   weights
#pragma once
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "safetensors.h"
#include "sha256.h"

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
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                   std::istreambuf_iterator<char>());
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

// The shipped model (model/malaria_resnet18.{safetensors,json}), checked to be the one the golden
// vectors (tests/fixtures/golden.*) were made from. Never skipped: when they disagree the tests
// fail, and model/golden.py must be rerun.
inline bool shipped_golden_model(std::string* weights_bytes, nlohmann::json* meta,
                                 std::string* why) {
  const std::string root = MC_REPO_ROOT;
  std::ifstream gj(root + "/tests/fixtures/golden.json");
  std::ifstream st(root + "/model/malaria_resnet18.safetensors", std::ios::binary);
  std::ifstream js(root + "/model/malaria_resnet18.json");
  if (!gj || !st || !js) {
    *why = "tests/fixtures/golden.json or model/malaria_resnet18.{safetensors,json} missing";
    return false;
  }
  weights_bytes->assign(std::istreambuf_iterator<char>(st), std::istreambuf_iterator<char>());
  const nlohmann::json g = nlohmann::json::parse(gj);
  if (mc::sha256_hex(weights_bytes->data(), weights_bytes->size()) !=
      g["weights_sha256"].get<std::string>()) {
    *why = "golden vectors were made from other weights than model/ ships: rerun model/golden.py";
    return false;
  }
  *meta = nlohmann::json::parse(js);
  return true;
}

}  // namespace mc_test_util
