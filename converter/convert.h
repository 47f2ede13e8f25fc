// convert.h -- safetensors (torchvision ResNet18) + metadata JSON -> model blob (.mcb).
//
// Usage:
//   mc::convert::Options opt;  opt.dtype = "f16";
//   std::vector<uint8_t> blob;  std::string err;
//   if (!mc::convert::convert(st_bytes, st_len, meta_json, opt, &blob, &err)) { report(err); }
//
// What it does: checks that the safetensors file holds exactly the tensors of a torchvision
// ResNet18 with a 2-class fc (num_batches_tracked ignored), each with its shape and a float
// dtype -- or, when the metadata has a "head" {kind, pooling, positive} (model/export.py writes
// it for fast.ai learners and N-class models), the body plus that head's tensors (head.bn1 ->
// head.fc1 [-> ReLU -> head.bn2 -> head.fc2] [-> head.bn_final], BatchNorm1d and biases
// optional; or fc.* for a linear head), whose BatchNorm1d it folds into the neighbouring linear
// layer and records as a format version 2 header (FORMAT.md 2); folds every BatchNorm (eps 1e-5)
// into its convolution (w * gamma/sqrt(var+eps), bias = beta - mean * gamma/sqrt(var+eps), in
// double); transposes OIHW -> OHWI; packs with mc::conv_pack_f32; stores f32 or f16; writes the
// header (metadata + weights + provenance) and finally re-parses the result with the blob reader
// (full checks). Deterministic.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mc {
namespace convert {

constexpr const char* kConverterVersion = "malaria-convert 1";
constexpr double kBnEps = 1e-5;

struct Options {
  std::string dtype = "f32";             // f32 | f16 | int8 (int8: not supported yet)
  std::vector<std::string> calib_files;  // int8 calibration images (phase 2)
};

bool convert(const uint8_t* safetensors, size_t len, const nlohmann::json& meta, const Options& opt,
             std::vector<uint8_t>* out, std::string* err);

// BatchNorm folding of one convolution (exposed for tests). w_oihw: [O][I][kh][kw].
// Outputs OHWI weights and the bias. False if a value is non-finite or var + eps <= 0.
bool fold_bn(const std::vector<float>& w_oihw, int O, int I, int kh, int kw,
             const std::vector<float>& gamma, const std::vector<float>& beta,
             const std::vector<float>& mean, const std::vector<float>& var, double eps,
             std::vector<float>* w_ohwi, std::vector<float>* bias);

}  // namespace convert
}  // namespace mc
