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

// Every tensor of the body of torchvision's resnet18 state_dict, in a fixed order.
std::vector<Expected_> expected_tensors_() {
  std::vector<Expected_> e;
  for (const resnet18::ConvSpec& c : resnet18::convs()) {
    e.push_back({std::string(c.torch_conv) + ".weight", {c.out_c, c.in_c, c.k, c.k}});
    for (const char* p : {".weight", ".bias", ".running_mean", ".running_var"})
      e.push_back({std::string(c.torch_bn) + p, {c.out_c}});
  }
  return e;
}

const char* const kBnParts_[4] = {".weight", ".bias", ".running_mean", ".running_var"};

// One linear layer of the head after folding: w [out][in] row-major, b [out].
struct Linear_ {
  int out = 0, in = 0;
  std::vector<float> w, b;
};

// y = W (BN(x)) + b with BN(x)_i = s_i x_i + t_i (s = gamma / sqrt(var + eps), t = beta - mean s)
// is W' x + b' with W'[o][i] = W[o][i] s_i, b'[o] = b[o] + sum_i W[o][i] t_i (in double).
// after: BN(W x + b) = W'' x + b'' with W''[o][i] = s_o W[o][i], b''[o] = s_o b[o] + t_o.
bool fold_bn1d_(Linear_* l, const std::vector<float>& gamma, const std::vector<float>& beta,
                const std::vector<float>& mean, const std::vector<float>& var, bool before) {
  const int n = before ? l->in : l->out;
  std::vector<double> sc(static_cast<size_t>(n)), sh(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double v = double(var[size_t(i)]) + kBnEps;
    if (!(v > 0) || !std::isfinite(v)) return false;
    sc[size_t(i)] = double(gamma[size_t(i)]) / std::sqrt(v);
    sh[size_t(i)] = double(beta[size_t(i)]) - double(mean[size_t(i)]) * sc[size_t(i)];
    if (!std::isfinite(sc[size_t(i)]) || !std::isfinite(sh[size_t(i)])) return false;
  }
  for (int o = 0; o < l->out; ++o) {
    float* row = l->w.data() + size_t(o) * size_t(l->in);
    double acc = l->b[size_t(o)];
    if (before) {
      for (int i = 0; i < l->in; ++i) {
        acc += double(row[i]) * sh[size_t(i)];
        row[i] = float(double(row[i]) * sc[size_t(i)]);
      }
    } else {
      for (int i = 0; i < l->in; ++i) row[i] = float(double(row[i]) * sc[size_t(o)]);
      acc = acc * sc[size_t(o)] + sh[size_t(o)];
    }
    l->b[size_t(o)] = float(acc);
    if (!std::isfinite(acc)) return false;
  }
  for (float x : l->w)
    if (!std::isfinite(x)) return false;
  return true;
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
  // f16 holds at most 65504: a folded value beyond it would be stored as infinity, a blob the
  // engine then refuses. Said here, with what to do.
  auto beyond_f16 = [&](const std::string& name, const std::vector<float>& v) {
    for (float x : v)
      if (std::fabs(x) > 65504.0f) {
        fail("weights: tensor '" + name + "' holds " + std::to_string(x) +
             " after BatchNorm folding, beyond f16's range (65504): convert it with --dtype f32 "
             "or int8");
        return true;
      }
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

  // ---- the head the metadata names (absent: torchvision's fc on the average pool)
  std::string head_kind = "linear", pooling = "avg";
  int positive = 1;
  const bool has_head = meta.contains("head");
  if (has_head) {
    const nlohmann::json& mh = meta["head"];
    if (!mh.is_object() || !mh.contains("kind") || !mh["kind"].is_string() ||
        !mh.contains("pooling") || !mh["pooling"].is_string() || !mh.contains("positive") ||
        !mh["positive"].is_number_integer() || mh["positive"].get<int64_t>() < 0)
      return fail(
          "metadata: 'head' must be an object with \"kind\" (\"linear\" or \"mlp\"), "
          "\"pooling\" (\"avg\" or \"concat-max-avg\") and \"positive\" (a label index)");
    head_kind = mh["kind"].get<std::string>();
    pooling = mh["pooling"].get<std::string>();
    if (head_kind != "linear" && head_kind != "mlp")
      return fail("metadata: head.kind '" + head_kind + "' is not \"linear\" or \"mlp\"");
    if (pooling != "avg" && pooling != "concat-max-avg")
      return fail("metadata: head.pooling '" + pooling + "' is not \"avg\" or \"concat-max-avg\"");
    positive = int(std::min<int64_t>(mh["positive"].get<int64_t>(), 1 << 20));
  }
  const bool mlp = head_kind == "mlp";
  const int64_t F = pooling == "avg" ? resnet18::kFeatures : 2 * resnet18::kFeatures;

  // ---- every expected tensor present, with its shape and a float dtype; nothing else
  std::vector<Expected_> expected = expected_tensors_();
  // the head's tensors: torchvision's fc, or the canonical names of model/export.py
  // (head.bn1 -> head.fc1 [-> ReLU -> head.bn2 -> head.fc2] [-> head.bn_final]; BatchNorm1d
  // and biases optional)
  std::vector<std::string> optional_names;
  auto opt_bn = [&](const std::string& bn, int64_t n) {
    for (const char* p : kBnParts_)
      if (f.find(bn + p)) {
        for (const char* q : kBnParts_) expected.push_back({bn + q, {n}});
        return;
      }
  };
  const bool torchvision_fc = !has_head || (!mlp && f.find("fc.weight"));
  int64_t H = 0, N = 0;
  if (torchvision_fc) {
    const safetensors::Tensor* w = f.find("fc.weight");
    N = !has_head ? resnet18::kClasses : w->shape.size() == 2 && w->shape[0] >= 1 ? w->shape[0] : 1;
    expected.push_back({"fc.weight", {N, F}});
    expected.push_back({"fc.bias", {N}});
  } else {
    const safetensors::Tensor* w1 = f.find("head.fc1.weight");
    const safetensors::Tensor* w2 = f.find("head.fc2.weight");
    int64_t rows1 = w1 && w1->shape.size() == 2 && w1->shape[0] >= 1 ? w1->shape[0] : 1;
    opt_bn("head.bn1", F);
    expected.push_back({"head.fc1.weight", {rows1, F}});
    if (f.find("head.fc1.bias")) expected.push_back({"head.fc1.bias", {rows1}});
    if (mlp) {
      H = rows1;
      N = w2 && w2->shape.size() == 2 && w2->shape[0] >= 1 ? w2->shape[0] : 1;
      opt_bn("head.bn2", H);
      expected.push_back({"head.fc2.weight", {N, H}});
      if (f.find("head.fc2.bias")) expected.push_back({"head.fc2.bias", {N}});
    } else {
      N = rows1;
    }
    opt_bn("head.bn_final", N);
  }
  std::set<std::string> expected_names;
  std::vector<std::string> missing;
  bool head_missing = false;
  for (const Expected_& e : expected) {
    expected_names.insert(e.name);
    if (!f.find(e.name)) {
      missing.push_back(e.name);
      head_missing = head_missing || e.name.compare(0, 5, "head.") == 0;
    }
  }
  if (!missing.empty()) {
    std::string m = "weights: missing tensor" + std::string(missing.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < missing.size() && i < 5; ++i) m += (i ? ", '" : "'") + missing[i] + "'";
    if (missing.size() > 5) m += " and " + std::to_string(missing.size() - 5) + " more";
    return fail(m + (has_head && head_missing
                         ? " (head \"" + head_kind + "\" with pooling \"" + pooling + "\")"
                         : std::string(" (not a torchvision ResNet18?)")));
  }
  for (const Expected_& e : expected) {
    const safetensors::Tensor* t = f.find(e.name);
    if (t->dtype != safetensors::DType::F32 && t->dtype != safetensors::DType::F16)
      return fail("weights: tensor '" + e.name + "' has dtype " +
                  safetensors::dtype_name(t->dtype) + ", expected F32 or F16");
    if (t->shape != e.shape)
      return fail("weights: tensor '" + e.name + "' has shape " + shape_str_(t->shape) +
                  ", expected " + shape_str_(e.shape) +
                  (!has_head ? std::string(" (not a torchvision ResNet18 with 2 classes?)")
                   : e.name.compare(0, 5, "head.") == 0 || e.name.compare(0, 3, "fc.") == 0
                       ? " (head \"" + head_kind + "\" with pooling \"" + pooling + "\")"
                       : std::string(" (not a torchvision ResNet18?)")));
  }
  for (const safetensors::Tensor& t : f.tensors())
    if (!expected_names.count(t.name) && !is_bn_counter_(t.name))
      return fail("weights: unexpected tensor '" + t.name +
                  (has_head ? "' (not part of a ResNet18 with head \"" + head_kind + "\")"
                            : std::string("' (not part of a torchvision ResNet18)")));
  {
    const size_t n_labels =
        meta.contains("labels") && meta["labels"].is_array() ? meta["labels"].size() : 0;
    if (n_labels != size_t(N))
      return fail("metadata: " + std::to_string(n_labels) + " labels for a head with " +
                  std::to_string(N) + " outputs (give one label per class)");
    if (positive >= N)
      return fail("metadata: head.positive " + std::to_string(positive) +
                  " is not a label index (0 to " + std::to_string(N - 1) + ")");
  }

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
    if (half && beyond_f16(c.name, packed)) return false;
    tensors.push_back(half ? blob::tensor_f16(c.name, shape, packed, extra)
                           : blob::tensor_f32(c.name, shape, packed, extra));
  }
  // ---- the head: BatchNorm1d folded into the neighbouring linear layers
  std::vector<Linear_> lin;
  auto load_linear = [&](const std::string& base) {
    Linear_ l;
    const safetensors::Tensor* w = f.find(base + ".weight");
    l.out = int(w->shape[0]);
    l.in = int(w->shape[1]);
    l.w = get(base + ".weight");
    l.b = f.find(base + ".bias") ? get(base + ".bias") : std::vector<float>(size_t(l.out), 0.0f);
    return l;
  };
  auto fold = [&](Linear_* l, const std::string& bn, bool before) {
    if (!f.find(bn + ".weight")) return true;
    return fold_bn1d_(l, get(bn + ".weight"), get(bn + ".bias"), get(bn + ".running_mean"),
                      get(bn + ".running_var"), before);
  };
  if (torchvision_fc) {
    lin.push_back(load_linear("fc"));
  } else {
    lin.push_back(load_linear("head.fc1"));
    if (!fold(&lin[0], "head.bn1", true))
      return fail(
          "weights: cannot fold BatchNorm1d 'head.bn1' into 'head.fc1': non-finite values "
          "or running_var + eps <= 0");
    if (mlp) {
      lin.push_back(load_linear("head.fc2"));
      if (!fold(&lin[1], "head.bn2", true))
        return fail(
            "weights: cannot fold BatchNorm1d 'head.bn2' into 'head.fc2': non-finite "
            "values or running_var + eps <= 0");
    }
    if (!fold(&lin.back(), "head.bn_final", false))
      return fail(
          "weights: cannot fold BatchNorm1d 'head.bn_final' into the last linear layer: "
          "non-finite values or running_var + eps <= 0");
  }
  const size_t head_tensors = 2 * lin.size();
  for (size_t k = 0; k < lin.size(); ++k) {
    const std::string wname = !mlp     ? resnet18::kFcWeight
                              : k == 0 ? resnet18::kHeadFc1Weight
                                       : resnet18::kHeadFc2Weight;
    const std::string bname = !mlp     ? resnet18::kFcBias
                              : k == 0 ? resnet18::kHeadFc1Bias
                                       : resnet18::kHeadFc2Bias;
    for (const std::vector<float>* v : {&lin[k].w, &lin[k].b})
      for (float x : *v)
        if (!std::isfinite(x))
          return fail("weights: the head's layer '" + wname.substr(0, wname.size() - 7) +
                      "' holds non-finite values");
    nlohmann::json extra = {{"layout", "row-major"}};
    const std::vector<int64_t> ws = {lin[k].out, lin[k].in}, bs = {lin[k].out};
    if (half && (beyond_f16(wname, lin[k].w) || beyond_f16(bname, lin[k].b))) return false;
    tensors.push_back(half ? blob::tensor_f16(wname, ws, lin[k].w, extra)
                           : blob::tensor_f32(wname, ws, lin[k].w, extra));
    tensors.push_back(half ? blob::tensor_f16(bname, bs, lin[k].b, extra)
                           : blob::tensor_f32(bname, bs, lin[k].b, extra));
  }

  // ---- header: the metadata as given, plus what the converter knows
  nlohmann::json h = meta;
  h.erase("tensors");
  if (!h.contains("provenance") || !h["provenance"].is_object())
    h["provenance"] = nlohmann::json::object();
  if (!h.contains("metrics")) h["metrics"] = nlohmann::json::object();
  if (has_head) {  // format version 2 (blob::write): the head with its layer sizes
    nlohmann::json sizes = mlp ? nlohmann::json{F, H, N} : nlohmann::json{F, N};
    h["head"] = {{"kind", head_kind},
                 {"pooling", pooling},
                 {"sizes", sizes},
                 {"positive", positive},
                 {"bn1d_folded", true}};
  }
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
    for (size_t k = tensors.size() - head_tensors; k < tensors.size(); ++k) {  // the head stays f32
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
