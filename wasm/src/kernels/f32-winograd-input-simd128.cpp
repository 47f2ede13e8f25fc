// f32 Winograd F(2x2, 3x3) input transform, portable SIMD128: 4 channels per step, the same
// operations in the same order as the scalar reference (bit-identical). See kernels.h.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void f32_winograd_input_ukernel_4x4__simd128(size_t c, const float* const* d, float* v,
                                             size_t v_stride) {
  size_t k = 0;
  for (; k + 4 <= c; k += 4) {
    f32x4 t[4][4];
    for (int j = 0; j < 4; j++) {
      const f32x4 d0 = f32x4_load(d[0 * 4 + j] + k), d1 = f32x4_load(d[1 * 4 + j] + k);
      const f32x4 d2 = f32x4_load(d[2 * 4 + j] + k), d3 = f32x4_load(d[3 * 4 + j] + k);
      t[0][j] = f32x4_sub(d0, d2);
      t[1][j] = f32x4_add(d1, d2);
      t[2][j] = f32x4_sub(d2, d1);
      t[3][j] = f32x4_sub(d1, d3);
    }
    for (int i = 0; i < 4; i++) {
      float* vi = v + size_t(i) * 4 * v_stride + k;
      f32x4_store(vi + 0 * v_stride, f32x4_sub(t[i][0], t[i][2]));
      f32x4_store(vi + 1 * v_stride, f32x4_add(t[i][1], t[i][2]));
      f32x4_store(vi + 2 * v_stride, f32x4_sub(t[i][2], t[i][1]));
      f32x4_store(vi + 3 * v_stride, f32x4_sub(t[i][1], t[i][3]));
    }
  }
  if (k < c) {   // channel tail: the scalar reference on the remaining channels
    const float* dt[16];
    for (int x = 0; x < 16; x++) dt[x] = d[x] + k;
    f32_winograd_input_ukernel_4x4__scalar(c - k, dt, v + k, v_stride);
  }
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
