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
  if (k < c) {  // channel tail: the scalar reference on the remaining channels
    const float* dt[16];
    for (int x = 0; x < 16; x++) dt[x] = d[x] + k;
    f32_winograd_input_ukernel_4x4__scalar(c - k, dt, v + k, v_stride);
  }
}

void f32_winograd_input_ukernel_6x6__simd128(size_t c, const float* const* d, float* v,
                                             size_t v_stride) {
  const f32x4 two = f32x4_splat(2.0f), four = f32x4_splat(4.0f);
  size_t k = 0;
  for (; k + 4 <= c; k += 4) {
    f32x4 t[6][6];
    for (int j = 0; j < 6; j++) {
      f32x4 x[6];
      for (int i = 0; i < 6; i++) x[i] = f32x4_load(d[i * 6 + j] + k);
      const f32x4 a = f32x4_sub(x[4], f32x4_mul(four, x[2])),
                  b = f32x4_sub(x[3], f32x4_mul(four, x[1]));
      const f32x4 e = f32x4_sub(x[4], x[2]), f = f32x4_mul(two, f32x4_sub(x[3], x[1]));
      t[0][j] = f32x4_add(f32x4_mul(four, f32x4_sub(x[0], x[2])), e);
      t[1][j] = f32x4_add(a, b);
      t[2][j] = f32x4_sub(a, b);
      t[3][j] = f32x4_add(e, f);
      t[4][j] = f32x4_sub(e, f);
      t[5][j] = f32x4_add(f32x4_mul(four, f32x4_sub(x[1], x[3])), f32x4_sub(x[5], x[3]));
    }
    for (int i = 0; i < 6; i++) {
      const f32x4* x = t[i];
      float* vi = v + size_t(i) * 6 * v_stride + k;
      const f32x4 a = f32x4_sub(x[4], f32x4_mul(four, x[2])),
                  b = f32x4_sub(x[3], f32x4_mul(four, x[1]));
      const f32x4 e = f32x4_sub(x[4], x[2]), f = f32x4_mul(two, f32x4_sub(x[3], x[1]));
      f32x4_store(vi + 0 * v_stride, f32x4_add(f32x4_mul(four, f32x4_sub(x[0], x[2])), e));
      f32x4_store(vi + 1 * v_stride, f32x4_add(a, b));
      f32x4_store(vi + 2 * v_stride, f32x4_sub(a, b));
      f32x4_store(vi + 3 * v_stride, f32x4_add(e, f));
      f32x4_store(vi + 4 * v_stride, f32x4_sub(e, f));
      f32x4_store(vi + 5 * v_stride,
                  f32x4_add(f32x4_mul(four, f32x4_sub(x[1], x[3])), f32x4_sub(x[5], x[3])));
    }
  }
  if (k < c) {  // channel tail: the scalar reference on the remaining channels
    const float* dt[36];
    for (int x = 0; x < 36; x++) dt[x] = d[x] + k;
    f32_winograd_input_ukernel_6x6__scalar(c - k, dt, v + k, v_stride);
  }
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
