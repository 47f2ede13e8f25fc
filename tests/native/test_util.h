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

#include "ops/ops.h"
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

// The convolution shapes the f32 and qs8 conv tests sweep, awkward sizes first: 1, 3, 13 and 127
// channels both ways (not 127 x 127), strides 1 and 2, 1x1 and 3x3, 1, 3 and 13 output columns;
// then 127 pixels in a row at 127 channels, a strided 13x13, a 7x7/2 stem, a 5x5, a 1x3 kernel
// and an unpadded 3x3/2. check(shape, residual, relu, seed), seeds fixed.
template <class F>
void for_each_awkward_conv(F check) {
  uint32_t seed = 1;
  const int chans[] = {1, 3, 13, 127};
  for (int in_c : chans)
    for (int out_c : chans) {
      if (in_c == 127 && out_c == 127) continue;  // below, at fewer pixels
      for (int stride : {1, 2})
        for (int k : {1, 3}) {
          const int pad = k / 2;
          for (int w_out : {1, 3, 13}) {
            const int in_w = (w_out - 1) * stride + k - 2 * pad;
            mc::ConvShape s{
                w_out == 13 ? 2 : 1, in_w < 1 ? 1 : in_w, in_c, out_c, k, k, stride, pad};
            if (!mc::conv_shape_valid(s)) continue;
            check(s, (seed & 1) != 0, (seed & 2) != 0, seed);
            seed++;
          }
        }
    }
  for (int r = 0; r < 4; r++)
    check(mc::ConvShape{1, 127, 127, 127, 3, 3, 1, 1}, r & 1, r & 2, 100 + r);
  for (int r = 0; r < 4; r++)
    check(mc::ConvShape{13, 13, 3, 13, 3, 3, 2, 1}, r & 1, r & 2, 200 + r);
  check(mc::ConvShape{13, 11, 3, 13, 7, 7, 2, 3}, false, true, 300);
  check(mc::ConvShape{9, 10, 5, 9, 5, 5, 1, 2}, true, false, 301);
  check(mc::ConvShape{7, 9, 4, 17, 1, 3, 1, 0}, true, true, 302);
  check(mc::ConvShape{8, 8, 16, 16, 3, 3, 2, 0}, false, false, 303);
}

}  // namespace mc_test_util
