// convert.cpp -- see convert.h.
#include "convert.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "blob.h"
#include "engine.h"
#include "image.h"
#include "ops/ops.h"
#include "ops/ops_qs8.h"
#include "resnet18.h"
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
  for (const resnet18::ConvSpec& c : resnet18::convs()) {
    e.push_back({std::string(c.torch_conv) + ".weight", {c.out_c, c.in_c, c.k, c.k}});
    for (const char* p : {".weight", ".bias", ".running_mean", ".running_var"})
      e.push_back({std::string(c.torch_bn) + p, {c.out_c}});
  }
  e.push_back({"fc.weight", {resnet18::kClasses, resnet18::kFeatures}});
  e.push_back({"fc.bias", {resnet18::kClasses}});
  return e;
}

bool is_bn_counter_(const std::string& name) {
  static const std::string suffix = ".num_batches_tracked";
  return name.size() > suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// .png / .jpg / .jpeg / .bmp (any case), not hidden: what is picked up from a folder.
bool is_image_name_(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  std::string ext = name.substr(
      name.find_last_of('.') == std::string::npos ? name.size() : name.find_last_of('.'));
  for (char& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The calibration files: every file named on the command line, and every image file (by
// extension) under a named folder, recursively; sorted, so that the result does not depend on
// the file system's order.
bool list_calibration_files_(const std::vector<std::string>& args, std::vector<std::string>* out,
                             std::string* err) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const std::string& a : args) {
    if (fs::is_directory(a, ec)) {
      for (fs::recursive_directory_iterator it(a, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && is_image_name_(it->path().filename().string()))
          out->push_back(it->path().string());
      if (ec) {
        *err = "calibration: cannot list " + a + ": " + ec.message();
        return false;
      }
    } else if (fs::is_regular_file(a, ec)) {
      out->push_back(a);
    } else {
      *err = "calibration: no such file or folder: " + a;
      return false;
    }
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return true;
}

// Per-conv output ranges of the f32 network over the calibration images (and the range of the
// network input, the input of conv1).
bool calibrate_(const std::vector<uint8_t>& f32_blob, const std::vector<std::string>& files,
                std::map<std::string, std::pair<float, float>>* out_range,
                std::pair<float, float>* input_range, size_t* used, std::string* err) {
  std::unique_ptr<Engine> e = Engine::create(f32_blob.data(), f32_blob.size(), err);
  if (!e) {
    *err = "calibration: the f32 engine rejected the model: " + *err;
    return false;
  }
  ActivationRanges ranges;
  ranges.attach(*e);
  *used = 0;
  for (const std::string& path : files) {
    std::vector<uint8_t> bytes;
    Image img;
    std::string ierr;
    if (!read_file_bytes(path, kMaxImageFileBytes, &bytes, &ierr) ||
        !decode_image(bytes.data(), bytes.size(), ImageLimits{}, &img, &ierr)) {
      *err = "calibration: " + path + ": " + ierr;
      return false;
    }
    Prediction p;
    if (!e->classify(img.pixels.data(), img.width, img.height, 3, &p, &ierr)) {
      *err = "calibration: " + path + ": " + ierr;
      return false;
    }
    ++*used;
  }
  ranges.detach(*e);
  for (const ActivationRanges::Layer& l : ranges.layers()) {
    (*out_range)[l.name] = {l.out_min, l.out_max};
    if (l.name == "conv1") *input_range = {l.in_min, l.in_max};
  }
  for (const resnet18::ConvSpec& c : resnet18::convs())
    if (!out_range->count(c.name)) {
      *err = std::string("calibration: the engine reported no activations for ") + c.name;
      return false;
    }
  return true;
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
  if (opt.dtype != "f32" && opt.dtype != "f16" && opt.dtype != "int8")
    return fail("unknown --dtype '" + opt.dtype + "' (expected f32, f16 or int8)");
  if (!meta.is_object()) return fail("metadata: not a JSON object");
  const bool int8 = opt.dtype == "int8";
  std::vector<std::string> calib;
  if (int8) {
    if (opt.calib_files.empty())
      return fail("--dtype int8 needs calibration images (--calib FOLDER_OR_FILES)");
    if (!list_calibration_files_(opt.calib_files, &calib, err)) return false;
    if (calib.empty()) return fail("calibration: no image files found");
  } else if (!opt.calib_files.empty()) {
    return fail("--calib is only used with --dtype int8");
  }

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
    if (!t) {
      missing.push_back(e.name);
      continue;
    }
    if (t->dtype != safetensors::DType::F32 && t->dtype != safetensors::DType::F16)
      return fail("weights: tensor '" + e.name + "' has dtype " +
                  safetensors::dtype_name(t->dtype) + ", expected F32 or F16");
    if (t->shape != e.shape)
      return fail("weights: tensor '" + e.name + "' has shape " + shape_str_(t->shape) +
                  ", expected " + shape_str_(e.shape) +
                  " (not a torchvision ResNet18 with 2 classes?)");
  }
  if (!missing.empty()) {
    std::string m = "weights: missing tensor" + std::string(missing.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < missing.size() && i < 5; ++i) m += (i ? ", '" : "'") + missing[i] + "'";
    if (missing.size() > 5) m += " and " + std::to_string(missing.size() - 5) + " more";
    return fail(m + " (not a torchvision ResNet18?)");
  }
  for (const safetensors::Tensor& t : f.tensors())
    if (!expected_names.count(t.name) && !is_bn_counter_(t.name))
      return fail("weights: unexpected tensor '" + t.name +
                  "' (not part of a torchvision ResNet18)");

  auto get = [&](const std::string& name) { return safetensors::to_f32(*f.find(name)); };

  // ---- fold, transpose, pack
  const bool half = opt.dtype == "f16";
  std::vector<blob::TensorIn> tensors;
  std::vector<std::vector<float>> folded_w, folded_b;  // int8: OHWI weights and bias per conv
  for (const resnet18::ConvSpec& c : resnet18::convs()) {
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
    if (int8) {
      folded_w.push_back(std::move(w_ohwi));
      folded_b.push_back(std::move(bias));
    }
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
      if (!std::isfinite(x))
        return fail(std::string("weights: tensor '") + name + "' holds non-finite values");
    const std::vector<int64_t>& shape = f.find(name)->shape;
    nlohmann::json extra = {{"layout", "row-major"}};
    tensors.push_back(half ? blob::tensor_f16(name, shape, v, extra)
                           : blob::tensor_f32(name, shape, v, extra));
  }

  // ---- header: the metadata as given, plus what the converter knows
  nlohmann::json h = meta;
  h.erase("tensors");
  if (!h.contains("provenance") || !h["provenance"].is_object())
    h["provenance"] = nlohmann::json::object();
  if (!h.contains("metrics")) h["metrics"] = nlohmann::json::object();
  h["provenance"]["converter"] = kConverterVersion;
  h["provenance"]["source_sha256"] = sha256_hex(st, len);
  h["weights"] = {{"dtype", int8 ? "f32" : opt.dtype},
                  {"packed_layout", conv_packed_layout_name()},
                  {"bn_folded", true},
                  {"bn_eps", kBnEps}};
  std::string werr;
  std::vector<uint8_t> file = blob::write(h, tensors, &werr);
  if (file.empty()) return fail(werr);

  if (int8) {
    // run the f32 network on the calibration images, then quantize every conv with the
    // ranges seen: activations asymmetric per tensor, weights symmetric per output channel
    std::map<std::string, std::pair<float, float>> ranges;
    std::pair<float, float> in_range;
    size_t used = 0;
    if (!calibrate_(file, calib, &ranges, &in_range, &used, err)) return false;
    const std::vector<resnet18::ConvSpec>& convs = resnet18::convs();
    const std::vector<int>& inputs = resnet18::conv_inputs();
    std::vector<QuantParams> out_q(convs.size());
    for (size_t i = 0; i < convs.size(); ++i)
      out_q[i] = choose_qs8_params(ranges[convs[i].name].first, ranges[convs[i].name].second);
    const QuantParams image_q = choose_qs8_params(in_range.first, in_range.second);
    std::vector<blob::TensorIn> qt;
    nlohmann::json act = nlohmann::json::object();
    for (size_t i = 0; i < convs.size(); ++i) {
      const resnet18::ConvSpec& c = convs[i];
      const QuantParams in_q = inputs[i] < 0 ? image_q : out_q[size_t(inputs[i])];
      if (!quant_params_valid(in_q) || !quant_params_valid(out_q[i]))
        return fail(std::string("calibration: invalid activation range for ") + c.name);
      ConvShape s{c.k, c.k, c.in_c, c.out_c, c.k, c.k, 1, 0};
      std::vector<int8_t> wq(folded_w[i].size());
      std::vector<float> ws(size_t(c.out_c));
      std::vector<int32_t> bq(size_t(c.out_c));
      quantize_conv_weights_qs8(s, folded_w[i].data(), folded_b[i].data(), in_q.scale, wq.data(),
                                ws.data(), bq.data());
      blob::TensorIn t;
      t.name = c.name;
      t.dtype = blob::DType::I8;
      t.bytes.assign(conv_packed_qs8_size(s), 0);
      t.shape = {int64_t(t.bytes.size())};
      conv_pack_qs8(s, wq.data(), ws.data(), bq.data(), in_q, out_q[i], t.bytes.data());
      t.extra = {{"layout", "packed-qs8"},
                 {"logical_shape", {c.out_c, c.k, c.k, c.in_c}},
                 {"stride", c.stride},
                 {"pad", c.pad}};
      act[c.name] = {{"input", {{"scale", in_q.scale}, {"zero_point", in_q.zero_point}}},
                     {"output", {{"scale", out_q[i].scale}, {"zero_point", out_q[i].zero_point}}}};
      qt.push_back(std::move(t));
    }
    for (size_t k = tensors.size() - 2; k < tensors.size(); ++k) {  // fc stays f32
      qt.push_back(tensors[k]);
    }
    h["weights"]["dtype"] = "int8";
    h["weights"]["packed_layout_int8"] = conv_packed_qs8_layout_name();
    h["weights"]["activation_quant"] = act;  // informative copy of the packed headers
    h["provenance"]["calibration_images"] = used;
    file = blob::write(h, qt, &werr);
    if (file.empty()) return fail(werr);
  }

  // ---- the reader must accept what we wrote (catches bad metadata with the reader's words)
  blob::Blob check;
  std::string perr;
  if (!blob::Blob::parse(file.data(), file.size(), &check, &perr)) return fail("metadata: " + perr);
  *out = std::move(file);
  return true;
}

}  // namespace convert
}  // namespace mc
