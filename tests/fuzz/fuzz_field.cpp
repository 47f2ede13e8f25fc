// libFuzzer target: the field cell finder (field.h) on raw pixels of any shape.
//
// The first bytes give width (1..96), height (1..96) and channels (3 or 4); the rest of the
// input, repeated, fills the pixels. Each image goes through classify_image_kind (the
// crop / field / neither decision, which runs CellFinder::find on larger images),
// CellFinder::find forced, every region's crop, and the cell gate. Invariants: a refusal carries
// a message; every region lies inside the image with an outline inside it; the status counts add
// up; a crop has its region's box size and only the region's pixels are not black.
//
//   tests/fuzz/run.sh 60      or, by hand:
//   build-fuzz/tests/fuzz/fuzz_field -max_total_time=60 CORPUS
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "field.h"

namespace {

volatile int g_sink_;

void check_(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const int W = 1 + (data[0] | (data[1] & 1) << 8) % 96;
  const int H = 1 + (data[2] | (data[1] & 2) << 7) % 96;
  const int C = (data[3] & 1) ? 4 : 3;
  const uint8_t* src = data + 4;
  const size_t n = size - 4;
  std::vector<uint8_t> px(size_t(W) * H * C);
  for (size_t i = 0; i < px.size(); ++i) px[i] = n ? src[i % n] : uint8_t(i);
  mc::ImageLimits lim;
  lim.max_side = 1024;
  lim.max_pixels = 1 << 20;

  static mc::CellFinder finder;  // reused across inputs, as the CLI and the page reuse it
  mc::Field f;
  std::string why;
  const int kind = mc::classify_image_kind(px.data(), W, H, C, lim, &finder, &f, &why);
  check_(kind == mc::kKindCrop || kind == mc::kKindField || kind == mc::kKindNone);
  if (kind == mc::kKindNone) check_(!why.empty());

  std::string err;
  if (!finder.find(px.data(), W, H, C, lim, &f, &err)) {
    check_(!err.empty());
    return 0;
  }
  int counts[5] = {0, 0, 0, 0, 0};
  std::vector<uint8_t> rgb;
  for (size_t i = 0; i < f.cells.size(); ++i) {
    const mc::FieldCell& c = f.cells[i];
    check_(c.status >= 0 && c.status < 5);
    ++counts[c.status];
    check_(c.x >= 0 && c.y >= 0 && c.w >= 1 && c.h >= 1 && c.x + c.w <= W && c.y + c.h <= H);
    for (int k = 0; k < mc::kOutlinePoints; ++k)
      check_(c.outline[2 * k] >= 0 && c.outline[2 * k] <= W && c.outline[2 * k + 1] >= 0 &&
             c.outline[2 * k + 1] <= H);
    int w = 0, h = 0;
    finder.crop(px.data(), W, H, C, f, i, &rgb, &w, &h);
    check_(w == c.w && h == c.h && rgb.size() == size_t(w) * h * 3);
    std::string gate;
    if (!mc::looks_like_cell_crop(rgb.data(), w, h, 3, &gate)) check_(!gate.empty());
  }
  check_(counts[0] == f.counted && counts[1] == f.border && counts[2] == f.white &&
         counts[3] == f.debris && counts[4] == f.clump);
  check_(f.labels.size() == size_t(f.work_w) * f.work_h);
  double lo = 0, hi = 0;
  mc::wilson95(f.debris, f.counted + f.debris, &lo, &hi);
  check_(lo >= 0 && lo <= hi && hi <= 1);
  g_sink_ = f.counted;
  return 0;
}
