// engine.h -- the ResNet18 cell classifier: a parsed model blob + a graph fixed in code.
//
// Usage:
//   std::string err;
//   std::unique_ptr<mc::Engine> e = mc::Engine::create(blob, blob_len, &err);   // plans everything
//   if (!e) { fprintf(stderr, "model rejected: %s\n", err.c_str()); return 2; }
//   mc::Prediction r;
//   if (!e->classify(rgba, width, height, 4, &r, &err)) { ... }                // allocates nothing
//   printf("%s p=%.4f band=%s\n", mc::label_name(r.label), r.p_parasitized, mc::band_name(r.band));
//   const float* cam = e->cam();            // S*S floats, valid until the next classify
//   // several cells in one pass (int8: up to kMaxBatch; each weight read once for all):
//   std::vector<mc::Prediction> rs(n); std::vector<std::string> errs(n);
//   e->classify_batch(n, pixel_ptrs, widths, heights, 4, rs.data(), errs.data(), &err);
//
// What create() does, once: parse and validate the blob (blob.h), check every tensor the graph
// needs (name, dtype, shape, stride, pad), copy the packed weights (f16 widened to f32), plan
// all activations in one arena (input, 4 rotating buffers, pooled vector, logits, CAM) and set
// up every convolution's indirection buffer pointing into that arena. After that the arena
// never moves, and classify()/forward() allocate nothing. (An int8 engine plans the buffers
// once more, for kMaxBatch images, at its first classify_batch of more than one image; a staged
// one, made for the quickest first result, once more at finish(), when it makes the Winograd
// weights it deferred.)
//
// The graph is torchvision's ResNet18 with BatchNorm folded into the convolutions:
//   x -> conv7x7/2 + ReLU -> maxpool 3x3/2 -> 4 stages x 2 BasicBlocks -> GAP -> FC -> logits
//   BasicBlock: y = ReLU(conv2(ReLU(conv1(x))) + shortcut(x)), shortcut = 1x1/2 conv or identity
// The head (blob.h Head): fc over the average pool (torchvision), or fast.ai's head with its
// BatchNorm1d folded in: [max, avg] pool (concat_pool) or avg -> fc1 -> ReLU -> fc2, N classes.
// Class activation map, from the same pass (linear head on the average pool only):
// cam_grid[p] = (w_fc[pos] - mean of the other rows) . f4[p] over the last conv features f4,
// bilinearly upsampled (half-pixel centers) to S x S.
//
// Calibration hook (for the int8 converter): set_observer() is called after every layer with
// its input and output activations; ActivationRanges collects per-layer min/max from it.
// (f32/f16 engines only: an int8 engine runs the same graph on int8 activations with
// conv_run_qs8_a16 / the exact Winograd conv_winograd_qs8_run (3x3/1 convs with >= 4 output
// tiles; layer4's, one tile per image, in passes of 3 or more images) / maxpool_qs8 /
// global_avgpool_qs8_f32; the fc and the CAM stay f32.)
//
// An Engine is not thread-safe: one per thread / worker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "blob.h"

#include "ops/ops.h"
#include "preprocess.h"

namespace mc {

// Images an int8 engine classifies in one pass (classify_batch). Measured: see BENCHMARKS.md.
constexpr int kMaxBatch = 8;

enum { kLabelUninfected = 0, kLabelParasitized = 1 };
enum { kBandUninfected = 0, kBandUncertain = 1, kBandParasitized = 2 };

const char* label_name(int label);  // "Uninfected" | "Parasitized"
const char* band_name(int band);    // "uninfected" | "uncertain" | "parasitized"

struct Prediction {
  float logits[2] = {0, 0};  // index 0 Uninfected, 1 Parasitized. N classes (format version 2):
                             // [1] the positive class's logit, [0] the largest of the others
                             // (all N: Engine::class_logits)
  float p_parasitized = 0;   // softmax(logits / T)[1]; N classes: softmax(z / T)[positive]
  int label = 0;             // argmax(logits) (ties -> Uninfected): 1 iff the positive class wins
  int band = 0;              // k Band*: p <= lo uninfected, p >= hi parasitized, else uncertain
};

// One layer's activations as seen by the observer (NHWC floats, valid during the callback).
struct LayerActivations {
  int index;         // 0.. in graph order
  const char* name;  // blob tensor name ("conv1", "layer2.0.downsample", ...) or
                     // "maxpool", "avgpool", "fc"
  const float* input;
  size_t input_count;
  const float* output;
  size_t output_count;
};
using LayerObserver = void (*)(void* ctx, const LayerActivations& layer);

class Engine {
 public:
  // blob: the .mcb bytes (copied from as needed; may be freed afterwards). isa: kernel set.
  // payload_sha256: optional SHA-256 of blob[64, blob_len) computed by the caller
  // (blob::ParseOptions::payload_sha256); null: the reader hashes the payload itself.
  // staged (int8; no effect on f32/f16): built for the quickest first result. The 3x3
  // convolutions that run as the exact Winograd transform (~8 MB of transformed weights) run
  // the direct form on the stored weights until finish(); results are bit-identical either way.
  static std::unique_ptr<Engine> create(const uint8_t* blob, size_t blob_len, std::string* err,
                                        Isa isa = default_isa(),
                                        const ImageLimits& limits = ImageLimits{},
                                        const uint8_t* payload_sha256 = nullptr,
                                        bool staged = false);
  // The same, taking over `blob`, a buffer from malloc() that the engine frees (also when create
  // fails): an int8 blob's weights that run as stored (the late layers, ~8 MB) are then read in
  // place instead of copied, which saves that memory and the copy at load.
  static std::unique_ptr<Engine> create_adopt(uint8_t* blob, size_t blob_len, std::string* err,
                                              Isa isa = default_isa(),
                                              const ImageLimits& limits = ImageLimits{},
                                              const uint8_t* payload_sha256 = nullptr,
                                              bool staged = false);
  ~Engine();

