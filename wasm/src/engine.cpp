// engine.cpp -- ResNet18 graph over ops.h: load-time planning, forward(), CAM (see engine.h).
#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "blob.h"
#include "ops/conv_winograd_f32.h"
#include "ops/conv_winograd_qs8.h"
#include "ops/ops_qs8.h"
#include "out_of_line.h"
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

void set_err_(std::string* err, const std::string& msg) {
  if (err) *err = msg;
}

// A failed check of load()/plan(): sets *err to msg and returns false from the caller; the
// message is built out of line (out_of_line.h).
#define MC_FAIL_(err, msg)                                   \
  do {                                                       \
    detail::out_of_line([&] { set_err_(err, msg); });        \
    return false;                                            \
  } while (0)

std::string shape_str_(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
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
      MC_FAIL_(err, "tensor '" + t.name + "': contains a non-finite value (inf or nan)");
    }
  }
  return true;
}

constexpr size_t kArenaAlign_ = 16;   // floats (64 bytes)
// Most bytes of activation buffers a batch may take (an int8 engine's batch capacity is lowered
// for large input sizes so that its buffers stay below this).
constexpr size_t kBatchBytes_ = size_t{256} << 20;

// f32 convolutions that run as Winograd F(m x m, 3x3) instead of the direct igemm (returns m,
// 0 = direct): 3x3 stride 1 pad 1. Measured in V8 (bench_kernels, 64x64 input, us per conv,
// direct / F(2x2) / F(4x4)): 16x16x64 940 / 565 / 323, 8x8x128 970 / 500 / 310,
// 4x4x256 1030 / 530 / 1110, 2x2x512 960 / 1700 / -. So F(4x4) from an 8x8 output, F(2x2)
// from 4x4; below, one tile cannot amortize the transformed weights ((m+2)^2 matrices).
int winograd_tile_(const ConvShape& s) {
  if (!conv_winograd_f32_applicable(s, 2)) return 0;
  if (s.out_h() >= 8 && s.out_w() >= 8) return 4;
  if (s.out_h() >= 4 && s.out_w() >= 4) return 2;
  return 0;
}

// int8 convolutions that run as the exact Winograd F(2x2, 3x3) (conv_winograd_qs8.h) instead of
// the a16 igemm: 3x3 stride 1 pad 1 with at least 4 output tiles (one full 4-row GEMM tile).
// Measured in V8 (bench_kernels, us per conv, a16 w16 igemm incl. its widening copy / Winograd):
// 16x16x64 435 / 293, 8x8x128 703 / 299, 4x4x256 392 / 231, 2x2x512 416 / 920 (one tile cannot
// amortize 16 transformed weight matrices).
bool winograd_qs8_(const ConvShape& s) {
  return conv_winograd_qs8_applicable(s) && s.out_h() >= 4 && s.out_w() >= 4;
}

// Passes of this many images or more run layer4's 3x3 convs (2x2 outputs) as the Winograd
// transform too: n tiles share each transformed weight matrix. Measured in V8 (bench_kernels,
// us per 3x3 512->512 conv over n images of 2x2, a16 igemm / Winograd): n=1 455 / 966,
// n=2 858 / 903, n=3 1266 / 900, n=4 1698 / 963, n=8 3606 / 1897.
constexpr int kWinogradBatchMin_ = 3;

}  // namespace

const char* label_name(int label) { return label == kLabelParasitized ? "Parasitized" : "Uninfected"; }

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

int band_of(float p, float lo, float hi) {
  if (p <= lo) return kBandUninfected;
  if (p >= hi) return kBandParasitized;
  return kBandUncertain;
}

// ---------------------------------------------------------------------------------------------
// the graph

struct Conv_ {
  const resnet18::ConvSpec* spec = nullptr;   // its entry in the topology table
  std::string name() const { return spec->name; }
  ConvShape shape{};
  std::vector<float> packed;                 // conv_pack_f32 layout, bias inside
  std::vector<const float*> indirection;     // set up once, points into the arena
  const float* in = nullptr;
  float* out = nullptr;
  const float* residual = nullptr;           // added before the ReLU (conv2 of a block)
  bool relu = true;                          // from spec
  bool rows = false;                         // row form (conv_rows_*, ops.h): the stem, which
                                             // reads a pre-padded copy of its input
  size_t in_count = 0, out_count = 0;
  // Winograd instead of packed/indirection (set up by plan()): f32 F(m x m) with packed_wg and
  // indirection_wg; int8 the exact F(2x2) with packed_q in the Winograd form and indirection_wq
  int winograd = 0;                          // output tile m of F(m x m, 3x3); 0 = direct
  std::vector<float> packed_wg;              // conv_winograd_f32_pack_from_igemm layout
  std::vector<const float*> indirection_wg;  // input tiles and GEMM rows (arena, wg_scratch)
  // int8 blobs: the same graph on int8 activations (ops_qs8.h). The convs run on int16 copies
  // of their input (conv_run_qs8_a16): the int8 input is widened into `x16` before each conv,
  // the indirection points into x16.
  std::vector<uint8_t> packed_q;             // weights made or copied at load: the stored
                                             // conv_pack_qs8 layout (create, not create_adopt),
                                             // from plan() on the stem's row form, the w16 form
                                             // (conv_qs8_a16_prefers_w16) or the Winograd form
  const uint8_t* wq = nullptr;               // the weights the run uses: packed_q, or the stored
                                             // tensor in the adopted blob (create_adopt)
  bool w16 = false;                          // packed_q is in the w16 form
  bool weights_made = false;                 // wq is the run-time form made from the stored
                                             // one (row, w16 or Winograd form), made once
  QuantParams qin{1, 0}, qout{1, 0};         // from the packed header
  QuantParams qres{1, 0};                    // parameters of `residual_q`
  std::vector<int16_t> zero_x16;             // in_c = input zero point (padding is real 0)
  std::vector<const int16_t*> indirection_x16;
  // layer4's 3x3 convs (2x2 outputs: one Winograd tile per image) keep the direct form for a
  // pass of one or two images and run the exact Winograd form, packed_wgq, for passes of
  // kWinogradBatchMin_ or more (made at the batch's plan, from the stored weights)
  bool wg_batched = false;
  std::vector<uint8_t> packed_wgq;
  std::vector<int8_t> zero_q;                // int8 Winograd: in_c = input zero point
  std::vector<const int8_t*> indirection_wq; // int8 Winograd: input tiles (arena_q)
  size_t in_count_q = 0;                     // int8 input values widened per run (not the
                                             // stem's: its input is made in x16_stem)
  const int8_t* in_q = nullptr;
  int8_t* out_q = nullptr;
  const int8_t* residual_q = nullptr;
};

