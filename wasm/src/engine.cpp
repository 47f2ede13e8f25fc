// engine.cpp -- ResNet18 graph over ops.h: load-time planning, forward(), CAM (see engine.h).
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "blob.h"
#include "fail.h"
#include "ops/conv_winograd_f32.h"
#include "ops/conv_winograd_qs8.h"
#include "ops/ops_qs8.h"
#include "resnet18.h"

namespace mc {

// ---------------------------------------------------------------------------------------------
// small helpers

namespace {

// overflow-checked size arithmetic: false on overflow
bool mul_ok_(size_t a, size_t b, size_t* out) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) return false;
  *out = a * b;
  return true;
}
bool add_ok_(size_t a, size_t b, size_t* out) {
  if (b > std::numeric_limits<size_t>::max() - a) return false;
  *out = a + b;
  return true;
}

// Copy a blob tensor to floats (f16 widened); false if it holds non-finite values.
bool widen_(const blob::Tensor& t, std::vector<float>* out, std::string* err) {
  out->resize(static_cast<size_t>(t.elements));
  if (t.dtype == blob::DType::F32) {
    std::memcpy(out->data(), t.data, static_cast<size_t>(t.elements) * sizeof(float));
  } else {
    for (size_t i = 0; i < out->size(); ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      (*out)[i] = blob::f16_to_f32(h);
    }
  }
  for (float v : *out) {
    if (!std::isfinite(v)) {
      return fail(
          err, [&] { return "tensor '" + t.name + "': contains a non-finite value (inf or nan)"; });
    }
  }
  return true;
}

// Most bytes of activation buffers a batch may take (an int8 engine's batch capacity is lowered
// for large input sizes so that its buffers stay below this).
constexpr size_t kBatchBytes_ = size_t{256} << 20;

// f32 convolutions that run as Winograd F(m x m, 3x3) instead of the direct igemm (returns m,
// 0 = direct): 3x3 stride 1 pad 1, F(4x4) from an 8x8 output, F(2x2) from a 4x4 one. On smaller
// outputs too few tiles share the (m+2)^2 transformed weight matrices to pay for reading them
// (bench/native/bench_kernels.cpp times each form on the ResNet18 layers).
int f32_winograd_tile_(const ConvShape& s) {
  if (!conv_winograd_f32_applicable(s, 2)) return 0;
  if (s.out_h() >= 8 && s.out_w() >= 8) return 4;
  if (s.out_h() >= 4 && s.out_w() >= 4) return 2;
  return 0;
}

// int8 convolutions that run as the exact Winograd F(2x2, 3x3) (conv_winograd_qs8.h) instead of
// the a16 igemm: 3x3 stride 1 pad 1 with at least 4 output tiles (one full 4-row GEMM tile).
// layer4's 2x2 outputs are one tile per image: for one image the 16 transformed weight matrices
// cost more than the direct conv (per-layer times: BENCHMARKS.md, "int8 Winograd F(2x2, 3x3),
// exact").
bool qs8_runs_winograd_(const ConvShape& s) {
  return conv_winograd_qs8_applicable(s) && s.out_h() >= 4 && s.out_w() >= 4;
}

// Passes of this many images or more run layer4's 3x3 convs (2x2 outputs) as the Winograd
// transform too: the pass's n tiles share each transformed weight matrix (8 MiB of int16 per
// conv, made at the first batch). Else they run direct, each pixel skipping the taps in the
// padding (conv_run_qs8_a16_tapmask: 16 of 36 products). Natively (SSE4.1) Winograd is 5-6 %
// faster from 4 images on; in wasm (V8) the direct run is as fast at 8 images and 5-8 % faster
// at 3-6 (BENCHMARKS.md, "layer4: the padding's taps skipped"), so the web build never makes
// the Winograd form: 24 MiB less memory per engine.
#ifdef __EMSCRIPTEN__
constexpr int kWinogradBatchMin_ = 1 << 30;
#else
constexpr int kWinogradBatchMin_ = 3;
#endif

using resnet18::kFeatures;
using resnet18::kPoolPad;
using resnet18::kPoolSize;
using resnet18::kPoolStride;
using resnet18::kStemChannels;

// The max half of fast.ai's concat pooling: per channel, the largest of hw NHWC values.
void global_maxpool_f32_(int hw, int c, const float* in, float* out) {
  std::memcpy(out, in, static_cast<size_t>(c) * sizeof(float));
  for (int p = 1; p < hw; ++p) {
    const float* row = in + static_cast<size_t>(p) * c;
    for (int k = 0; k < c; ++k) out[k] = std::max(out[k], row[k]);
  }
}

// The same on int8 values, dequantized (real = scale * (q - zero_point) is increasing in q).
void global_maxpool_qs8_f32_(int hw, int c, const int8_t* in, QuantParams q, float* out) {
  for (int k = 0; k < c; ++k) {
    int m = in[k];
    for (int p = 1; p < hw; ++p)
      m = std::max(m, static_cast<int>(in[static_cast<size_t>(p) * c + k]));
    out[k] = q.scale * static_cast<float>(m - q.zero_point);
  }
}

}  // namespace

const char* label_name(int label) {
  return label == kLabelParasitized ? "Parasitized" : "Uninfected";
}

const char* band_name(int band) {
  switch (band) {
    case kBandParasitized: return "parasitized";
    case kBandUncertain: return "uncertain";
    default: return "uninfected";
  }
}

float calibrated_p(const float logits[2], float temperature) {
  const double z = (static_cast<double>(logits[1]) - logits[0]) / temperature;
  if (z >= 0) return static_cast<float>(1.0 / (1.0 + std::exp(-z)));
  const double e = std::exp(z);
  return static_cast<float>(e / (1.0 + e));
}

float calibrated_p_n(const float* logits, int n, int positive, float temperature) {
  double m = logits[0];
  for (int j = 1; j < n; ++j) m = std::max(m, static_cast<double>(logits[j]));
  double sum = 0;
  for (int j = 0; j < n; ++j) sum += std::exp((logits[j] - m) / temperature);
  return static_cast<float>(std::exp((logits[positive] - m) / temperature) / sum);
}

int band_of(float p, float lo, float hi) {
  if (p <= lo) return kBandUninfected;
  if (p >= hi) return kBandParasitized;
  return kBandUncertain;
}

// ---------------------------------------------------------------------------------------------
// the graph

// How a convolution runs (chosen by plan()).
enum class ConvForm_ : uint8_t {
  Rows,      // the stem: the row form over a pre-padded copy of its input (conv_rows_*, ops.h)
  Direct,    // igemm over an indirection buffer (int8: over an int16 copy of its input, a16)
  Winograd,  // f32: F(m x m, 3x3); int8: the exact F(2x2, 3x3) (ops/conv_winograd_*.h)
};

// One convolution: its entry in the topology table, how it runs, and for the engine's dtype its
// weights, activations and indirection. The pointers point into the engine's buffers and stay
// valid until the next plan().
struct Conv_ {
  const resnet18::ConvSpec* spec = nullptr;
  ConvShape shape{};  // of one image; in_h and in_w set by plan()
  ConvForm_ form = ConvForm_::Direct;
  const char* name() const { return spec->name; }
  bool relu() const { return spec->relu; }

  struct F32 {                              // f32 and f16 engines
    std::vector<float> packed;              // Rows, Direct: conv_pack_f32 layout, bias inside
    int winograd_tile = 0;                  // Winograd: the output tile m of F(m x m, 3x3)
    std::vector<float> packed_winograd;     // Winograd: conv_winograd_f32_pack_from_igemm's
    std::vector<const float*> indirection;  // into the arena (Winograd: tiles and GEMM rows)
    const float* in = nullptr;
    float* out = nullptr;
    const float* residual = nullptr;     // added before the ReLU (conv2), or null
    size_t in_count = 0, out_count = 0;  // values of one image (observer)
  } f32;

