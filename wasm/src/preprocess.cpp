// preprocess.cpp -- integer area resize + normalization (see preprocess.h, model/common.py).
#include "preprocess.h"

#include <cmath>

#include "fail.h"

namespace mc {

bool check_image_size(int width, int height, int channels, const ImageLimits& lim,
                      std::string* err) {
  using std::to_string;
  if (channels != 3 && channels != 4) {
    return fail(err, [&] {
      return "unsupported channel count " + to_string(channels) + " (need 3 RGB or 4 RGBA)";
    });
  }
  if (width <= 0 || height <= 0) {
    return fail(
        err, [&] { return "empty image (" + to_string(width) + " x " + to_string(height) + ")"; });
  }
  if (width > lim.max_side || height > lim.max_side) {
    return fail(err, [&] {
      return "image too large: " + to_string(width) + " x " + to_string(height) + " (limit " +
             to_string(lim.max_side) + " pixels per side)";
    });
  }
  // both factors are <= max_side (an int), so the product fits in int64
  const int64_t n = static_cast<int64_t>(width) * static_cast<int64_t>(height);
  if (n > lim.max_pixels) {
    return fail(err, [&] {
      return "image too large: " + to_string(width) + " x " + to_string(height) + " = " +
             to_string(static_cast<long long>(n)) + " pixels (limit " +
             to_string(static_cast<long long>(lim.max_pixels)) + ")";
    });
  }
  return true;
}

bool area_resize_u8(const uint8_t* pixels, int width, int height, int channels, int S, uint8_t* out,
                    const ImageLimits& lim, std::string* err) {
  if (!pixels || !out) {
    return fail(err, "null pixel buffer");
  }
  if (S <= 0 || S > 4096) {
    return fail(err, "bad output size S");
  }
  if (!check_image_size(width, height, channels, lim, err)) return false;
  const int64_t W = width, H = height, C = channels;
  const size_t row_bytes = static_cast<size_t>(W * C);
  if (W == S && H == S) {  // every box is one pixel: (2 * v + 1) / 2 == v, a copy
    for (size_t i = 0; i < static_cast<size_t>(S) * S; ++i) {
      out[3 * i + 0] = pixels[i * C + 0];
      out[3 * i + 1] = pixels[i * C + 1];
      out[3 * i + 2] = pixels[i * C + 2];
    }
    return true;
  }
  for (int64_t oy = 0; oy < S; ++oy) {
    const int64_t y0 = (oy * H) / S;
    const int64_t y1 = ((oy + 1) * H + S - 1) / S;
    for (int64_t ox = 0; ox < S; ++ox) {
      const int64_t x0 = (ox * W) / S;
      const int64_t x1 = ((ox + 1) * W + S - 1) / S;
      uint64_t s0 = 0, s1 = 0, s2 = 0;
      for (int64_t y = y0; y < y1; ++y) {
        const uint8_t* p =
            pixels + static_cast<size_t>(y) * row_bytes + static_cast<size_t>(x0 * C);
        for (int64_t x = x0; x < x1; ++x, p += C) {
          s0 += p[0];
          s1 += p[1];
          s2 += p[2];
        }
      }
      const uint64_t n = static_cast<uint64_t>((y1 - y0) * (x1 - x0));  // >= 1
      uint8_t* o = out + (static_cast<size_t>(oy) * S + static_cast<size_t>(ox)) * 3;
      o[0] = static_cast<uint8_t>((2 * s0 + n) / (2 * n));
      o[1] = static_cast<uint8_t>((2 * s1 + n) / (2 * n));
      o[2] = static_cast<uint8_t>((2 * s2 + n) / (2 * n));
    }
  }
  return true;
}

void make_norm_lut(const float mean[3], const float stdev[3], float lut[3 * 256]) {
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      // same float32 operations, in the same order, as model/train.py normalize()
      const float x = static_cast<float>(v) / 255.0f;
      lut[c * 256 + v] = (x - mean[c]) / stdev[c];
    }
  }
}

void normalize_u8(const uint8_t* rgb, size_t n_pixels, const float lut[3 * 256], float* out) {
  for (size_t i = 0; i < n_pixels; ++i) {
    out[3 * i + 0] = lut[0 * 256 + rgb[3 * i + 0]];
    out[3 * i + 1] = lut[1 * 256 + rgb[3 * i + 1]];
    out[3 * i + 2] = lut[2 * 256 + rgb[3 * i + 2]];
  }
}

bool Preprocessor::init(int S, const float mean[3], const float stdev[3], const ImageLimits& lim,
                        std::string* err) {
  if (S <= 0 || S > 4096) {
    return fail(err, "input size S must be in [1, 4096]");
  }
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(mean[c]) || !std::isfinite(stdev[c]) || !(stdev[c] > 0.0f)) {
      return fail(err, "normalization mean/std must be finite with std > 0");
    }
  }
  if (lim.max_side <= 0 || lim.max_pixels <= 0) {
    return fail(err, "image limits must be positive");
  }
  S_ = S;
  lim_ = lim;
  make_norm_lut(mean, stdev, lut_);
  resized_.assign(static_cast<size_t>(S) * S * 3, 0);
  return true;
}

bool Preprocessor::run(const uint8_t* pixels, int width, int height, int channels, float* out,
                       std::string* err) {
  if (S_ > 0 && !out) {
    return fail(err, "null output buffer");
  }
  if (!resize(pixels, width, height, channels, err)) return false;
  normalize_u8(resized_.data(), static_cast<size_t>(S_) * S_, lut_, out);
  return true;
}

bool Preprocessor::resize(const uint8_t* pixels, int width, int height, int channels,
                          std::string* err) {
  if (S_ <= 0) {
    return fail(err, "preprocessor not initialised");
  }
  return area_resize_u8(pixels, width, height, channels, S_, resized_.data(), lim_, err);
}

}  // namespace mc