  // A staged engine: make the Winograd weights and plan again (allocates; call it between
  // classifications, e.g. once the first result is out). True at once when nothing is deferred.
  // False with a message when planning fails (out of memory): the engine is then unusable.
  bool finish(std::string* err);
  bool staged() const;  // finish() has work left
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // pixels (RGB or RGBA rows, tightly packed) -> prediction (+ cam()). No allocation.
  bool classify(const uint8_t* pixels, int width, int height, int channels, Prediction* out,
                std::string* err);
  // n <= batch_capacity() images in one pass: every op runs once over all of them, so each
  // weight is read once for the batch (int8 engines take kMaxBatch, fewer at large input sizes
  // where a batch's buffers would pass 256 MiB; f32/f16 engines 1). Image i
  // -> out[i] and cam(i), the same values classify() gives it alone, bit for bit. An image that
  // cannot be read (too large, bad size) gets its message in errs[i] (errs: n strings, or null)
  // and the others go on. Returns how many were classified, or -1 (message in err) for a bad n
  // or null arrays. Allocates nothing unless an image fails, except once: an engine plans its
  // buffers for one image at load, and for batch_capacity() images at its first batch.
  int classify_batch(int n, const uint8_t* const* pixels, const int* widths, const int* heights,
                     int channels, Prediction* out, std::string* errs, std::string* err);
  int batch_capacity() const;
  // The network alone on an already normalized S*S*3 NHWC input (parity tests, calibration).
  void forward(const float* input_nhwc, Prediction* out);

  int input_size() const;      // S
  int num_classes() const;     // N (labels().size(); 2 in a version 1 blob)
  int positive_class() const;  // index of the parasitized label
  const std::vector<std::string>& labels() const;
  // the N logits of image i of the last classify_batch (i = 0: of the last classify/forward),
  // in label order; null for i out of range
  const float* class_logits(int i = 0) const;
  // the CAM exists for a linear head on the average pool only (torchvision's fc, fast.ai's
  // head with concat_pool=False and no hidden layer): other heads return null here
  const float* cam() const;       // S*S, of the last classify/forward
  const float* cam(int i) const;  // S*S, of image i of the last classify_batch
  const float* cam_grid() const;  // gh*gw, before upsampling
  int cam_grid_h() const;
  int cam_grid_w() const;
  const uint8_t* resized() const;            // S*S*3 RGB input of the last classify
  const std::string& metadata_json() const;  // the blob's JSON header
  float temperature() const;
  float band_lo() const;
  float band_hi() const;
  const char* weight_dtype() const;  // "f32" | "f16" | "int8" as stored in the blob
  size_t arena_bytes() const;        // activations + indirection, planned at load
  Isa isa() const;

  void set_observer(LayerObserver fn, void* ctx);  // nullptr to remove

  struct Impl_;

 private:
  Engine();
  std::unique_ptr<Impl_> impl_;
};

// Per-layer min/max of the activations over everything run while attached.
//   mc::ActivationRanges ranges;
//   ranges.attach(engine);  for (...) engine.forward(x, &r);  ranges.detach(engine);
//   for (auto& l : ranges.layers()) printf("%s in [%g, %g] out [%g, %g]\n", ...);
class ActivationRanges {
 public:
  struct Layer {
    std::string name;
    float in_min, in_max, out_min, out_max;
  };
  void attach(Engine& e);
  void detach(Engine& e);
  const std::vector<Layer>& layers() const { return layers_; }

 private:
  static void observe_(void* ctx, const LayerActivations& a);
  std::vector<Layer> layers_;
};

// p = softmax(logits / T)[1] computed stably; band from [lo, hi].
float calibrated_p(const float logits[2], float temperature);
// p = softmax(logits / T)[positive] over n logits, computed stably (in double).
float calibrated_p_n(const float* logits, int n, int positive, float temperature);
int band_of(float p, float lo, float hi);

}  // namespace mc
