// preprocess.h -- the canonical "area-int" preprocessing of model/common.py, bit for bit.
//
// Usage:
//   mc::Preprocessor pp;
//   std::string err;
//   if (!pp.init(S, mean, stdev, mc::ImageLimits{}, &err)) { ... }     // allocates, once
//   std::vector<float> x(pp.input_floats());                           // S*S*3, NHWC
//   if (!pp.run(rgba, width, height, 4, x.data(), &err)) { ... }       // allocates nothing
//   const uint8_t* cell = pp.resized();                                // S*S*3 RGB of that run
//
// Steps (see model/common.py):
//   1. RGB or RGBA rows, tightly packed (alpha ignored);
//   2. resize to S x S: output (y, x) is the mean of the input box rows
//      [floor(y*H/S), ceil((y+1)*H/S)) x cols [floor(x*W/S), ceil((x+1)*W/S)), rounded half up
//      as (2*sum + n) / (2*n) in integers -- exact, so identical to the Python side;
//   3. x = (v / 255 - mean[c]) / std[c] in float32, in the same operation order as PyTorch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mc {

// Hard caps on the images accepted (checked before any pixel is read).
struct ImageLimits {
  int max_side = 8192;                  // width and height each
  int64_t max_pixels = 40LL * 1000000;  // width * height
};

// Checks 1 <= w,h <= max_side, w*h <= max_pixels, channels 3 or 4. On failure writes a message
// (when err is non-null) and returns false.
bool check_image_size(int width, int height, int channels, const ImageLimits& lim,
                      std::string* err);

// Integer area resize of RGB/RGBA pixels to S x S x 3 uint8 (out has S*S*3 bytes). No
// allocation. Returns false with a message on a bad size.
bool area_resize_u8(const uint8_t* pixels, int width, int height, int channels, int S, uint8_t* out,
                    const ImageLimits& lim, std::string* err);

// Normalization of an S*S*3 uint8 image into floats with a 3 x 256 lookup table built by
// make_norm_lut (the table holds exactly (v / 255.f - mean[c]) / std[c]).
void make_norm_lut(const float mean[3], const float stdev[3], float lut[3 * 256]);
void normalize_u8(const uint8_t* rgb, size_t n_pixels, const float lut[3 * 256], float* out);

class Preprocessor {
 public:
  // S in [1, 4096]; stdev entries must be finite and > 0. Allocates the S*S*3 byte buffer.
  bool init(int S, const float mean[3], const float stdev[3], const ImageLimits& lim,
            std::string* err);
  // pixels -> out (S*S*3 floats, NHWC). Allocates nothing.
  bool run(const uint8_t* pixels, int width, int height, int channels, float* out,
           std::string* err);
  // Only the resize (pixels -> resized()), for callers that use norm_lut() themselves.
  bool resize(const uint8_t* pixels, int width, int height, int channels, std::string* err);
  const float* norm_lut() const { return lut_; }  // make_norm_lut's table, 3 x 256
  int size() const { return S_; }
  size_t input_floats() const { return static_cast<size_t>(S_) * S_ * 3; }
  const uint8_t* resized() const { return resized_.data(); }  // of the last successful run
  const ImageLimits& limits() const { return lim_; }

 private:
  int S_ = 0;
  ImageLimits lim_;
  float lut_[3 * 256] = {};
  std::vector<uint8_t> resized_;
};

}  // namespace mc
