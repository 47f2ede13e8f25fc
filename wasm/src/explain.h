// explain.h -- an occlusion heat map for one cell, computed on demand: where covering the cell
// lowers the network's evidence for Parasitized.
//
// Usage:
//   mc::Explanation x;
//   std::string err;
//   if (!mc::explain(engine, rgba, width, height, 4, &x, &err)) { ... }   // a bad size
//   // x.map: S*S floats, row-major over the network input (which covers the whole image):
//   //        the mean drop of the Parasitized logit over the patches covering each pixel
//   // x.peak_x, x.peak_y: the map's peak over the cell, S-pixel coordinates
//   // x.base: the unoccluded image's prediction (the same as Engine::classify gives it)
//
// The method (measured in model/heatmap_eval.py, which computes the same with PyTorch; result
// and numbers in model/REPORT.md, "Heat map"):
//   1. the image is area-resized to the S x S network input (preprocess.h), once;
//   2. cell pixels: max(R, G, B) > kExplainCellLevel; fill colour: their mean, rounded
//      ((2 * sum + n) / (2 * n) per channel);
//   3. a patch of `patch` x `patch` input pixels slides over the S x S image with stride
//      `stride` (positions 0, stride, 2 * stride, ... and S - patch); at each position the
//      cell pixels under the patch take the fill colour (the black surround stays black), and
//      the drop z1(image) - z1(occluded) of the Parasitized logit is recorded. A position with
//      no cell pixel under the patch changes nothing: drop 0, not classified;
//   4. map[p] = the mean drop over the positions whose patch covers pixel p;
//   5. peak: the largest value over the cell pixels (all pixels if none); where pixels tie (the
//      map is constant between patch edges), the centroid of the tied pixels 4-connected
//      to the first in row order, at pixel centres (+0.5).
// The occluded copies are S x S images, so classify_batch's resize is the identity; they run in
// passes of batch_capacity() images (8 for an int8 engine). Cost: 1 + (number of positions that
// touch the cell) network passes, at most 1 + 16 * 16 = 257 with the default 6 / 4 at S = 64
// (about 190 on an NIH cell, whose black corners are skipped).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine.h"

namespace mc {

constexpr int kExplainCellLevel = 24;  // S x S input: a cell pixel has max(R, G, B) > this

struct ExplainOptions {
  // chosen on the validation slides' parasitized cells (model/REPORT.md, "Heat map"): 6 / 4 put the
  // peak on the parasite more often than 4, 5 or 8 px patches and than strides 2 or 3
  int patch = 6;   // side of the occluding square, network-input pixels
  int stride = 4;  // step between positions
};

struct Explanation {
  int size = 0;                  // S
  std::vector<float> map;        // S*S, row-major
  float peak_x = 0, peak_y = 0;  // S-pixel coordinates of the peak (pixel centres at +0.5)
  Prediction base;               // of the unoccluded image
  int passes = 0;                // images classified (the image itself + occluded copies)
  int patch = 0, stride = 0;     // as used
};

// Occlusion map of one image (RGB or RGBA rows, tightly packed). Allocates (the resized copies,
// the map; and the engine's batch buffers at its first batch). False with a message for an image
// that cannot be read, an image with no cell pixel (all near black), or bad options.
bool explain(Engine* engine, const uint8_t* pixels, int width, int height, int channels,
             Explanation* out, std::string* err, const ExplainOptions& options = ExplainOptions{});

// The peak of an S x S map over the cell pixels of the S x S RGB image rgb (step 5 above).
void explain_peak(const float* map, const uint8_t* rgb, int S, float* peak_x, float* peak_y);

}  // namespace mc