  struct Qs8 {                            // int8 engines
    QuantParams in_q{1, 0}, out_q{1, 0};  // from the packed header
    QuantParams residual_q{1, 0};         // of `residual`
    // `weights` is what the run reads: the stored conv_pack_qs8 layout (in the adopted blob, or
    // copied into `owned`) or the form made from it once, in `owned`: the stem's row form, the
    // w16 form (conv_qs8_a16_prefers_w16) or the Winograd form
    const uint8_t* weights = nullptr;
    std::vector<uint8_t> owned;
    bool weights_made = false;  // `weights` is a made form
    bool w16 = false;           // Rows, Direct: the weights are in the w16 form
    // layer4's 3x3 convs (one Winograd tile per image) run Direct in passes of one or two
    // images and the exact Winograd form in passes of kWinogradBatchMin_ or more
    bool winograd_batched = false;
    std::vector<uint8_t> winograd_batched_weights;
    // Direct convs with a 2x2 output (layer4): each pixel skips the taps in the padding
    // (conv_run_qs8_a16_tapmask), starting from these accumulators; empty: not such a conv
    std::vector<int32_t> tapmask_init;
    const int8_t* in = nullptr;  // in the int8 arena
    int8_t* out = nullptr;
    const int8_t* residual = nullptr;
    size_t in_count = 0;                        // Direct: values of one image widened per run
    std::vector<int16_t> zero16;                // Direct: in_c x the input zero point (padding)
    std::vector<const int16_t*> indirection16;  // Rows, Direct: into the int16 copy of the input
    std::vector<int8_t> zero8;                  // Winograd: in_c x the input zero point
    std::vector<const int8_t*> indirection_winograd;  // Winograd: input tiles (int8 arena)
  } q;
};

struct Block_ {
  Conv_* conv1 = nullptr;
  Conv_* conv2 = nullptr;
  Conv_* down = nullptr;  // null: identity shortcut
};

// Where a convolution reads, writes and adds: one of the 4 rotating activation buffers, or
// kImageBuf_ (the network input) / kNoBuf_ (no residual).
struct Wire_ {
  Conv_* conv;
  int in, out, residual;
};
constexpr int kImageBuf_ = -1, kNoBuf_ = -2;
constexpr int kPoolInBuf_ = 0, kPoolOutBuf_ = 1;  // the max pool: the stem's output -> block 0

// A tiny arena: slots reserved one after another, each 64-byte aligned, then one zero-filled
// allocation that holds them all.
template <typename T>
class Arena_ {
 public:
  static constexpr size_t kAlign = 64 / sizeof(T);  // values per 64 bytes
  // Reserves n values; returns the slot's offset. overflowed() tells whether the sizes overflowed.
  size_t reserve(size_t n) {
    const size_t at = size_;
    size_t padded;
    if (!add_ok_(n, kAlign - 1, &padded) || !add_ok_(size_, padded / kAlign * kAlign, &size_))
      overflowed_ = true;
    return at;
  }
  bool overflowed() const { return overflowed_; }
  size_t size() const { return size_; }
  // (Re)allocates *storage for every slot; returns the aligned base the offsets are from.
  T* allocate(std::vector<T>* storage) const {
    storage->assign(size_ + kAlign, T(0));
    T* base = storage->data();
    while (reinterpret_cast<uintptr_t>(base) % 64 != 0) ++base;
    return base;
  }

 private:
  size_t size_ = 0;
  bool overflowed_ = false;
};

// The observer's layer indices (LayerActivations::index): the stem, the max pool, the other 19
// convolutions in run order, the average pool, the fc.
constexpr int kLayerMaxpool_ = 1;
constexpr int kLayerAvgpool_ = kLayerMaxpool_ + resnet18::kConvs;
constexpr int kLayerFc_ = kLayerAvgpool_ + 1;

struct Engine::Impl_ {
  struct FreeDeleter_ {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter_> blob_owned;  // create_adopt: the blob, kept
  Isa isa = Isa::Scalar;
  std::string metadata;
  std::string dtype;
  bool int8 = false;
  int S = 0;
  float temperature = 1, band_lo = 0.5f, band_hi = 0.5f;
  Preprocessor pre;
  // images one pass can take: 1 as loaded (the first result is not delayed by buffers it does
  // not need); an int8 engine grows to kMaxBatch at its first batch (plan(err, kMaxBatch),
  // once). Every buffer below that holds an activation has room for that many, image after
  // image; a pass over k <= batch images runs every op once with ConvShape::n = k, so that each
  // weight panel is read once for all of them.
  int batch = 1;
  int batch_cap = 1;     // what it may grow to: kMaxBatch, fewer where one
                         // image's buffers are large (kBatchBytes_)
  bool planned = false;  // plan() ran once (batch_cap set)
  // staged (create_adopt(..., staged = true), int8): the convolutions that have a Winograd form
  // run the direct a16 form on the stored weights (no transform, ~8 MB less to allocate and
  // touch) until finish(), which makes the Winograd weights and plans again: the first result
  // comes sooner, and every result is the same either way (the int8 Winograd is exact); the
  // tables of layer4's padding (conv_qs8_a16_tapmask_setup, ~1 ms a conv natively) wait too
  bool defer_winograd = false;

  // the graph (wire_graph_(), once)
  std::vector<Conv_> convs;  // blob order (resnet18::convs())
  Conv_* stem = nullptr;
  Block_ blocks[resnet18::kBlocks];  // each runs downsample, conv1, conv2
  std::vector<Wire_> wires;          // every conv in run order, with its buffers

  // shapes (plan_shapes_())
  int pool_in_h = 0, pool_in_w = 0, pool_out_h = 0, pool_out_w = 0;  // the max pool
  int feat_h = 0, feat_w = 0;  // last conv features f4: feat_h x feat_w x 512
  size_t max_activation = 0;   // values of the largest activation of one image
  int features_buf = 0;        // the rotating buffer that holds f4

  // head (blob::Head): pooling [avg] or [max, avg] -> fc, or fc1 -> ReLU -> fc2
  blob::Head head;
  std::vector<std::string> labels;
  std::vector<float> fc_w, fc_b;    // linear: [N][F], [N]; mlp: fc1 [H][F], [H]
  std::vector<float> fc2_w, fc2_b;  // mlp: [N][H], [N]
  std::vector<float> hidden;        // mlp: the H values between fc1 and fc2 (head_())
  std::vector<float> class_logits;  // N per image of a batch (kMaxBatch), of the last pass
  bool has_cam = false;             // a linear head over the average pool only
  std::vector<float> cam_w;         // w[positive] - (mean of) w[others]

  // CAM upsampling tables (half-pixel centers), per output row/col: i0, i1, frac
  std::vector<int> up_y0, up_y1, up_x0, up_x1;
  std::vector<float> up_fy, up_fx;

  // the f32 arena (plan_arena_f32_(); an int8 engine's holds no activations of the convs)
  std::vector<float> arena;
  float* x = nullptr;                                     // S*S*3 network input
  float* bufs[4] = {nullptr, nullptr, nullptr, nullptr};  // the rotating activation buffers
  float* zero = nullptr;                                  // 512 zeros (padding taps)
  float* pooled = nullptr;                                // F (512 or 1024) per image
  float* cam_grid = nullptr;                              // feat_h*feat_w per image
  float* cam = nullptr;                                   // S*S per image
  float* winograd_scratch = nullptr;  // Winograd transforms, shared by those convs
  const float* pool_in = nullptr;
  float* pool_out = nullptr;
  const float* features = nullptr;
  std::vector<float> stem_input;    // the stem's input, pre-padded (border 0)
  size_t indirection_pointers = 0;  // of every conv, for arena_bytes()

  // int8 engines: the int8 arena (plan_arena_q_(): the stem's input | 4 rotating buffers)
  std::vector<int8_t> arena_q;
  int8_t* stem_input_q = nullptr;  // pre-padded (border and slack: its zero point)
  int8_t* bufs_q[4] = {nullptr, nullptr, nullptr, nullptr};
  const int8_t* features_q = nullptr;
  QuantParams features_q_params{1, 0};
  std::vector<int16_t> input16;  // the int16 copy of the running Direct conv's input
  // the stem's input as int16, pre-padded like stem_input_q, for every image of a batch: from
  // the f32 input via stem_input_q (forward), or from the resized bytes by stem_input_lut
  std::vector<int16_t> stem_input16;
  int16_t stem_input_lut[3 * 256] = {};     // byte v of channel c -> quantized normalized value
  std::vector<uint8_t> winograd_scratch_q;  // int8 Winograd transforms, shared by those convs
  size_t winograd_scratch_q_one_image = 0;  // the largest of one image, deferred or not