struct Block_ {
  Conv_* conv1 = nullptr;
  Conv_* conv2 = nullptr;
  Conv_* down = nullptr;                     // null: identity shortcut
};

struct Engine::Impl_ {
  struct FreeDeleter_ {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter_> blob_owned;   // create_adopt: the blob, kept
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
  int batch_cap = 1;                         // what it may grow to: kMaxBatch, fewer where one
                                             // image's buffers are large (kBatchBytes_)
  bool planned = false;                      // plan() ran once (batch_cap set)
  // staged (create_adopt(..., staged = true), int8): the convolutions that have a Winograd form
  // run the direct a16 form on the stored weights (no transform, ~8 MB less to allocate and
  // touch) until finish(), which makes the Winograd weights and plans again: the first result
  // comes sooner, and every result is the same either way (the int8 Winograd is exact)
  bool defer_winograd = false;

  std::vector<Conv_> convs;                  // blob order (resnet18::convs())
  Conv_* stem = nullptr;
  Block_ blocks[resnet18::kBlocks];          // run order: downsample, conv1, conv2

  // maxpool 3x3/2 pad 1 after the stem
  int pool_in_h = 0, pool_in_w = 0, pool_out_h = 0, pool_out_w = 0;
  const float* pool_in = nullptr;
  float* pool_out = nullptr;

  // head
  int feat_h = 0, feat_w = 0;                // last conv features f4: feat_h x feat_w x 512
  const float* features = nullptr;
  std::vector<float> fc_w, fc_b, cam_w;      // [2][512], [2], w[1]-w[0]
  float* pooled = nullptr;                   // 512 per image

  // CAM upsampling tables (half-pixel centers), per output row/col: i0, i1, frac
  std::vector<int> up_y0, up_y1, up_x0, up_x1;
  std::vector<float> up_fy, up_fx;

  // one arena for every activation
  std::vector<float> arena;
  float* x = nullptr;                        // S*S*3 network input
  float* bufs[4] = {nullptr, nullptr, nullptr, nullptr};
  float* zero = nullptr;                     // 512 zeros (padding taps)
  float* cam_grid = nullptr;                 // feat_h*feat_w per image
  float* cam = nullptr;                      // S*S per image
  float* wg_scratch = nullptr;               // Winograd transforms, shared by those convs
  size_t indirection_pointers = 0;
  std::vector<float> x_pad;                  // f32 stem input, pre-padded (conv_padded_input_*)
  // int8 activations (int8 blobs only): x_q | 4 rotating buffers, same assignment as f32
  std::vector<int8_t> arena_q;
  int8_t* x_q = nullptr;
  int8_t* bufs_q[4] = {nullptr, nullptr, nullptr, nullptr};
  const int8_t* features_q = nullptr;
  std::vector<int16_t> x16;                  // the int16 copy of the current conv's input
  std::vector<uint8_t> wq_scratch;           // int8 Winograd transforms, shared by those convs
  // the stem's input, pre-padded like x_q (border and slack = its zero point, set once): from
  // the f32 input via x_q, or straight from the resized bytes by qlut (classify)
  std::vector<int16_t> x16_stem;
  int16_t qlut[3 * 256] = {};                // byte v of channel c -> quantized normalized value
  QuantParams features_qp{1, 0};

  LayerObserver observer = nullptr;
  void* observer_ctx = nullptr;

  bool load(const uint8_t* data, size_t len, Isa isa_, const ImageLimits& lim,
            const uint8_t* payload_sha256, std::string* err);
  bool plan(std::string* err, int batch_size = 1);
  ConvShape batched_(ConvShape s, int n = 0) const {   // the shape of a pass over n (batch) images
    s.n = n > 0 ? n : batch;
    return s;
  }
  void forward(const float* input, Prediction* out);
  void input_rgb_qs8_(int slot, const uint8_t* rgb);
  void forward_qs8_(int k);
  void head_(int slot, Prediction* out);

