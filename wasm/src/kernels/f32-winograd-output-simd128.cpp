// f32 Winograd F(2x2, 3x3) output transform, portable SIMD128: 4 channels per step, the same
// operations in the same order as the scalar reference (bit-identical). See kernels.h.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void f32_winograd_output_ukernel_4x4__simd128(size_t c, const float* m, size_t m_stride,
                                              const float* bias, float* y, size_t y_row_stride,
                                              size_t rows, size_t cols, const float* r, bool relu) {
  const f32x4 z = f32x4_zero();
  size_t k = 0;
  for (; k + 4 <= c; k += 4) {
    f32x4 t[2][4];
    for (int j = 0; j < 4; j++) {
      const f32x4 m0 = f32x4_load(m + size_t(0 * 4 + j) * m_stride + k);
      const f32x4 m1 = f32x4_load(m + size_t(1 * 4 + j) * m_stride + k);
      const f32x4 m2 = f32x4_load(m + size_t(2 * 4 + j) * m_stride + k);
      const f32x4 m3 = f32x4_load(m + size_t(3 * 4 + j) * m_stride + k);
      t[0][j] = f32x4_add(f32x4_add(m0, m1), m2);
      t[1][j] = f32x4_sub(f32x4_sub(m1, m2), m3);
    }
    const f32x4 b = f32x4_load(bias + k);
    for (size_t i = 0; i < rows; i++) {
      const f32x4 o[2] = {f32x4_add(f32x4_add(t[i][0], t[i][1]), t[i][2]),
                          f32x4_sub(f32x4_sub(t[i][1], t[i][2]), t[i][3])};
      for (size_t j = 0; j < cols; j++) {
        const size_t off = i * y_row_stride + j * c + k;
        f32x4 yv = f32x4_add(o[j], b);
        if (r) yv = f32x4_add(yv, f32x4_load(r + off));
        if (relu) yv = f32x4_max(yv, z);
        f32x4_store(y + off, yv);
      }
    }
  }
  if (k < c) {  // channel tail: the scalar reference on the remaining channels (same strides)
    const size_t n = c - k;
    for (size_t kk = 0; kk < n; kk++) {
      // one channel at a time keeps the pixel stride c of the full tensor
      float t[2][4];
      for (int j = 0; j < 4; j++) {
        const float m0 = m[size_t(0 * 4 + j) * m_stride + k + kk];
        const float m1 = m[size_t(1 * 4 + j) * m_stride + k + kk];
        const float m2 = m[size_t(2 * 4 + j) * m_stride + k + kk];
        const float m3 = m[size_t(3 * 4 + j) * m_stride + k + kk];
        t[0][j] = (m0 + m1) + m2;
        t[1][j] = (m1 - m2) - m3;
      }
      for (size_t i = 0; i < rows; i++) {
        const float o[2] = {(t[i][0] + t[i][1]) + t[i][2], (t[i][1] - t[i][2]) - t[i][3]};
        for (size_t j = 0; j < cols; j++) {
          const size_t off = i * y_row_stride + j * c + k + kk;
          float yv = o[j] + bias[k + kk];
          if (r) yv = yv + r[off];
          if (relu) yv = yv < 0.0f ? 0.0f : yv;
          y[off] = yv;
        }
      }
    }
  }
}

namespace {
inline __attribute__((always_inline)) void at6(const f32x4* m, f32x4* y) {
  const f32x4 s12 = f32x4_add(m[1], m[2]), d12 = f32x4_sub(m[1], m[2]);
  const f32x4 s34 = f32x4_add(m[3], m[4]), d34 = f32x4_sub(m[3], m[4]);
  y[0] = f32x4_add(f32x4_add(m[0], s12), s34);
  y[1] = f32x4_add(d12, f32x4_mul(f32x4_splat(2.0f), d34));
  y[2] = f32x4_add(s12, f32x4_mul(f32x4_splat(4.0f), s34));
  y[3] = f32x4_add(f32x4_add(d12, f32x4_mul(f32x4_splat(8.0f), d34)), m[5]);
}
}  // namespace

void f32_winograd_output_ukernel_6x6__simd128(size_t c, const float* m, size_t m_stride,
                                              const float* bias, float* y, size_t y_row_stride,
                                              size_t rows, size_t cols, const float* r, bool relu) {
  const f32x4 z = f32x4_zero();
  size_t k = 0;
  for (; k + 4 <= c; k += 4) {
    f32x4 t[4][6];
    for (int j = 0; j < 6; j++) {
      f32x4 col[6], o[4];
      for (int i = 0; i < 6; i++) col[i] = f32x4_load(m + size_t(i * 6 + j) * m_stride + k);
      at6(col, o);
      for (int i = 0; i < 4; i++) t[i][j] = o[i];
    }
    const f32x4 b = f32x4_load(bias + k);
    for (size_t i = 0; i < rows; i++) {
      f32x4 o[4];
      at6(t[i], o);
      for (size_t j = 0; j < cols; j++) {
        const size_t off = i * y_row_stride + j * c + k;
        f32x4 yv = f32x4_add(o[j], b);
        if (r) yv = f32x4_add(yv, f32x4_load(r + off));
        if (relu) yv = f32x4_max(yv, z);
        f32x4_store(y + off, yv);
      }
    }
  }
  if (k < c) {  // channel tail, 4 lanes through a small buffer (same operations)
    const size_t n = c - k;
    f32x4 t[4][6];
    for (int j = 0; j < 6; j++) {
      f32x4 col[6], o[4];
      for (int i = 0; i < 6; i++) {
        float tmp[4] = {0, 0, 0, 0};
        for (size_t kk = 0; kk < n; kk++) tmp[kk] = m[size_t(i * 6 + j) * m_stride + k + kk];
        col[i] = f32x4_load(tmp);
      }
      at6(col, o);
      for (int i = 0; i < 4; i++) t[i][j] = o[i];
    }
    float bt[4] = {0, 0, 0, 0};
    for (size_t kk = 0; kk < n; kk++) bt[kk] = bias[k + kk];
    const f32x4 b = f32x4_load(bt);
    for (size_t i = 0; i < rows; i++) {
      f32x4 o[4];
      at6(t[i], o);
      for (size_t j = 0; j < cols; j++) {
        const size_t off = i * y_row_stride + j * c + k;
        float tmp[4] = {0, 0, 0, 0};
        if (r)
          for (size_t kk = 0; kk < n; kk++) tmp[kk] = r[off + kk];
        f32x4 yv = f32x4_add(o[j], b);
        if (r) yv = f32x4_add(yv, f32x4_load(tmp));
        if (relu) yv = f32x4_max(yv, z);
        f32x4_store(tmp, yv);
        for (size_t kk = 0; kk < n; kk++) y[off + kk] = tmp[kk];
      }
    }
  }
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