  LayerObserver observer = nullptr;
  void* observer_ctx = nullptr;

  bool load(const uint8_t* data, size_t len, Isa isa_, const ImageLimits& lim,
            const uint8_t* payload_sha256, std::string* err);
  bool plan(std::string* err, int batch_size = 1);
  ConvShape batched_(ConvShape s, int n = 0) const {  // the shape of a pass over n (batch) images
    s.n = n > 0 ? n : batch;
    return s;
  }
  void forward(const float* input, Prediction* out);
  void input_rgb_qs8_(int slot, const uint8_t* rgb);
  void forward_qs8_(int k);
  void head_(int slot, Prediction* out);

 private:
  // load()
  bool wire_graph_(std::string* err);
  // plan(), in this order
  bool plan_shapes_(std::string* err);
  void choose_forms_();
  bool plan_arena_f32_(std::string* err);
  void point_convs_f32_();
  bool plan_arena_q_(std::string* err);
  bool point_convs_q_(std::string* err);
  void plan_int16_inputs_q_();
  bool make_weights_q_(Conv_& c, std::string* err);
  void setup_indirection_q_(Conv_& c);
  bool make_weights_f32_(Conv_& c, std::string* err);
  void setup_indirection_f32_(Conv_& c);
  void plan_cam_tables_();
  void set_batch_capacity_();