 private:
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
  popt.check_model = true;    // every tensor of resnet18.h, as this graph reads it
  popt.check_layout = true;   // packed by the kernels of this build
  popt.payload_sha256 = payload_sha256;
  if (!blob::Blob::parse(data, len, &b, &perr, popt)) {
    MC_FAIL_(err, perr);
  }
  // the blob reader validated the structure; the checks below are what this graph relies on
  if (b.architecture() != "resnet18") {
    MC_FAIL_(err, "unsupported architecture '" + b.architecture() + "'");
  }
  if (b.labels().size() != 2 || b.labels()[0] != "Uninfected" || b.labels()[1] != "Parasitized") {
    MC_FAIL_(err, "labels must be [\"Uninfected\", \"Parasitized\"]");
  }
  const blob::InputSpec& in = b.input();
  if (in.resize_filter != "area-int") {
    MC_FAIL_(err, "input.resize_filter '" + in.resize_filter + "' is not supported (need 'area-int')");
  }
  if (in.channel_order != "RGB") {
    MC_FAIL_(err, "input.channel_order '" + in.channel_order + "' is not supported (need 'RGB')");
  }
  if (in.size < 8 || in.size > 1024) {
    MC_FAIL_(err, "input.size " + std::to_string(in.size) + " is out of range [8, 1024]");
  }
  const blob::Calibration& cal = b.calibration();
  if (!(cal.temperature > 0) || !std::isfinite(cal.temperature) || !(cal.band_lo >= 0) ||
      !(cal.band_lo <= cal.band_hi) || !(cal.band_hi <= 1)) {
    MC_FAIL_(err, "calibration: need temperature > 0 and 0 <= band lo <= hi <= 1");
  }
  S = in.size;
  temperature = cal.temperature;
  band_lo = cal.band_lo;
  band_hi = cal.band_hi;
  dtype = b.weight_dtype();
  int8 = dtype == "int8";
  if (dtype != "f32" && dtype != "f16" && !int8) {
    MC_FAIL_(err, "weight dtype '" + dtype + "' is not supported by this engine");
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
      MC_FAIL_(err, std::string("missing tensor '") + sp.name + "' required by resnet18");
    }
    Conv_& c = convs[i];
    c.spec = &sp;
    c.relu = sp.relu;
    // in_h/in_w are set by plan(); the packed size does not depend on them
    c.shape = ConvShape{sp.k, sp.k, sp.in_c, sp.out_c, sp.k, sp.k, sp.stride, sp.pad};
    if (int8) {
      if (blob_owned) {   // the engine owns the blob: read the stored weights in place
        c.wq = t->data;
      } else {
        c.packed_q.assign(t->data, t->data + t->bytes);
        c.wq = c.packed_q.data();
      }
      c.qin = conv_packed_qs8_input_params(c.wq);
      c.qout = conv_packed_qs8_output_params(c.wq);
    } else if (!widen_(*t, &c.packed, err)) {
      return false;
    }
  }

  const blob::Tensor* fw = b.find(resnet18::kFcWeight);
  const blob::Tensor* fb = b.find(resnet18::kFcBias);
  if (!fw || !fb) {
    MC_FAIL_(err, std::string("missing tensor '") + (fw ? resnet18::kFcBias : resnet18::kFcWeight) +
                      "' required by resnet18");
  }
  if (!widen_(*fw, &fc_w, err) || !widen_(*fb, &fc_b, err)) return false;
  const int C = resnet18::kFeatures;
  cam_w.resize(C);
  for (int c = 0; c < C; ++c) cam_w[c] = fc_w[C + c] - fc_w[c];
  return plan(err);
}

