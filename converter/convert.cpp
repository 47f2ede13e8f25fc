// convert.cpp -- see convert.h.
#include "convert.h"

#include <cmath>
#include <map>
#include <set>

#include "blob.h"
#include "ops/ops.h"
#include "safetensors.h"
#include "sha256.h"

namespace mc {
namespace convert {
namespace {

std::string shape_str_(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

struct Expected_ {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor of torchvision's resnet18(num_classes=2) state_dict, in a fixed order.
std::vector<Expected_> expected_tensors_() {
  std::vector<Expected_> e;
  for (const blob::ConvSpec& c : blob::resnet18_convs()) {
    e.push_back({std::string(c.torch_conv) + ".weight", {c.out_c, c.in_c, c.k, c.k}});
    for (const char* p : {".weight", ".bias", ".running_mean", ".running_var"})
      e.push_back({std::string(c.torch_bn) + p, {c.out_c}});
  }
  e.push_back({"fc.weight", {2, blob::kResnet18Features}});
  e.push_back({"fc.bias", {2}});
  return e;
}

bool is_bn_counter_(const std::string& name) {
  static const std::string suffix = ".num_batches_tracked";
  return name.size() > suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool fold_bn(const std::vector<float>& w, int O, int I, int kh, int kw,
             const std::vector<float>& gamma, const std::vector<float>& beta,
             const std::vector<float>& mean, const std::vector<float>& var, double eps,
             std::vector<float>* w_ohwi, std::vector<float>* bias) {
  const size_t per_o = size_t(I) * kh * kw;
  if (w.size() != size_t(O) * per_o || gamma.size() != size_t(O) || beta.size() != size_t(O) ||
      mean.size() != size_t(O) || var.size() != size_t(O))
    return false;
  w_ohwi->assign(w.size(), 0.0f);
  bias->assign(size_t(O), 0.0f);
  for (int o = 0; o < O; ++o) {
    const double v = double(var[o]) + eps;
    if (!(v > 0) || !std::isfinite(v)) return false;
    const double scale = double(gamma[o]) / std::sqrt(v);
    const double b = double(beta[o]) - double(mean[o]) * scale;
    if (!std::isfinite(scale) || !std::isfinite(b)) return false;
    (*bias)[o] = float(b);
    for (int i = 0; i < I; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x) {
          const double src = w[((size_t(o) * I + i) * kh + y) * kw + x];
          const double f = src * scale;
          if (!std::isfinite(f)) return false;
          (*w_ohwi)[((size_t(o) * kh + y) * kw + x) * I + i] = float(f);
        }
  }
  return true;
}

bool convert(const uint8_t* st, size_t len, const nlohmann::json& meta, const Options& opt,
             std::vector<uint8_t>* out, std::string* err) {
  auto fail = [&](const std::string& m) {
    if (err) *err = m;
    return false;
  };
  if (opt.dtype == "int8")
    return fail("--dtype int8 is not supported yet (phase 2: needs the int8 kernels); use f32 or f16");
  if (opt.dtype != "f32" && opt.dtype != "f16")
    return fail("unknown --dtype '" + opt.dtype + "' (expected f32, f16 or int8)");
  if (!meta.is_object()) return fail("metadata: not a JSON object");

  safetensors::File f;
  std::string serr;
  if (!safetensors::File::parse(st, len, &f, &serr)) return fail("weights: " + serr);

  // ---- every expected tensor present, with its shape and a float dtype; nothing else
  const std::vector<Expected_> expected = expected_tensors_();
  std::set<std::string> expected_names;
  std::vector<std::string> missing;
  for (const Expected_& e : expected) {
    expected_names.insert(e.name);
    const safetensors::Tensor* t = f.find(e.name);
    if (!t) { missing.push_back(e.name); continue; }
    if (t->dtype != safetensors::DType::F32 && t->dtype != safetensors::DType::F16)
      return fail("weights: tensor '" + e.name + "' has dtype " + safetensors::dtype_name(t->dtype) +
                  ", expected F32 or F16");
    if (t->shape != e.shape)
      return fail("weights: tensor '" + e.name + "' has shape " + shape_str_(t->shape) +
                  ", expected " + shape_str_(e.shape) + " (not a torchvision ResNet18 with 2 classes?)");
  }
  if (!missing.empty()) {
    std::string m = "weights: missing tensor" + std::string(missing.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < missing.size() && i < 5; ++i) m += (i ? ", '" : "'") + missing[i] + "'";
    if (missing.size() > 5) m += " and " + std::to_string(missing.size() - 5) + " more";
    return fail(m + " (not a torchvision ResNet18?)");
  }
  for (const safetensors::Tensor& t : f.tensors())
    if (!expected_names.count(t.name) && !is_bn_counter_(t.name))
      return fail("weights: unexpected tensor '" + t.name + "' (not part of a torchvision ResNet18)");

  auto get = [&](const std::string& name) { return safetensors::to_f32(*f.find(name)); };

  // ---- fold, transpose, pack
  const bool half = opt.dtype == "f16";
  std::vector<blob::TensorIn> tensors;
  for (const blob::ConvSpec& c : blob::resnet18_convs()) {
    const std::string bn = c.torch_bn;
    std::vector<float> w_ohwi, bias;
    if (!fold_bn(get(std::string(c.torch_conv) + ".weight"), c.out_c, c.in_c, c.k, c.k,
                 get(bn + ".weight"), get(bn + ".bias"), get(bn + ".running_mean"),
                 get(bn + ".running_var"), kBnEps, &w_ohwi, &bias))
      return fail("weights: cannot fold BatchNorm '" + bn + "' into '" + c.torch_conv +
                  "': non-finite values or running_var + eps <= 0");
    ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0};
    const size_t n = conv_packed_f32_size(s);
    if (n == 0) return fail(std::string("internal: ops rejected the shape of ") + c.name);
    std::vector<float> packed(n, 0.0f);
    conv_pack_f32(s, w_ohwi.data(), bias.data(), packed.data());
    nlohmann::json extra = {{"layout", "packed"},
                            {"logical_shape", {c.out_c, c.k, c.k, c.in_c}},
                            {"stride", c.stride},
                            {"pad", c.pad}};
    std::vector<int64_t> shape = {int64_t(n)};
    tensors.push_back(half ? blob::tensor_f16(c.name, shape, packed, extra)
                           : blob::tensor_f32(c.name, shape, packed, extra));
  }
  for (const char* name : {"fc.weight", "fc.bias"}) {
    std::vector<float> v = get(name);
    for (float x : v)
      if (!std::isfinite(x)) return fail(std::string("weights: tensor '") + name + "' holds non-finite values");
    const std::vector<int64_t>& shape = f.find(name)->shape;
    nlohmann::json extra = {{"layout", "row-major"}};
    tensors.push_back(half ? blob::tensor_f16(name, shape, v, extra)
                           : blob::tensor_f32(name, shape, v, extra));
  }

  // ---- header: the metadata as given, plus what the converter knows
  nlohmann::json h = meta;
  h.erase("tensors");
  if (!h.contains("provenance") || !h["provenance"].is_object()) h["provenance"] = nlohmann::json::object();
  if (!h.contains("metrics")) h["metrics"] = nlohmann::json::object();
  h["provenance"]["converter"] = kConverterVersion;
  h["provenance"]["source_sha256"] = sha256_hex(st, len);
  h["weights"] = {{"dtype", opt.dtype},
                  {"packed_layout", conv_packed_layout_name()},
                  {"bn_folded", true},
                  {"bn_eps", kBnEps}};
  std::string werr;
  std::vector<uint8_t> file = blob::write(h, tensors, &werr);
  if (file.empty()) return fail(werr);

  // ---- the reader must accept what we wrote (catches bad metadata with the reader's words)
  blob::Blob check;
  std::string perr;
  if (!blob::Blob::parse(file.data(), file.size(), &check, &perr))
    return fail("metadata: " + perr);
  *out = std::move(file);
  return true;
}

}  // namespace convert
}  // namespace mc