  void forward_f32_();
  void run_conv_(int index, const Conv_& c);
  void observe_(int index, const char* name, const float* in, size_t n_in, const float* out,
                size_t n_out);
  void cam_(int slot);
};

bool Engine::Impl_::load(const uint8_t* data, size_t len, Isa isa_, const ImageLimits& lim,
                         const uint8_t* payload_sha256, std::string* err) {
  isa = isa_;
  blob::Blob b;
  std::string perr;
  blob::ParseOptions popt;
  popt.check_model = true;   // every tensor of resnet18.h, as this graph reads it
  popt.check_layout = true;  // packed by the kernels of this build
  popt.payload_sha256 = payload_sha256;
  if (!blob::Blob::parse(data, len, &b, &perr, popt)) {
    return fail(err, perr);
  }
  // the blob reader validated the structure; the checks below are what this graph relies on
  if (b.architecture() != "resnet18") {
    return fail(err, [&] { return "unsupported architecture '" + b.architecture() + "'"; });
  }
  // the head and the labels: validated by the reader (a version 1 blob: fc over the average
  // pool, 2 labels, labels[1] parasitized)
  head = b.head();
  labels = b.labels();
  const blob::InputSpec& in = b.input();
  if (in.resize_filter != "area-int") {
    return fail(err, [&] {
      return "input.resize_filter '" + in.resize_filter + "' is not supported (need 'area-int')";
    });
  }
  if (in.channel_order != "RGB") {
    return fail(err, [&] {
      return "input.channel_order '" + in.channel_order + "' is not supported (need 'RGB')";
    });
  }
  if (in.size < 8 || in.size > 1024) {
    return fail(err, [&] {
      return "input.size " + std::to_string(in.size) + " is out of range [8, 1024]";
    });
  }
  const blob::Calibration& cal = b.calibration();
  if (!(cal.temperature > 0) || !std::isfinite(cal.temperature) || !(cal.band_lo >= 0) ||
      !(cal.band_lo <= cal.band_hi) || !(cal.band_hi <= 1)) {
    return fail(err, "calibration: need temperature > 0 and 0 <= band lo <= hi <= 1");
  }
  S = in.size;
  temperature = cal.temperature;
  band_lo = cal.band_lo;
  band_hi = cal.band_hi;
  dtype = b.weight_dtype();
  int8 = dtype == "int8";
  if (dtype != "f32" && dtype != "f16" && !int8) {
    return fail(err,
                [&] { return "weight dtype '" + dtype + "' is not supported by this engine"; });
  }
  if (!pre.init(S, in.mean, in.std, lim, err)) return false;
  metadata = b.header_text();

  // convolutions, in blob order: Blob::parse (check_model, check_layout) checked each one's
  // dtype, logical shape, stride, pad and stored size against resnet18::convs()
  const std::vector<resnet18::ConvSpec>& specs = resnet18::convs();
  convs.resize(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const resnet18::ConvSpec& sp = specs[i];
    const blob::Tensor* t = b.find(sp.name);
    if (!t) {
      return fail(err, [&] {
        return std::string("missing tensor '") + sp.name + "' required by resnet18";
      });
    }
    Conv_& c = convs[i];
    c.spec = &sp;
    // in_h/in_w are set by plan(); the packed size does not depend on them
    c.shape = ConvShape{sp.k, sp.k, sp.in_c, sp.out_c, sp.k, sp.k, sp.stride, sp.pad};
    if (int8) {
      if (blob_owned) {  // the engine owns the blob: read the stored weights in place
        c.q.weights = t->data;
      } else {
        c.q.owned.assign(t->data, t->data + t->bytes);
        c.q.weights = c.q.owned.data();
      }
      c.q.in_q = conv_packed_qs8_input_params(c.q.weights);
      c.q.out_q = conv_packed_qs8_output_params(c.q.weights);
    } else if (!widen_(*t, &c.f32.packed, err)) {
      return false;
    }
  }

  const char* names[4] = {resnet18::kFcWeight, resnet18::kFcBias, nullptr, nullptr};
  if (head.mlp) {
    names[0] = resnet18::kHeadFc1Weight;
    names[1] = resnet18::kHeadFc1Bias;
    names[2] = resnet18::kHeadFc2Weight;
    names[3] = resnet18::kHeadFc2Bias;
  }
  std::vector<float>* dst[4] = {&fc_w, &fc_b, &fc2_w, &fc2_b};
  for (int k = 0; k < 4 && names[k]; ++k) {
    const blob::Tensor* t = b.find(names[k]);
    if (!t) {
      return fail(err, [&] {
        return std::string("missing tensor '") + names[k] + "' required by resnet18";
      });
    }
    if (!widen_(*t, dst[k], err)) return false;
  }
  hidden.assign(static_cast<size_t>(head.hidden), 0.0f);
  class_logits.assign(static_cast<size_t>(head.classes) * kMaxBatch, 0.0f);
  // the CAM is the positive class's evidence minus the others' of a linear head on the average
  // pool; other heads have none (cam() returns null)
  has_cam = !head.mlp && !head.concat_pool;
  if (has_cam) {
    const int C = kFeatures, N = head.classes, pos = head.positive;
    cam_w.assign(C, 0.0f);
    for (int c = 0; c < C; ++c) {
      float others = 0;
      for (int j = 0; j < N; ++j)
        if (j != pos) others += fc_w[static_cast<size_t>(j) * C + c];
      cam_w[c] = fc_w[static_cast<size_t>(pos) * C + c] - others / static_cast<float>(N - 1);
    }
  }
  if (!wire_graph_(err)) return false;
  return plan(err);
}

// The graph from the topology table, once: the stem and the blocks, and each conv's buffers.
// Each activation of resnet18.h lives in one of the 4 rotating buffers: the stem writes B0 and
// the max pool B0 -> B1 (block 0's input); in a block, its input, conv1's output, its output and
// the shortcut are four distinct buffers, and its output is the next block's input.
bool Engine::Impl_::wire_graph_(std::string* err) {
  using resnet18::Act;
  using resnet18::Role;
  for (Conv_& cv : convs) {
    const resnet18::ConvSpec& sp = *cv.spec;
    if (sp.role == Role::Stem) {
      stem = &cv;
      continue;
    }
    Block_& bl = blocks[sp.block_index()];
    (sp.role == Role::Conv1 ? bl.conv1 : sp.role == Role::Conv2 ? bl.conv2 : bl.down) = &cv;
  }
  for (const Block_& bl : blocks) {
    if (!stem || !bl.conv1 || !bl.conv2) {
      return fail(err, "internal: incomplete resnet18 block list");
    }
  }
  int buf_of[int(Act::BlockOut) + 1];  // per activation: its buffer
  buf_of[int(Act::None)] = kNoBuf_;
  buf_of[int(Act::Image)] = kImageBuf_;
  buf_of[int(Act::Stem)] = kPoolInBuf_;
  buf_of[int(Act::BlockIn)] = kPoolOutBuf_;
  auto wire = [&](Conv_* cv) {
    const resnet18::ConvSpec& sp = *cv->spec;
    wires.push_back({cv, buf_of[int(sp.in)], buf_of[int(sp.out)], buf_of[int(sp.residual)]});
  };
  wires.clear();
  wire(stem);
  for (Block_& bl : blocks) {
    int free_[3], nf = 0;
    for (int i = 0; i < 4; ++i)
      if (i != buf_of[int(Act::BlockIn)]) free_[nf++] = i;
    buf_of[int(Act::Mid)] = free_[0];
    buf_of[int(Act::BlockOut)] = free_[1];
    buf_of[int(Act::Shortcut)] = free_[2];
    for (Conv_* cv : {bl.down, bl.conv1, bl.conv2})
      if (cv) wire(cv);
    buf_of[int(Act::BlockIn)] = buf_of[int(Act::BlockOut)];
  }
  features_buf = buf_of[int(Act::BlockIn)];  // the last block's output
  return true;
}

// Everything inference needs for batch_size images (int8; f32/f16 engines take one): the
// shapes, the weights in the forms the run uses (made once), every buffer and indirection.
// Called again (int8) to grow the batch, and by finish().
bool Engine::Impl_::plan(std::string* err, int batch_size) {
  batch = int8 ? batch_size : 1;
  if (!plan_shapes_(err)) return false;
  choose_forms_();
  if (!plan_arena_f32_(err)) return false;
  point_convs_f32_();
  if (int8) {
    if (!plan_arena_q_(err) || !point_convs_q_(err)) return false;
    plan_int16_inputs_q_();
    for (const Wire_& w : wires) {
      if (!make_weights_q_(*w.conv, err)) return false;
      setup_indirection_q_(*w.conv);
    }
  } else {
    for (Conv_& cv : convs) {
      if (!make_weights_f32_(cv, err)) return false;
      setup_indirection_f32_(cv);
    }
  }
  indirection_pointers = 0;
  for (const Conv_& cv : convs) {
    const size_t n =
        cv.f32.indirection.size() + cv.q.indirection16.size() + cv.q.indirection_winograd.size();
    if (!add_ok_(indirection_pointers, n, &indirection_pointers)) {
      return fail(err, "indirection size overflows");
    }
  }
  plan_cam_tables_();
  if (int8 && !planned) set_batch_capacity_();
  planned = true;
  return true;
}

// Every conv's input size from S (stem, max pool, blocks), the features' size and the largest
// activation of one image.
bool Engine::Impl_::plan_shapes_(std::string* err) {
  stem->shape.in_h = stem->shape.in_w = S;
  pool_in_h = stem->shape.out_h();
  pool_in_w = stem->shape.out_w();
  pool_out_h = (pool_in_h + 2 * kPoolPad - kPoolSize) / kPoolStride + 1;
  pool_out_w = (pool_in_w + 2 * kPoolPad - kPoolSize) / kPoolStride + 1;
  int h = pool_out_h, w = pool_out_w, c = kStemChannels;
  max_activation = static_cast<size_t>(pool_in_h) * pool_in_w * kStemChannels;
  for (Block_& bl : blocks) {
    for (Conv_* cv : {bl.down, bl.conv1}) {
      if (!cv) continue;
      cv->shape.in_h = h;
      cv->shape.in_w = w;
      if (cv->shape.in_c != c) {
        return fail(err, [&] {
          return std::string("tensor '") + cv->name() + "': input channels do not chain";
        });
      }
    }
    bl.conv2->shape.in_h = bl.conv1->shape.out_h();
    bl.conv2->shape.in_w = bl.conv1->shape.out_w();
    h = bl.conv2->shape.out_h();
    w = bl.conv2->shape.out_w();
    c = bl.conv2->shape.out_c;
    if (h < 1 || w < 1) {
      return fail(err,
                  [&] { return "input size " + std::to_string(S) + " is too small for resnet18"; });
    }
    if (bl.down && (bl.down->shape.out_h() != h || bl.down->shape.out_w() != w)) {
      return fail(err, [&] {
        return std::string("tensor '") + bl.down->name() + "': shortcut shape does not match";
      });
    }
    for (Conv_* cv : {bl.down, bl.conv1, bl.conv2}) {
      if (!cv) continue;
      size_t n;
      if (!mul_ok_(static_cast<size_t>(cv->shape.out_h()) * cv->shape.out_w(), cv->shape.out_c,
                   &n)) {
        return fail(err, "activation size overflows");
      }
      max_activation = std::max(max_activation, n);
    }
  }
  if (c != kFeatures) {
    return fail(
        err, [&] { return "last stage has " + std::to_string(c) + " channels, fc expects 512"; });
  }
  feat_h = h;
  feat_w = w;
  for (Conv_& cv : convs) {
    cv.f32.in_count = static_cast<size_t>(cv.shape.in_h) * cv.shape.in_w * cv.shape.in_c;
    cv.f32.out_count = static_cast<size_t>(cv.shape.out_h()) * cv.shape.out_w() * cv.shape.out_c;
  }
  return true;
}

// How each conv runs: the stem in the row form; f32 the Winograd F(m x m) where it pays; int8
// the exact Winograd where it pays (unless deferred), else Direct, with w16 weights where those
// pay, and layer4's Winograd form for passes of kWinogradBatchMin_ or more.
void Engine::Impl_::choose_forms_() {
  for (Conv_& cv : convs) {
    const bool is_stem = &cv == stem;
    if (!int8) {
      cv.f32.winograd_tile = is_stem ? 0 : f32_winograd_tile_(cv.shape);
      cv.form = is_stem                ? ConvForm_::Rows
                : cv.f32.winograd_tile ? ConvForm_::Winograd
                                       : ConvForm_::Direct;
      continue;
    }
    const bool winograd = qs8_runs_winograd_(cv.shape);  // the form it has once not deferred
    cv.form = is_stem                       ? ConvForm_::Rows
              : winograd && !defer_winograd ? ConvForm_::Winograd
                                            : ConvForm_::Direct;
    // a conv waiting for its Winograd form runs the stored weights as they are meanwhile
    cv.q.w16 = !winograd && conv_qs8_a16_prefers_w16(cv.shape);
    cv.q.winograd_batched = !is_stem && cv.form == ConvForm_::Direct && !defer_winograd &&
                            batch >= kWinogradBatchMin_ && conv_winograd_qs8_applicable(cv.shape);
  }
}

// The f32 arena, one slot per buffer: the input x | 4 rotating buffers | zero | pooled |
// cam_grid | cam | Winograd scratch (pooled, cam_grid and cam: one per image of a batch). An
// int8 engine's rotating buffers are empty: its activations live in the int8 arena.
bool Engine::Impl_::plan_arena_f32_(std::string* err) {
  const size_t SS = static_cast<size_t>(S) * S, nimg = static_cast<size_t>(batch);
  size_t scratch = 0;
  for (const Conv_& cv : convs)
    if (cv.f32.winograd_tile)
      scratch = std::max(scratch, conv_winograd_f32_scratch_size(cv.shape, cv.f32.winograd_tile));
  const size_t act = int8 ? 0 : max_activation;
  Arena_<float> a;
  const size_t x_at = a.reserve(SS * 3);
  size_t bufs_at[4];
  for (size_t& at : bufs_at) at = a.reserve(act);
  const size_t zero_at = a.reserve(kFeatures);
  const size_t pooled_at = a.reserve(static_cast<size_t>(head.features) * nimg);
  const size_t cam_grid_at = a.reserve(static_cast<size_t>(feat_h) * feat_w * nimg);
  const size_t cam_at = a.reserve(SS * nimg);
  const size_t scratch_at = a.reserve(scratch);
  if (a.overflowed()) {
    return fail(err, "arena size overflows");
  }
  size_t bytes;
  if (!mul_ok_(a.size(), sizeof(float), &bytes) || bytes > (size_t{1} << 30)) {
    return fail(err, "activation arena would exceed 1 GiB (input size too large)");
  }
  float* base = a.allocate(&arena);
  x = base + x_at;
  for (int i = 0; i < 4; ++i) bufs[i] = base + bufs_at[i];
  zero = base + zero_at;
  pooled = base + pooled_at;
  cam_grid = base + cam_grid_at;
  cam = base + cam_at;
  winograd_scratch = base + scratch_at;
  return true;
}

// Each conv's input, output and residual in the f32 arena, by its wire.
void Engine::Impl_::point_convs_f32_() {
  for (const Wire_& w : wires) {
    Conv_::F32& f = w.conv->f32;
    f.in = w.in == kImageBuf_ ? x : bufs[w.in];
    f.out = bufs[w.out];
    f.residual = w.residual == kNoBuf_ ? nullptr : bufs[w.residual];
  }
  pool_in = bufs[kPoolInBuf_];
  pool_out = bufs[kPoolOutBuf_];
  features = bufs[features_buf];
}

// The int8 arena, each slot for `batch` images: the stem's pre-padded input (border and slack:
// its zero point, set once here) | 4 rotating buffers.
bool Engine::Impl_::plan_arena_q_(std::string* err) {
  size_t act = 0;
  const size_t stem_in = conv_padded_input_size(stem->shape);
  if (!mul_ok_(max_activation, static_cast<size_t>(batch), &act) ||
      conv_padded_input_size(batched_(stem->shape)) == 0) {
    return fail(err, "int8 arena size overflows");
  }
  Arena_<int8_t> a;
  const size_t stem_in_at = a.reserve(stem_in);
  size_t bufs_at[4];
  for (size_t& at : bufs_at) at = a.reserve(act);
  if (a.overflowed()) {
    return fail(err, "int8 arena size overflows");
  }
  int8_t* base = a.allocate(&arena_q);
  stem_input_q = base + stem_in_at;
  std::memset(stem_input_q, static_cast<int8_t>(stem->q.in_q.zero_point), stem_in);
  for (int i = 0; i < 4; ++i) bufs_q[i] = base + bufs_at[i];
  return true;
}

// Each conv's input, output and residual in the int8 arena, by its wire, and the quantization
// of each buffer as it is written: each conv must read its producer's output parameters (the
// max pool keeps its input's).
bool Engine::Impl_::point_convs_q_(std::string* err) {
  QuantParams buf_q[4] = {{1, 0}, {1, 0}, {1, 0}, {1, 0}};
  auto same = [](QuantParams a, QuantParams b) {
    return a.scale == b.scale && a.zero_point == b.zero_point;
  };
  for (const Wire_& w : wires) {
    Conv_& c = *w.conv;
    Conv_::Qs8& q = c.q;
    if (w.in != kImageBuf_ && !same(q.in_q, buf_q[w.in])) {
      return fail(err, [&] {
        return std::string("tensor '") + c.name() +
               "': input quantization differs from the output quantization of the layer "
               "before (re-convert the model)";
      });
    }
    q.in = w.in == kImageBuf_ ? stem_input_q : bufs_q[w.in];
    q.out = bufs_q[w.out];
    q.residual = w.residual == kNoBuf_ ? nullptr : bufs_q[w.residual];
    if (w.residual != kNoBuf_) q.residual_q = buf_q[w.residual];
    buf_q[w.out] = q.out_q;
    if (&c == stem)
      buf_q[kPoolOutBuf_] = q.out_q;
    else
      q.in_count = static_cast<size_t>(c.shape.in_h) * c.shape.in_w * c.shape.in_c;
  }
  features_q = bufs_q[features_buf];
  features_q_params = buf_q[features_buf];
  return true;
}

// The int16 inputs of the a16 runs (the largest Direct input of a pass, the stem's pre-padded
// input for every image), the int8 Winograd scratch, and the table that quantizes the resized
// bytes: quantize(normalize(v)) depends on the byte v and its channel only, so one table gives
// exactly what quantize_f32_qs8 gives on normalize_u8's floats.
void Engine::Impl_::plan_int16_inputs_q_() {
  const size_t nimg = static_cast<size_t>(batch);
  size_t input16_n = 0, scratch = 0;
  winograd_scratch_q_one_image = 0;
  for (const Conv_& c : convs) {
    if (&c == stem) continue;
    if (conv_winograd_qs8_applicable(c.shape))  // the batch budget counts it, deferred or not
      winograd_scratch_q_one_image =
          std::max(winograd_scratch_q_one_image, conv_winograd_qs8_scratch_size(c.shape));
    if (c.form == ConvForm_::Winograd || c.q.winograd_batched)
      scratch = std::max(scratch, conv_winograd_qs8_scratch_size(batched_(c.shape)));
    if (c.form == ConvForm_::Direct)  // a Winograd conv reads its int8 input directly
      input16_n = std::max(input16_n, c.q.in_count * nimg);
  }
  input16.assign(input16_n, 0);
  winograd_scratch_q.assign(scratch, 0);
  stem_input16.assign(conv_padded_input_size(batched_(stem->shape)),
                      static_cast<int16_t>(stem->q.in_q.zero_point));
  for (int i = 0; i < 3 * 256; ++i) {
    int8_t v;
    quantize_f32_qs8(1, pre.norm_lut() + i, stem->q.in_q, &v);
    stem_input_lut[i] = v;
  }
}

namespace {
// The exact Winograd form of a conv's stored int8 weights.
bool make_winograd_qs8_(const Conv_& c, std::vector<uint8_t>* to) {
  std::vector<uint8_t> w(conv_winograd_qs8_packed_size(c.shape));
  if (w.empty() || !conv_winograd_qs8_pack_from_igemm(c.shape, c.q.weights, w.data())) return false;
  to->swap(w);
  return true;
}
}  // namespace

// The int8 weights in the form the conv runs, made once from the stored ones: the stem's row
// form (and its w16 form), the Winograd form, the w16 form; layer4's batched Winograd form
// beside the stored weights. Other convs run the stored weights as they are.
bool Engine::Impl_::make_weights_q_(Conv_& c, std::string* err) {
  Conv_::Qs8& q = c.q;
  auto use = [&](std::vector<uint8_t>* made) {
    q.owned.swap(*made);
    q.weights = q.owned.data();
    q.weights_made = true;
  };
  if (c.form == ConvForm_::Rows && !q.weights_made) {
    std::vector<uint8_t> rows(conv_rows_packed_qs8_size(c.shape));
    conv_rows_repack_qs8(c.shape, q.weights, rows.data());
    use(&rows);
    if (q.w16) {
      std::vector<uint8_t> wide(conv_rows_packed_qs8_w16_size(c.shape));
      conv_rows_widen_packed_qs8_w16(c.shape, q.weights, wide.data());
      use(&wide);
    }
  } else if (c.form == ConvForm_::Winograd && !q.weights_made) {
    std::vector<uint8_t> wg;
    if (!make_winograd_qs8_(c, &wg)) {
      return fail(err, [&] {
        return std::string("tensor '") + c.name() + "': Winograd weight transform failed";
      });
    }
    use(&wg);
  } else if (c.form == ConvForm_::Direct && q.w16 && !q.weights_made) {
    std::vector<uint8_t> wide(conv_packed_qs8_w16_size(c.shape));
    conv_widen_packed_qs8_w16(c.shape, q.weights, wide.data());
    use(&wide);
  }
  if (c.form == ConvForm_::Direct && !defer_winograd && q.tapmask_init.empty()) {
    const size_t n = conv_qs8_a16_tapmask_size(c.shape);
    if (n) {
      q.tapmask_init.assign(n, 0);
      if (!conv_qs8_a16_tapmask_setup(c.shape, q.weights, q.w16, q.tapmask_init.data())) {
        return fail(err,
                    [&] { return std::string("tensor '") + c.name() + "': padding table failed"; });
      }
    }
  }
  if (q.winograd_batched) {
    if (q.w16) {  // made from the stored weights, not their w16 form
      return fail(err, [&] {
        return std::string("internal: tensor '") + c.name() + "' is w16 and batched Winograd";
      });
    }
    if (q.winograd_batched_weights.empty() && !make_winograd_qs8_(c, &q.winograd_batched_weights)) {
      return fail(err, [&] {
        return std::string("tensor '") + c.name() + "': Winograd weight transform failed";
      });
    }
  }
  return true;
}

// The int8 indirection of a pass over `batch` images: the stem's rows into stem_input16, a
// Direct conv's taps into input16 (padding taps: zero16), a Winograd conv's input tiles into
// the int8 arena.
void Engine::Impl_::setup_indirection_q_(Conv_& c) {
  Conv_::Qs8& q = c.q;
  const ConvShape s = batched_(c.shape);
  auto winograd_tiles = [&] {
    q.zero8.assign(static_cast<size_t>(s.in_c), static_cast<int8_t>(q.in_q.zero_point));
    q.indirection_winograd.assign(conv_winograd_qs8_indirection_size(s), nullptr);
    conv_winograd_qs8_setup(s, q.in, q.zero8.data(), q.indirection_winograd.data());
  };
  switch (c.form) {
    case ConvForm_::Rows:
      q.indirection16.assign(conv_rows_indirection_size(s), nullptr);
      conv_rows_setup_indirection_qs8_a16(s, stem_input16.data(), q.indirection16.data());
      break;
    case ConvForm_::Winograd:
      std::vector<const int16_t*>().swap(q.indirection16);  // of a staged plan
      winograd_tiles();
      break;
    case ConvForm_::Direct:
      q.zero16.assign(static_cast<size_t>(s.in_c), static_cast<int16_t>(q.in_q.zero_point));
      q.indirection16.assign(conv_indirection_size(s), nullptr);
      conv_setup_indirection_qs8_a16(s, input16.data(), q.zero16.data(), q.indirection16.data());
      if (q.winograd_batched) winograd_tiles();
      break;
  }
}

// The f32 Winograd form of a conv's weights, made once (the direct ones are freed).
bool Engine::Impl_::make_weights_f32_(Conv_& c, std::string* err) {
  Conv_::F32& f = c.f32;
  if (c.form != ConvForm_::Winograd || !f.packed_winograd.empty()) return true;
  f.packed_winograd.assign(conv_winograd_f32_packed_size(c.shape, f.winograd_tile), 0.0f);
  if (f.packed_winograd.empty() ||
      !conv_winograd_f32_pack_from_igemm(c.shape, f.winograd_tile, f.packed.data(),
                                         f.packed_winograd.data())) {
    return fail(err, [&] {
      return std::string("tensor '") + c.name() + "': Winograd weight transform failed";
    });
  }
  std::vector<float>().swap(f.packed);
  return true;
}

// The f32 indirection: the stem's rows into its pre-padded input (border 0, set once here), a
// Direct conv's taps into the arena (padding taps: zero), a Winograd conv's input tiles and
// GEMM rows (arena and Winograd scratch).
void Engine::Impl_::setup_indirection_f32_(Conv_& c) {
  Conv_::F32& f = c.f32;
  switch (c.form) {
    case ConvForm_::Rows:
      stem_input.assign(conv_padded_input_size(c.shape), 0.0f);
      f.indirection.assign(conv_rows_indirection_size(c.shape), nullptr);
      conv_rows_setup_indirection(c.shape, stem_input.data(), f.indirection.data());
      break;
    case ConvForm_::Winograd:
      f.indirection.assign(conv_winograd_f32_indirection_size(c.shape, f.winograd_tile), nullptr);
      conv_winograd_f32_setup(c.shape, f.winograd_tile, f.in, zero, winograd_scratch,
                              f.indirection.data());
      break;
    case ConvForm_::Direct:
      f.indirection.assign(conv_indirection_size(c.shape), nullptr);
      conv_setup_indirection(c.shape, f.in, zero, f.indirection.data());
      break;
  }
}

// CAM upsampling tables: src = (i + 0.5) * g / S - 0.5, clamped (like align_corners=False).
void Engine::Impl_::plan_cam_tables_() {
  auto table = [&](int g, std::vector<int>* i0, std::vector<int>* i1, std::vector<float>* f) {
    i0->resize(S);
    i1->resize(S);
    f->resize(S);
    for (int i = 0; i < S; ++i) {
      double src = (i + 0.5) * g / S - 0.5;
      if (src < 0) src = 0;
      int a = static_cast<int>(src);
      if (a > g - 1) a = g - 1;
      (*i0)[i] = a;
      (*i1)[i] = std::min(a + 1, g - 1);
      (*f)[i] = static_cast<float>(src - a);
    }
  };
  table(feat_h, &up_y0, &up_y1, &up_fy);
  table(feat_w, &up_x0, &up_x1, &up_fx);
}

// int8, at the first plan (one image): how many images a pass may take with its buffers under
// kBatchBytes_.
void Engine::Impl_::set_batch_capacity_() {
  const size_t per_image = arena_q.size() +
                           std::max(winograd_scratch_q.size(), winograd_scratch_q_one_image) +
                           (input16.size() + stem_input16.size()) * sizeof(int16_t) +
                           indirection_pointers * sizeof(void*) + 1;
  batch_cap =
      static_cast<int>(std::max<size_t>(1, std::min<size_t>(kMaxBatch, kBatchBytes_ / per_image)));
}

void Engine::Impl_::observe_(int index, const char* name, const float* in, size_t n_in,
                             const float* out, size_t n_out) {
  if (observer) observer(observer_ctx, LayerActivations{index, name, in, n_in, out, n_out});
}

void Engine::Impl_::run_conv_(int index, const Conv_& c) {
  const Conv_::F32& f = c.f32;
  switch (c.form) {
    case ConvForm_::Rows:
      conv_rows_run_f32(c.shape, f.indirection.data(), f.packed.data(), f.out, f.residual, c.relu(),
                        isa);
      break;
    case ConvForm_::Winograd:
      conv_winograd_f32_run(c.shape, f.winograd_tile, f.indirection.data(),
                            f.packed_winograd.data(), winograd_scratch, f.out, f.residual, c.relu(),
                            isa);
      break;
    case ConvForm_::Direct:
      conv_run_f32(c.shape, f.indirection.data(), f.packed.data(), f.out, f.residual, c.relu(),
                   isa);
      break;
  }
  observe_(index, c.name(), f.in, f.in_count, f.out, f.out_count);
}

void Engine::Impl_::cam_(int slot) {
  const int C = kFeatures;
  const size_t grid = static_cast<size_t>(feat_h) * feat_w;
  float* cam_grid = this->cam_grid + slot * grid;  // this image's
  float* cam = this->cam + static_cast<size_t>(slot) * S * S;
  const int8_t* features_q = this->features_q + slot * grid * C;
  for (int p = 0; p < feat_h * feat_w; ++p) {
    float s = 0;
    if (int8) {  // dequantized on the fly: scale * (q - zp)
      const int8_t* f = features_q + static_cast<size_t>(p) * C;
      for (int c = 0; c < C; ++c)
        s += cam_w[c] * static_cast<float>(f[c] - features_q_params.zero_point);
      s *= features_q_params.scale;
    } else {
      const float* f = features + static_cast<size_t>(p) * C;
      for (int c = 0; c < C; ++c) s += cam_w[c] * f[c];
    }
    cam_grid[p] = s;
  }
  for (int y = 0; y < S; ++y) {
    const float fy = up_fy[y];
    const float* r0 = cam_grid + static_cast<size_t>(up_y0[y]) * feat_w;
    const float* r1 = cam_grid + static_cast<size_t>(up_y1[y]) * feat_w;
    float* o = cam + static_cast<size_t>(y) * S;
    for (int xx = 0; xx < S; ++xx) {
      const float fx = up_fx[xx];
      const int a = up_x0[xx], b = up_x1[xx];
      const float top = r0[a] + (r0[b] - r0[a]) * fx;
      const float bot = r1[a] + (r1[b] - r1[a]) * fx;
      o[xx] = top + (bot - top) * fy;
    }
  }
}

// The network: reads like the math. x (f32, normalized) -> features -> pooled.
void Engine::Impl_::forward_f32_() {
  int li = 0;
  const size_t row = static_cast<size_t>(S) * 3;
  const size_t row_pad = (static_cast<size_t>(S) + 2 * stem->shape.pad) * 3;
  for (int y = 0; y < S; ++y)  // into the stem's pre-padded input
    std::memcpy(stem_input.data() + conv_padded_input_offset(stem->shape) + y * row_pad,
                x + y * row, row * sizeof(float));
  run_conv_(li++, *stem);  // conv7x7/2 + ReLU
  maxpool_f32(pool_in_h, pool_in_w, kStemChannels, kPoolSize, kPoolStride, kPoolPad, pool_in,
              pool_out, isa);  // maxpool 3x3/2
  observe_(li++, "maxpool", pool_in, static_cast<size_t>(pool_in_h) * pool_in_w * kStemChannels,
           pool_out, static_cast<size_t>(pool_out_h) * pool_out_w * kStemChannels);
  for (const Block_& b : blocks) {         // 4 stages x 2 blocks
    if (b.down) run_conv_(li++, *b.down);  //   shortcut 1x1/2
    run_conv_(li++, *b.conv1);             //   conv3x3 + ReLU
    run_conv_(li++, *b.conv2);             //   conv3x3 + shortcut, ReLU
  }
  const int C = kFeatures;
  float* avg = head.concat_pool ? pooled + C : pooled;  // concat: [max, avg]
  if (head.concat_pool) global_maxpool_f32_(feat_h * feat_w, C, features, pooled);
  global_avgpool_f32(feat_h * feat_w, C, features, avg, isa);  // GAP
  observe_(kLayerAvgpool_, "avgpool", features, static_cast<size_t>(feat_h) * feat_w * C, avg, C);
}

// The same graph on int8 activations (the observer is not called: it sees f32 engines only),
// for the first k images of a batch, from the stem's input in stem_input16. Each conv runs once
// over all k images (ConvShape::n = k); the pools go image by image.
void Engine::Impl_::forward_qs8_(int k) {
  const int8_t* widened = nullptr;  // whose values input16 holds (a block's downsample and
                                    // conv1 read the same input)
  auto conv = [&](const Conv_& c) {
    const Conv_::Qs8& q = c.q;
    const ConvShape s = batched_(c.shape, k);
    if (c.form == ConvForm_::Winograd || (q.winograd_batched && k >= kWinogradBatchMin_)) {
      conv_winograd_qs8_run(
          s, q.indirection_winograd.data(),
          c.form == ConvForm_::Winograd ? q.weights : q.winograd_batched_weights.data(),
          winograd_scratch_q.data(), q.out, q.residual, q.residual_q, c.relu(), isa);
      if (q.out == widened) widened = nullptr;
      return;
    }
    if (c.form != ConvForm_::Rows && q.in != widened)  // the stem reads stem_input16
      widen_qs8_a16(q.in_count * k, q.in, input16.data());
    widened = q.out == q.in ? nullptr : q.in;
    if (c.form == ConvForm_::Rows)
      conv_rows_run_qs8_a16(s, q.indirection16.data(), q.weights, q.w16, q.out, q.residual,
                            q.residual_q, c.relu(), isa);
    else if (!q.tapmask_init.empty())
      conv_run_qs8_a16_tapmask(s, q.indirection16.data(), q.weights, q.w16, q.tapmask_init.data(),
                               q.out, q.residual, q.residual_q, c.relu(), isa);
    else
      conv_run_qs8_a16(s, q.indirection16.data(), q.weights, q.w16, q.out, q.residual, q.residual_q,
                       c.relu(), isa);
  };
  const size_t pool_in_n = static_cast<size_t>(pool_in_h) * pool_in_w * kStemChannels;
  const size_t pool_out_n = static_cast<size_t>(pool_out_h) * pool_out_w * kStemChannels;
  const size_t feat_n = static_cast<size_t>(feat_h) * feat_w * kFeatures;
  conv(*stem);                 // conv7x7/2 + ReLU
  for (int i = 0; i < k; ++i)  // maxpool 3x3/2
    maxpool_qs8(pool_in_h, pool_in_w, kStemChannels, kPoolSize, kPoolStride, kPoolPad,
                bufs_q[kPoolInBuf_] + i * pool_in_n, bufs_q[kPoolOutBuf_] + i * pool_out_n, isa);
  for (const Block_& b : blocks) {  // 4 stages x 2 blocks
    if (b.down) conv(*b.down);
    conv(*b.conv1);
    conv(*b.conv2);
  }
  const int F = head.features;
  for (int i = 0; i < k; ++i) {  // GAP (dequantizes); concat: [max, avg]
    float* avg = pooled + static_cast<size_t>(i) * F + (head.concat_pool ? kFeatures : 0);
    if (head.concat_pool)
      global_maxpool_qs8_f32_(feat_h * feat_w, kFeatures, features_q + i * feat_n,
                              features_q_params, pooled + static_cast<size_t>(i) * F);
    global_avgpool_qs8_f32(feat_h * feat_w, kFeatures, features_q + i * feat_n, features_q_params,
                           avg, isa);
  }
}

void Engine::Impl_::forward(const float* input, Prediction* out) {
  if (input != x) std::memcpy(x, input, static_cast<size_t>(S) * S * 3 * sizeof(float));
  if (int8) {
    // quantize the input into the stem's pre-padded buffers (stem_input_q, then its int16 copy)
    const size_t row = static_cast<size_t>(S) * 3;
    const size_t row_pad = (static_cast<size_t>(S) + 2 * stem->shape.pad) * 3;
    const size_t off = conv_padded_input_offset(stem->shape);
    for (int y = 0; y < S; ++y) {
      quantize_f32_qs8(row, x + y * row, stem->q.in_q, stem_input_q + off + y * row_pad);
      widen_qs8_a16(row, stem_input_q + off + y * row_pad, stem_input16.data() + off + y * row_pad);
    }
    forward_qs8_(1);
  } else {
    forward_f32_();
  }
  head_(0, out);
}

// int8 engines, image `slot` of a batch from its resized bytes: each byte's quantized normalized
// value by stem_input_lut, straight into the stem's int16 input (the same values as forward()
// on normalize_u8's floats).
void Engine::Impl_::input_rgb_qs8_(int slot, const uint8_t* rgb) {
  const size_t row = static_cast<size_t>(S) * 3;
  const size_t row_pad = (static_cast<size_t>(S) + 2 * stem->shape.pad) * 3;
  int16_t* dst = stem_input16.data() + slot * conv_padded_image_stride(stem->shape) +
                 conv_padded_input_offset(stem->shape);
  for (int y = 0; y < S; ++y) {
    const uint8_t* src = rgb + y * row;
    int16_t* d = dst + y * row_pad;
    for (size_t i = 0; i < row; i += 3) {
      d[i] = stem_input_lut[src[i]];
      d[i + 1] = stem_input_lut[256 + src[i + 1]];
      d[i + 2] = stem_input_lut[512 + src[i + 2]];
    }
  }
}

// The head, CAM and the prediction of image `slot`, from its pooled vector and last features.
void Engine::Impl_::head_(int slot, Prediction* out) {
  const int F = head.features, N = head.classes, pos = head.positive;
  const float* pooled = this->pooled + static_cast<size_t>(slot) * F;
  float* z = class_logits.data() + static_cast<size_t>(slot) * N;
  if (head.mlp) {  // fc1 -> ReLU -> fc2 (BatchNorm folded in by the converter)
    fully_connected_f32(F, head.hidden, fc_w.data(), fc_b.data(), pooled, hidden.data(), isa);
    for (float& v : hidden) v = v > 0 ? v : 0.0f;
    fully_connected_f32(head.hidden, N, fc2_w.data(), fc2_b.data(), hidden.data(), z, isa);
  } else {
    fully_connected_f32(F, N, fc_w.data(), fc_b.data(), pooled, z, isa);  // FC
  }
  if (!int8) observe_(kLayerFc_, "fc", pooled, F, z, N);
  if (has_cam) cam_(slot);  // CAM from f4

  // logits[1]: the positive class; logits[0]: the strongest of the others (with 2 classes, the
  // other one). label: Parasitized when p_parasitized > 0.5, the probability the band is read
  // from (with 2 classes exactly when the positive class wins; with more, the positive class can
  // win with p under 0.5: the label then follows p, as the band and the field's count do)
  int other = -1;
  for (int j = 0; j < N; ++j)
    if (j != pos && (other < 0 || z[j] > z[other])) other = j;
  out->logits[0] = z[other];
  out->logits[1] = z[pos];
  out->p_parasitized =
      N == 2 ? calibrated_p(out->logits, temperature) : calibrated_p_n(z, N, pos, temperature);
  const bool parasitized = N == 2 ? out->logits[1] > out->logits[0] : out->p_parasitized > 0.5f;
  out->label = parasitized ? kLabelParasitized : kLabelUninfected;
  out->band = band_of(out->p_parasitized, band_lo, band_hi);
}

// ---------------------------------------------------------------------------------------------
// public wrapper

Engine::Engine() : impl_(new Impl_) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::create(const uint8_t* blob_data, size_t blob_len, std::string* err,
                                       Isa isa, const ImageLimits& limits,
                                       const uint8_t* payload_sha256, bool staged) {
  if (!blob_data && blob_len) {
    fail(err, "null blob");
    return nullptr;
  }
  std::unique_ptr<Engine> e(new Engine());
  e->impl_->defer_winograd = staged;
  if (!e->impl_->load(blob_data, blob_len, isa, limits, payload_sha256, err)) return nullptr;
  return e;
}

std::unique_ptr<Engine> Engine::create_adopt(uint8_t* blob_data, size_t blob_len, std::string* err,
                                             Isa isa, const ImageLimits& limits,
                                             const uint8_t* payload_sha256, bool staged) {
  std::unique_ptr<uint8_t, Impl_::FreeDeleter_> owned(blob_data);  // freed on every path
  if (!blob_data && blob_len) {
    fail(err, "null blob");
    return nullptr;
  }
  std::unique_ptr<Engine> e(new Engine());
  e->impl_->defer_winograd = staged;
  e->impl_->blob_owned = std::move(owned);
  if (!e->impl_->load(blob_data, blob_len, isa, limits, payload_sha256, err)) return nullptr;
  return e;
}

bool Engine::finish(std::string* err) {
  Impl_& m = *impl_;
  const bool work = m.defer_winograd && m.int8;  // f32/f16 engines are built whole
  m.defer_winograd = false;
  if (!work) return true;
  return m.plan(err, m.batch);  // the same batch capacity, now with the Winograd forms
}

bool Engine::staged() const { return impl_->defer_winograd && impl_->int8; }

bool Engine::classify(const uint8_t* pixels, int width, int height, int channels, Prediction* out,
                      std::string* err) {
  if (!out) {
    return fail(err, "null result");
  }
  if (impl_->int8) {  // the f32 input is not needed: stem_input_lut quantizes the bytes
    if (!impl_->pre.resize(pixels, width, height, channels, err)) return false;
    impl_->input_rgb_qs8_(0, impl_->pre.resized());
    impl_->forward_qs8_(1);
    impl_->head_(0, out);
    return true;
  }
  if (!impl_->pre.run(pixels, width, height, channels, impl_->x, err)) return false;
  impl_->forward(impl_->x, out);
  return true;
}

int Engine::classify_batch(int n, const uint8_t* const* pixels, const int* widths,
                           const int* heights, int channels, Prediction* out, std::string* errs,
                           std::string* err) {
  if (n < 1 || n > batch_capacity()) {
    fail(err, [&] {
      return "batch of " + std::to_string(n) + " images: this engine takes 1 to " +
             std::to_string(batch_capacity());
    });
    return -1;
  }
  if (!pixels || !widths || !heights || !out) {
    fail(err, "null pixels, sizes or results");
    return -1;
  }
  // the first batch: buffers and indirection for batch_capacity() images, once (the weights stay)
  if (n > impl_->batch && !impl_->plan(err, batch_capacity())) return -1;
  if (!impl_->int8) {  // one image: the f32/f16 path
    std::string e;
    const bool ok = classify(pixels[0], widths[0], heights[0], channels, out, &e);
    if (errs) errs[0] = e;
    return ok ? 1 : 0;
  }
  // each image into its slot; one that cannot be read keeps its slot and whatever it held (the
  // pass runs over it, its result is not reported), so that image i's CAM is cam(i)
  bool ok[kMaxBatch] = {};
  int good = 0;
  for (int i = 0; i < n; ++i) {
    std::string e;
    ok[i] = pixels[i] && impl_->pre.resize(pixels[i], widths[i], heights[i], channels, &e);
    if (ok[i]) {
      impl_->input_rgb_qs8_(i, impl_->pre.resized());
      ++good;
    } else {
      out[i] = Prediction{};
    }
    if (errs) errs[i] = ok[i] ? std::string() : pixels[i] ? e : std::string("null pixels");
  }
  impl_->forward_qs8_(n);
  for (int i = 0; i < n; ++i)
    if (ok[i]) impl_->head_(i, &out[i]);
  if (err) err->clear();
  return good;
}

void Engine::forward(const float* input_nhwc, Prediction* out) { impl_->forward(input_nhwc, out); }

int Engine::input_size() const { return impl_->S; }
const float* Engine::cam() const { return impl_->has_cam ? impl_->cam : nullptr; }
const float* Engine::cam(int i) const {
  return impl_->has_cam && i >= 0 && i < impl_->batch
             ? impl_->cam + static_cast<size_t>(i) * impl_->S * impl_->S
             : nullptr;
}
int Engine::batch_capacity() const { return impl_->int8 ? impl_->batch_cap : 1; }
const float* Engine::cam_grid() const { return impl_->has_cam ? impl_->cam_grid : nullptr; }
int Engine::num_classes() const { return impl_->head.classes; }
int Engine::positive_class() const { return impl_->head.positive; }
const std::vector<std::string>& Engine::labels() const { return impl_->labels; }
const float* Engine::class_logits(int i) const {
  return i >= 0 && i < impl_->batch
             ? impl_->class_logits.data() + static_cast<size_t>(i) * impl_->head.classes
             : nullptr;
}
int Engine::cam_grid_h() const { return impl_->feat_h; }
int Engine::cam_grid_w() const { return impl_->feat_w; }
const uint8_t* Engine::resized() const { return impl_->pre.resized(); }
const std::string& Engine::metadata_json() const { return impl_->metadata; }
float Engine::temperature() const { return impl_->temperature; }
float Engine::band_lo() const { return impl_->band_lo; }
float Engine::band_hi() const { return impl_->band_hi; }
const char* Engine::weight_dtype() const { return impl_->dtype.c_str(); }
size_t Engine::arena_bytes() const {
  const Impl_& m = *impl_;
  return m.arena.size() * sizeof(float) + m.arena_q.size() + m.winograd_scratch_q.size() +
         (m.input16.size() + m.stem_input16.size()) * sizeof(int16_t) +
         m.indirection_pointers * sizeof(void*);
}
Isa Engine::isa() const { return impl_->isa; }

void Engine::set_observer(LayerObserver fn, void* ctx) {
  impl_->observer = fn;
  impl_->observer_ctx = fn ? ctx : nullptr;
}

// ---------------------------------------------------------------------------------------------
// calibration helper

void ActivationRanges::attach(Engine& e) { e.set_observer(&ActivationRanges::observe_, this); }
void ActivationRanges::detach(Engine& e) { e.set_observer(nullptr, nullptr); }

void ActivationRanges::observe_(void* ctx, const LayerActivations& a) {
  auto* self = static_cast<ActivationRanges*>(ctx);
  if (a.index < 0) return;
  const size_t i = static_cast<size_t>(a.index);
  if (self->layers_.size() <= i) {  // grows during the first forward only
    const float inf = std::numeric_limits<float>::infinity();
    self->layers_.resize(i + 1, Layer{"", inf, -inf, inf, -inf});
  }
  Layer& l = self->layers_[i];
  if (l.name.empty()) l.name = a.name;
  for (size_t k = 0; k < a.input_count; ++k) {
    l.in_min = std::min(l.in_min, a.input[k]);
    l.in_max = std::max(l.in_max, a.input[k]);
  }
  for (size_t k = 0; k < a.output_count; ++k) {
    l.out_min = std::min(l.out_min, a.output[k]);
    l.out_max = std::max(l.out_max, a.output[k]);
  }
}

}  // namespace mc