// Shapes, arena, buffer assignment and indirection: everything inference needs, once.
// The graph, the weights in the forms the run uses (first call only) and every buffer and
// indirection for batch_size images; called again (int8) to grow the batch.
bool Engine::Impl_::plan(std::string* err, int batch_size) {
  indirection_pointers = 0;
  // the graph from the topology table: the stem, then per block conv1, conv2 and downsample
  stem = nullptr;
  for (Block_& bl : blocks) bl = Block_{};
  for (Conv_& cv : convs) {
    const resnet18::ConvSpec& sp = *cv.spec;
    if (sp.role == resnet18::Role::Stem) {
      stem = &cv;
      continue;
    }
    Block_& bl = blocks[sp.block_index()];
    (sp.role == resnet18::Role::Conv1 ? bl.conv1 : sp.role == resnet18::Role::Conv2 ? bl.conv2 : bl.down) = &cv;
  }
  for (const Block_& bl : blocks) {
    if (!stem || !bl.conv1 || !bl.conv2) {
      MC_FAIL_(err, "internal: incomplete resnet18 block list");
    }
  }

  // shapes
  stem->shape.in_h = stem->shape.in_w = S;
  pool_in_h = stem->shape.out_h();
  pool_in_w = stem->shape.out_w();
  using resnet18::kPoolPad, resnet18::kPoolSize, resnet18::kPoolStride;
  pool_out_h = (pool_in_h + 2 * kPoolPad - kPoolSize) / kPoolStride + 1;
  pool_out_w = (pool_in_w + 2 * kPoolPad - kPoolSize) / kPoolStride + 1;
  int h = pool_out_h, w = pool_out_w, c = resnet18::kStemChannels;
  size_t max_act = static_cast<size_t>(pool_in_h) * pool_in_w * resnet18::kStemChannels;
  for (Block_& bl : blocks) {
    for (Conv_* cv : {bl.down, bl.conv1}) {
      if (!cv) continue;
      cv->shape.in_h = h;
      cv->shape.in_w = w;
      if (cv->shape.in_c != c) {
        MC_FAIL_(err, "tensor '" + cv->name() + "': input channels do not chain");
      }
    }
    bl.conv2->shape.in_h = bl.conv1->shape.out_h();
    bl.conv2->shape.in_w = bl.conv1->shape.out_w();
    h = bl.conv2->shape.out_h();
    w = bl.conv2->shape.out_w();
    c = bl.conv2->shape.out_c;
    if (h < 1 || w < 1) {
      MC_FAIL_(err, "input size " + std::to_string(S) + " is too small for resnet18");
    }
    if (bl.down && (bl.down->shape.out_h() != h || bl.down->shape.out_w() != w)) {
      MC_FAIL_(err, "tensor '" + bl.down->name() + "': shortcut shape does not match");
    }
    for (Conv_* cv : {bl.down, bl.conv1, bl.conv2}) {
      if (!cv) continue;
      size_t n;
      if (!mul_ok_(static_cast<size_t>(cv->shape.out_h()) * cv->shape.out_w(), cv->shape.out_c, &n)) {
        MC_FAIL_(err, "activation size overflows");
      }
      max_act = std::max(max_act, n);
    }
  }
  if (c != resnet18::kFeatures) {
    MC_FAIL_(err, "last stage has " + std::to_string(c) + " channels, fc expects 512");
  }
  feat_h = h;
  feat_w = w;

  // Winograd convolutions (f32) and their shared scratch
  size_t wg_scratch_n = 0;
  size_t wq_scratch_full = 0;   // int8: the largest Winograd scratch of one image, deferred or not
  for (Conv_& cv : convs) {
    cv.winograd = int8 ? 0 : winograd_tile_(cv.shape);
    if (cv.winograd)
      wg_scratch_n = std::max(wg_scratch_n, conv_winograd_f32_scratch_size(cv.shape, cv.winograd));
  }

  // arena: x | 4 rotating buffers | zero | pooled | cam_grid | cam | Winograd scratch
  // (pooled, cam_grid and cam: one per image of a batch)
  batch = int8 ? batch_size : 1;
  const size_t SS = static_cast<size_t>(S) * S, nimg = static_cast<size_t>(batch);
  const size_t act_f32 = int8 ? 0 : max_act;   // int8: activations live in arena_q
  const size_t sizes[] = {SS * 3, act_f32, act_f32, act_f32, act_f32, 512, 512 * nimg,
                          static_cast<size_t>(feat_h) * feat_w * nimg, SS * nimg, wg_scratch_n};
  size_t offsets[10], total = 0;
  for (int i = 0; i < 10; ++i) {
    offsets[i] = total;
    size_t padded;
    if (!add_ok_(sizes[i], kArenaAlign_ - 1, &padded) || !add_ok_(total, padded / kArenaAlign_ * kArenaAlign_, &total)) {
      MC_FAIL_(err, "arena size overflows");
    }
  }
  size_t arena_bytes_;
  if (!mul_ok_(total, sizeof(float), &arena_bytes_) || arena_bytes_ > (size_t{1} << 30)) {
    MC_FAIL_(err, "activation arena would exceed 1 GiB (input size too large)");
  }
  arena.assign(total + kArenaAlign_, 0.0f);
  // 64-byte align the base
  float* base = arena.data();
  while (reinterpret_cast<uintptr_t>(base) % (kArenaAlign_ * sizeof(float)) != 0) ++base;
  x = base + offsets[0];
  for (int i = 0; i < 4; ++i) bufs[i] = base + offsets[1 + i];
  zero = base + offsets[5];
  pooled = base + offsets[6];
  cam_grid = base + offsets[7];
  cam = base + offsets[8];
  wg_scratch = base + offsets[9];

  // buffer assignment: each activation of resnet18.h in one of the 4 rotating buffers (-1: the
  // network input x, -2: none). The stem writes B0, the max pool B0 -> B1 (block 0's input); in
  // a block its input, conv1's output, its output and the shortcut are four distinct buffers,
  // and its output is the next block's input.
  using resnet18::Act;
  struct Wire_ {
    Conv_* c;
    int in, out, res;
  };
  std::vector<Wire_> wires;
  int buf_of[int(Act::BlockOut) + 1];   // per activation: its rotating buffer
  buf_of[int(Act::None)] = -2;
  buf_of[int(Act::Image)] = -1;
  buf_of[int(Act::Stem)] = 0;
  const int pool_out_buf = 1;
  buf_of[int(Act::BlockIn)] = pool_out_buf;
  auto wire = [&](Conv_* cv) {
    const resnet18::ConvSpec& sp = *cv->spec;
    wires.push_back({cv, buf_of[int(sp.in)], buf_of[int(sp.out)], buf_of[int(sp.residual)]});
  };
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
  const int cur = buf_of[int(Act::BlockIn)];   // the last block's output: the features
  pool_in = bufs[buf_of[int(Act::Stem)]];
  pool_out = bufs[pool_out_buf];
  features = bufs[cur];
  for (const Wire_& w : wires) {
    w.c->in = w.in < 0 ? x : bufs[w.in];
    w.c->out = bufs[w.out];
    w.c->residual = w.res < 0 ? nullptr : bufs[w.res];
  }

  if (int8) {
    // int8 arena (x_q | 4 rotating buffers, each 64-byte aligned, each for `batch` images),
    // same assignment; the quantization must chain: each conv reads its producer's output
    // parameters
    size_t act_q = 0, x_bytes = 0, bytes_q = 0;
    // x_q is the stem's pre-padded input (border and slack = its zero point, set once here);
    // x16_stem the same for every image of a batch
    const size_t x_pad_q = conv_padded_input_size(stem->shape);
    const size_t x_pad_b = conv_padded_input_size(batched_(stem->shape));
    if (!mul_ok_(max_act, nimg, &act_q) || !add_ok_(act_q, 63, &act_q) ||
        !add_ok_(x_pad_q, 63, &x_bytes) || x_pad_b == 0) {
      MC_FAIL_(err, "int8 arena size overflows");
    }
    act_q = act_q / 64 * 64;
    x_bytes = x_bytes / 64 * 64;
    if (!mul_ok_(act_q, 4, &bytes_q) || !add_ok_(bytes_q, x_bytes + 64, &bytes_q)) {
      MC_FAIL_(err, "int8 arena size overflows");
    }
    arena_q.assign(bytes_q, 0);
    int8_t* qb = arena_q.data();
    while (reinterpret_cast<uintptr_t>(qb) % 64 != 0) ++qb;
    x_q = qb;
    std::memset(x_q, static_cast<int8_t>(stem->qin.zero_point), x_pad_q);
    for (int i = 0; i < 4; ++i) bufs_q[i] = qb + x_bytes + static_cast<size_t>(i) * act_q;
    QuantParams buf_qp[4] = {{1, 0}, {1, 0}, {1, 0}, {1, 0}};
    auto same = [](QuantParams a, QuantParams b) {
      return a.scale == b.scale && a.zero_point == b.zero_point;
    };
    size_t x16_count = 0, wq_scratch_n = 0;
    for (const Wire_& w : wires) {
      Conv_& c = *w.c;
      if (w.in >= 0 && !same(c.qin, buf_qp[w.in])) {
        MC_FAIL_(err, "tensor '" + c.name() + "': input quantization differs from the output "
                      "quantization of the layer before (re-convert the model)");
      }
      c.in_q = w.in < 0 ? x_q : bufs_q[w.in];
      c.out_q = bufs_q[w.out];
      c.residual_q = w.res < 0 ? nullptr : bufs_q[w.res];
      if (w.res >= 0) c.qres = buf_qp[w.res];
      buf_qp[w.out] = c.qout;
      if (&c == stem) buf_qp[1] = c.qout;   // the max pool keeps its input's parameters
      if (&c == stem) continue;
      c.in_count_q = static_cast<size_t>(c.shape.in_h) * c.shape.in_w * c.shape.in_c;
      c.winograd = winograd_qs8_(c.shape) && !defer_winograd ? 2 : 0;
      c.wg_batched = !c.winograd && !defer_winograd && batch >= kWinogradBatchMin_ &&
                     conv_winograd_qs8_applicable(c.shape);
      if (conv_winograd_qs8_applicable(c.shape))   // the batch budget counts its scratch always
        wq_scratch_full = std::max(wq_scratch_full, conv_winograd_qs8_scratch_size(c.shape));
      if (c.winograd || c.wg_batched)
        wq_scratch_n = std::max(wq_scratch_n, conv_winograd_qs8_scratch_size(batched_(c.shape)));
      if (!c.winograd)   // a Winograd conv reads its int8 input directly
        x16_count = std::max(x16_count, c.in_count_q * nimg);
    }
    x16.assign(x16_count, 0);
    wq_scratch.assign(wq_scratch_n, 0);
    x16_stem.assign(x_pad_b, static_cast<int16_t>(stem->qin.zero_point));
    // classify's input: quantize(normalize(v)) depends on the byte v and its channel only, so
    // one table gives exactly what quantize_f32_qs8 gives on normalize_u8's floats
    for (int i = 0; i < 3 * 256; ++i) {
      int8_t q;
      quantize_f32_qs8(1, pre.norm_lut() + i, stem->qin, &q);
      qlut[i] = q;
    }
    // the exact Winograd form of c's stored weights into *to, once; then its input tiles (int8)
    auto winograd_ = [&](Conv_& c, std::vector<uint8_t>* to) {
      if (to->empty()) {
        std::vector<uint8_t> pw(conv_winograd_qs8_packed_size(c.shape));
        if (pw.empty() || !conv_winograd_qs8_pack_from_igemm(c.shape, c.wq, pw.data())) {
          MC_FAIL_(err, "tensor '" + c.name() + "': Winograd weight transform failed");
        }
        to->swap(pw);
      }
      c.zero_q.assign(static_cast<size_t>(c.shape.in_c), static_cast<int8_t>(c.qin.zero_point));
      c.indirection_wq.assign(conv_winograd_qs8_indirection_size(batched_(c.shape)), nullptr);
      conv_winograd_qs8_setup(batched_(c.shape), c.in_q, c.zero_q.data(), c.indirection_wq.data());
      return true;
    };
    for (const Wire_& w : wires) {   // weights (row form, w16 form), indirection into x16
      Conv_& c = *w.c;
      // a conv waiting for its Winograd form runs the stored weights as they are meanwhile
      c.w16 = !c.winograd && !winograd_qs8_(c.shape) && conv_qs8_a16_prefers_w16(c.shape);
      if (&c == stem) {   // row form: weights repacked once, kh pointers per output pixel
        c.rows = true;
        if (!c.weights_made) {
          c.weights_made = true;
          std::vector<uint8_t> px(conv_rows_packed_qs8_size(c.shape));
          conv_rows_repack_qs8(c.shape, c.wq, px.data());
          c.packed_q.swap(px);
          c.wq = c.packed_q.data();
          if (c.w16) {
            std::vector<uint8_t> pw(conv_rows_packed_qs8_w16_size(c.shape));
            conv_rows_widen_packed_qs8_w16(c.shape, c.wq, pw.data());
            c.packed_q.swap(pw);
            c.wq = c.packed_q.data();
          }
        }
        c.indirection_x16.assign(conv_rows_indirection_size(batched_(c.shape)), nullptr);
        conv_rows_setup_indirection_qs8_a16(batched_(c.shape), x16_stem.data(),
                                            c.indirection_x16.data());
        continue;
      }
      if (c.winograd) {   // the Winograd weights replace the direct ones
        std::vector<uint8_t> pw;   // made from c.wq, which packed_q may still hold
        if (!winograd_(c, c.weights_made ? &c.packed_q : &pw)) return false;
        if (!c.weights_made) {
          c.weights_made = true;
          c.packed_q.swap(pw);
          c.wq = c.packed_q.data();
        }
        continue;
      }
      if (c.w16 && !c.weights_made) {   // the stored int8 weights stay as they are otherwise
        c.weights_made = true;
        std::vector<uint8_t> pw(conv_packed_qs8_w16_size(c.shape));
        conv_widen_packed_qs8_w16(c.shape, c.wq, pw.data());
        c.packed_q.swap(pw);
        c.wq = c.packed_q.data();
      }
      c.zero_x16.assign(static_cast<size_t>(c.shape.in_c), static_cast<int16_t>(c.qin.zero_point));
      c.indirection_x16.assign(conv_indirection_size(batched_(c.shape)), nullptr);
      conv_setup_indirection_qs8_a16(batched_(c.shape), x16.data(), c.zero_x16.data(),
                                     c.indirection_x16.data());
      if (c.wg_batched) {   // its Winograd form beside the direct one, for larger passes
        if (c.w16) {            // made from the stored weights, not their w16 form
          MC_FAIL_(err, "internal: tensor '" + c.name() + "' is w16 and batched Winograd");
        }
        if (!winograd_(c, &c.packed_wgq)) return false;
      }
    }
    features_q = bufs_q[cur];
    features_qp = buf_qp[cur];
  }

  // indirection, pointing into the arena (which does not move until the next plan())
  for (Conv_& cv : convs) {
    const size_t n = int8 ? (cv.winograd ? conv_winograd_qs8_indirection_size(batched_(cv.shape))
                             : (cv.rows ? conv_rows_indirection_size(batched_(cv.shape))
                                        : conv_indirection_size(batched_(cv.shape))) +
                                   (cv.wg_batched ? cv.indirection_wq.size() : 0))
                     : cv.winograd ? conv_winograd_f32_indirection_size(cv.shape, cv.winograd)
                                   : conv_indirection_size(cv.shape);
    if (!add_ok_(indirection_pointers, n, &indirection_pointers)) {
      MC_FAIL_(err, "indirection size overflows");
    }
    cv.in_count = static_cast<size_t>(cv.shape.in_h) * cv.shape.in_w * cv.shape.in_c;
    cv.out_count = static_cast<size_t>(cv.shape.out_h()) * cv.shape.out_w() * cv.shape.out_c;
    if (int8) continue;
    if (&cv == stem) {   // row form on a pre-padded copy of x (border 0, set once here)
      cv.rows = true;
      x_pad.assign(conv_padded_input_size(cv.shape), 0.0f);
      cv.indirection.assign(conv_rows_indirection_size(cv.shape), nullptr);
      conv_rows_setup_indirection(cv.shape, x_pad.data(), cv.indirection.data());
      continue;
    }
    if (cv.winograd) {   // the Winograd weights replace the direct ones
      const int m = cv.winograd;
      cv.packed_wg.assign(conv_winograd_f32_packed_size(cv.shape, m), 0.0f);
      cv.indirection_wg.assign(n, nullptr);
      if (cv.packed_wg.empty() ||
          !conv_winograd_f32_pack_from_igemm(cv.shape, m, cv.packed.data(), cv.packed_wg.data())) {
        MC_FAIL_(err, "tensor '" + cv.name() + "': Winograd weight transform failed");
      }
      conv_winograd_f32_setup(cv.shape, m, cv.in, zero, wg_scratch, cv.indirection_wg.data());
      std::vector<float>().swap(cv.packed);
      continue;
    }
    cv.indirection.assign(n, nullptr);
    conv_setup_indirection(cv.shape, cv.in, zero, cv.indirection.data());
  }

  // CAM upsampling tables: src = (i + 0.5) * g / S - 0.5, clamped (like align_corners=False)
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
  if (int8 && !planned) {   // one image's buffers, planned just now: how many fit the budget
    const size_t per_image = arena_q.size() + std::max(wq_scratch.size(), wq_scratch_full) +
                             (x16.size() + x16_stem.size()) * sizeof(int16_t) +
                             indirection_pointers * sizeof(void*) + 1;
    batch_cap = static_cast<int>(std::max<size_t>(1, std::min<size_t>(kMaxBatch, kBatchBytes_ / per_image)));
  }
  planned = true;
  return true;
}

