// f32 max pool over one output pixel, SIMD128: 8 then 4 channels at a time. See kernels.h.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void f32_maxpool_ukernel__simd128(size_t n, size_t c, const float* const* in, float* out) {
  size_t j = 0;
  for (; j + 8 <= c; j += 8) {
    f32x4 m0 = f32x4_load(in[0] + j);
    f32x4 m1 = f32x4_load(in[0] + j + 4);
    for (size_t i = 1; i < n; i++) {
      m0 = f32x4_max(m0, f32x4_load(in[i] + j));
      m1 = f32x4_max(m1, f32x4_load(in[i] + j + 4));
    }
    f32x4_store(out + j, m0);
    f32x4_store(out + j + 4, m1);
  }
  for (; j + 4 <= c; j += 4) {
    f32x4 m0 = f32x4_load(in[0] + j);
    for (size_t i = 1; i < n; i++) m0 = f32x4_max(m0, f32x4_load(in[i] + j));
    f32x4_store(out + j, m0);
  }
  for (; j < c; j++) {
    float m = in[0][j];
    for (size_t i = 1; i < n; i++) {
      const float x = in[i][j];
      m = m < x ? x : m;
    }
    out[j] = m;
  }
}

}  // namespace kernels
}  // namespace mc
#endif
