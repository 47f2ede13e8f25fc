// libFuzzer target: native image loading (image.h: stb PNG/JPEG/BMP behind our header checks)
// and the canonical preprocessing (preprocess.h) of whatever decodes.
//
// Every input is decoded as a file's bytes; a decoded image goes through the area resize and
// normalization at an output size taken from the input's last byte. Inputs starting with the
// byte 'R' are also read as raw pixels (width, height, channels from the next bytes) to drive
// area_resize_u8 directly with odd shapes. Every rejection must carry a message.
//
//   tests/fuzz/run.sh 60      or, by hand:
//   build-fuzz/tests/fuzz/fuzz_image -max_total_time=60 CORPUS tests/fixtures/images
//   tests/fixtures/cells
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "image.h"
#include "preprocess.h"

namespace {

volatile float g_sink_;

mc::ImageLimits limits_() {
  mc::ImageLimits lim;  // small caps: keep each run fast, exercise the refusals
  lim.max_side = 4096;
  lim.max_pixels = 4 * 1000 * 1000;
  return lim;
}

void preprocess_(const uint8_t* px, int w, int h, int c, int S) {
  static const float mean[3] = {0.5f, 0.45f, 0.4f}, stdev[3] = {0.25f, 0.2f, 0.3f};
  mc::Preprocessor pp;
  std::string err;
  if (!pp.init(S, mean, stdev, limits_(), &err)) __builtin_trap();
  std::vector<float> x(pp.input_floats());
  if (pp.run(px, w, h, c, x.data(), &err)) {
    float acc = 0;
    for (float v : x) acc += v;
    g_sink_ = acc;
  } else if (err.empty()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const mc::ImageLimits lim = limits_();
  mc::Image img;
  std::string err;
  const int S = size ? 1 + data[size - 1] % 96 : 64;
  if (mc::decode_image(data, size, lim, &img, &err)) {
    if (img.width < 1 || img.height < 1 ||
        img.pixels.size() != size_t(img.width) * size_t(img.height) * 3)
      __builtin_trap();
    preprocess_(img.pixels.data(), img.width, img.height, 3, S);
  } else if (err.empty()) {
    __builtin_trap();
  }
  // raw pixels: 'R' w(2) h(2) c(1) then pixels (short buffers are padded, not over-read)
  if (size >= 6 && data[0] == 'R') {
    const int w = data[1] | (data[2] << 8), h = data[3] | (data[4] << 8);
    const int c = 3 + (data[5] & 1);
    const size_t need = size_t(w) * size_t(h) * size_t(c);
    if (w > 0 && h > 0 && need <= (size_t(1) << 22)) {
      std::vector<uint8_t> px(need, 0);
      for (size_t i = 0; i < need && 6 + i < size; ++i) px[i] = data[6 + i];
      preprocess_(px.data(), w, h, c, S);
    }
  }
  return 0;
}