void Engine::Impl_::observe_(int index, const char* name, const float* in, size_t n_in,
                             const float* out, size_t n_out) {
  if (observer) observer(observer_ctx, LayerActivations{index, name, in, n_in, out, n_out});
}

void Engine::Impl_::run_conv_(int index, const Conv_& c) {
  if (c.rows)
    conv_rows_run_f32(c.shape, c.indirection.data(), c.packed.data(), c.out, c.residual, c.relu, isa);
  else if (c.winograd)
    conv_winograd_f32_run(c.shape, c.winograd, c.indirection_wg.data(), c.packed_wg.data(),
                          wg_scratch, c.out, c.residual, c.relu, isa);
  else
    conv_run_f32(c.shape, c.indirection.data(), c.packed.data(), c.out, c.residual, c.relu, isa);
  observe_(index, c.spec->name, c.in, c.in_count, c.out, c.out_count);
}

void Engine::Impl_::cam_(int slot) {
  const int C = resnet18::kFeatures;
  const size_t grid = static_cast<size_t>(feat_h) * feat_w;
  float* cam_grid = this->cam_grid + slot * grid;   // this image's
  float* cam = this->cam + static_cast<size_t>(slot) * S * S;
  const int8_t* features_q = this->features_q + slot * grid * C;
  for (int p = 0; p < feat_h * feat_w; ++p) {
    float s = 0;
    if (int8) {   // dequantized on the fly: scale * (q - zp)
      const int8_t* f = features_q + static_cast<size_t>(p) * C;
      for (int c = 0; c < C; ++c) s += cam_w[c] * static_cast<float>(f[c] - features_qp.zero_point);
      s *= features_qp.scale;
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
  const size_t row = static_cast<size_t>(S) * 3, row_pad = (static_cast<size_t>(S) + 2 * stem->shape.pad) * 3;
  for (int y = 0; y < S; ++y)   // into the stem's pre-padded input
    std::memcpy(x_pad.data() + conv_padded_input_offset(stem->shape) + y * row_pad, x + y * row,
                row * sizeof(float));
  run_conv_(li++, *stem);                                             // conv7x7/2 + ReLU
  maxpool_f32(pool_in_h, pool_in_w, resnet18::kStemChannels, resnet18::kPoolSize,   // maxpool
              resnet18::kPoolStride, resnet18::kPoolPad, pool_in, pool_out, isa);
  observe_(li++, "maxpool", pool_in, static_cast<size_t>(pool_in_h) * pool_in_w * 64, pool_out,
           static_cast<size_t>(pool_out_h) * pool_out_w * 64);
  for (const Block_& b : blocks) {                                    // 4 stages x 2 blocks
    if (b.down) run_conv_(li++, *b.down);                             //   shortcut 1x1/2
    run_conv_(li++, *b.conv1);                                        //   conv3x3 + ReLU
    run_conv_(li++, *b.conv2);                                        //   conv3x3 + shortcut, ReLU
  }
  const int C = resnet18::kFeatures;
  global_avgpool_f32(feat_h * feat_w, C, features, pooled, isa);      // GAP
  observe_(li++, "avgpool", features, static_cast<size_t>(feat_h) * feat_w * C, pooled, C);
}

// The same graph on int8 activations (the observer is not called: it sees f32 engines only),
// for the first k images of a batch, from the stem's input in x16_stem. Each conv runs once
// over all k images (ConvShape::n = k); the pools go image by image.
void Engine::Impl_::forward_qs8_(int k) {
  const int8_t* widened = nullptr;   // whose values x16 holds (a block's downsample and conv1
                                     // read the same input)
  auto conv = [&](const Conv_& c) {
    const ConvShape s = batched_(c.shape, k);
    if (c.winograd || (c.wg_batched && k >= kWinogradBatchMin_)) {   // exact Winograd F(2x2, 3x3)
      conv_winograd_qs8_run(s, c.indirection_wq.data(), c.winograd ? c.wq : c.packed_wgq.data(),
                            wq_scratch.data(), c.out_q, c.residual_q, c.qres, c.relu, isa);
      if (c.out_q == widened) widened = nullptr;
      return;
    }
    if (&c != stem && c.in_q != widened) widen_qs8_a16(c.in_count_q * k, c.in_q, x16.data());
    widened = c.out_q == c.in_q ? nullptr : c.in_q;
    if (c.rows)
      conv_rows_run_qs8_a16(s, c.indirection_x16.data(), c.wq, c.w16,
                            c.out_q, c.residual_q, c.qres, c.relu, isa);
    else
      conv_run_qs8_a16(s, c.indirection_x16.data(), c.wq, c.w16, c.out_q,
                       c.residual_q, c.qres, c.relu, isa);
  };
  const size_t pool_in_n = static_cast<size_t>(pool_in_h) * pool_in_w * 64;
  const size_t pool_out_n = static_cast<size_t>(pool_out_h) * pool_out_w * 64;
  const size_t feat_n = static_cast<size_t>(feat_h) * feat_w * resnet18::kFeatures;
  conv(*stem);                                                          // conv7x7/2 + ReLU
  for (int i = 0; i < k; ++i)                                           // maxpool 3x3/2
    maxpool_qs8(pool_in_h, pool_in_w, resnet18::kStemChannels, resnet18::kPoolSize,
                resnet18::kPoolStride, resnet18::kPoolPad, bufs_q[0] + i * pool_in_n,
                bufs_q[1] + i * pool_out_n, isa);
  for (const Block_& b : blocks) {                                      // 4 stages x 2 blocks
    if (b.down) conv(*b.down);
    conv(*b.conv1);
    conv(*b.conv2);
  }
  for (int i = 0; i < k; ++i)                                           // GAP (dequantizes)
    global_avgpool_qs8_f32(feat_h * feat_w, resnet18::kFeatures, features_q + i * feat_n,
                           features_qp, pooled + i * resnet18::kFeatures, isa);
}

void Engine::Impl_::forward(const float* input, Prediction* out) {
  if (input != x) std::memcpy(x, input, static_cast<size_t>(S) * S * 3 * sizeof(float));
  if (int8) {
    // quantize the input into the stem's pre-padded buffers (x_q, then its int16 copy)
    const size_t row = static_cast<size_t>(S) * 3, row_pad = (static_cast<size_t>(S) + 2 * stem->shape.pad) * 3;
    const size_t off = conv_padded_input_offset(stem->shape);
    for (int y = 0; y < S; ++y) {
      quantize_f32_qs8(row, x + y * row, stem->qin, x_q + off + y * row_pad);
      widen_qs8_a16(row, x_q + off + y * row_pad, x16_stem.data() + off + y * row_pad);
    }
    forward_qs8_(1);
  } else {
    forward_f32_();
  }
  head_(0, out);
}

// int8 engines, image `slot` of a batch from its resized bytes: each byte's quantized normalized
// value by qlut, straight into the stem's int16 input (the same values as forward() on
// normalize_u8's floats).
void Engine::Impl_::input_rgb_qs8_(int slot, const uint8_t* rgb) {
  const size_t row = static_cast<size_t>(S) * 3, row_pad = (static_cast<size_t>(S) + 2 * stem->shape.pad) * 3;
  int16_t* dst = x16_stem.data() + slot * conv_padded_image_stride(stem->shape) +
                 conv_padded_input_offset(stem->shape);
  for (int y = 0; y < S; ++y) {
    const uint8_t* src = rgb + y * row;
    int16_t* d = dst + y * row_pad;
    for (size_t i = 0; i < row; i += 3) {
      d[i] = qlut[src[i]];
      d[i + 1] = qlut[256 + src[i + 1]];
      d[i + 2] = qlut[512 + src[i + 2]];
    }
  }
}

// FC, CAM and the prediction of image `slot`, from its pooled vector and last features.
void Engine::Impl_::head_(int slot, Prediction* out) {
  const int C = resnet18::kFeatures;
  float logits[2];
  const float* pooled = this->pooled + slot * C;
  fully_connected_f32(C, 2, fc_w.data(), fc_b.data(), pooled, logits, isa);   // FC
  if (!int8) observe_(22, "fc", pooled, C, logits, 2);
  cam_(slot);                                                         // CAM from f4

  out->logits[0] = logits[0];
  out->logits[1] = logits[1];
  out->label = logits[1] > logits[0] ? kLabelParasitized : kLabelUninfected;
  out->p_parasitized = calibrated_p(logits, temperature);
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
    set_err_(err, "null blob");
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
  std::unique_ptr<uint8_t, Impl_::FreeDeleter_> owned(blob_data);   // freed on every path
  if (!blob_data && blob_len) {
    set_err_(err, "null blob");
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
  const bool work = m.defer_winograd && m.int8;   // f32/f16 engines are built whole
  m.defer_winograd = false;
  if (!work) return true;
  return m.plan(err, m.batch);   // the same batch capacity, now with the Winograd forms
}

bool Engine::staged() const { return impl_->defer_winograd && impl_->int8; }

bool Engine::classify(const uint8_t* pixels, int width, int height, int channels, Prediction* out,
                      std::string* err) {
  if (!out) {
    MC_FAIL_(err, "null result");
  }
  if (impl_->int8) {   // the f32 input is not needed: qlut quantizes the resized bytes
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
    set_err_(err, "batch of " + std::to_string(n) + " images: this engine takes 1 to " +
                      std::to_string(batch_capacity()));
    return -1;
  }
  if (!pixels || !widths || !heights || !out) {
    set_err_(err, "null pixels, sizes or results");
    return -1;
  }
  // the first batch: buffers and indirection for batch_capacity() images, once (the weights stay)
  if (n > impl_->batch && !impl_->plan(err, batch_capacity())) return -1;
  if (!impl_->int8) {   // one image: the f32/f16 path
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
const float* Engine::cam() const { return impl_->cam; }
const float* Engine::cam(int i) const {
  return i >= 0 && i < impl_->batch ? impl_->cam + static_cast<size_t>(i) * impl_->S * impl_->S : nullptr;
}
int Engine::batch_capacity() const { return impl_->int8 ? impl_->batch_cap : 1; }
const float* Engine::cam_grid() const { return impl_->cam_grid; }
int Engine::cam_grid_h() const { return impl_->feat_h; }
int Engine::cam_grid_w() const { return impl_->feat_w; }
const uint8_t* Engine::resized() const { return impl_->pre.resized(); }
const std::string& Engine::metadata_json() const { return impl_->metadata; }
float Engine::temperature() const { return impl_->temperature; }
float Engine::band_lo() const { return impl_->band_lo; }
float Engine::band_hi() const { return impl_->band_hi; }
const char* Engine::weight_dtype() const { return impl_->dtype.c_str(); }
size_t Engine::arena_bytes() const {
  return impl_->arena.size() * sizeof(float) + impl_->arena_q.size() + impl_->wq_scratch.size() +
         (impl_->x16.size() + impl_->x16_stem.size()) * sizeof(int16_t) +
         impl_->indirection_pointers * sizeof(void*);
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
  if (self->layers_.size() <= i) {   // grows during the first forward only
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
