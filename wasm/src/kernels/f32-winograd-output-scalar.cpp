// f32 Winograd F(2x2, 3x3) output transform, scalar reference: y = A^T m A (+ bias, residual,
// ReLU) for one tile.
//   A^T = [1  1  1  0]
//         [0  1 -1 -1]
// Columns first (t = A^T m), then rows; bias after the transform, then the residual (read
// before y is written, so r may be y), then the ReLU. See kernels.h.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_winograd_output_ukernel_4x4__scalar(size_t c, const float* m, size_t m_stride,
                                             const float* bias, float* y, size_t y_row_stride,
                                             size_t rows, size_t cols, const float* r, bool relu) {
  for (size_t k = 0; k < c; k++) {
    float t[2][4];
    for (int j = 0; j < 4; j++) {
      const float m0 = m[size_t(0 * 4 + j) * m_stride + k],
                  m1 = m[size_t(1 * 4 + j) * m_stride + k];
      const float m2 = m[size_t(2 * 4 + j) * m_stride + k],
                  m3 = m[size_t(3 * 4 + j) * m_stride + k];
      t[0][j] = (m0 + m1) + m2;
      t[1][j] = (m1 - m2) - m3;
    }
    for (size_t i = 0; i < rows; i++) {
      const float o[2] = {(t[i][0] + t[i][1]) + t[i][2], (t[i][1] - t[i][2]) - t[i][3]};
      for (size_t j = 0; j < cols; j++) {
        const size_t off = i * y_row_stride + j * c + k;
        float yv = o[j] + bias[k];
        if (r) yv = yv + r[off];
        if (relu) yv = yv < 0.0f ? 0.0f : yv;
        y[off] = yv;
      }
    }
  }
}

namespace {
// A^T (F(4x4, 3x3)) applied to 6 values, shared terms as in the SIMD kernel
inline void at6(const float* m, float* y) {
  const float s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  y[0] = (m[0] + s12) + s34;
  y[1] = d12 + 2.0f * d34;
  y[2] = s12 + 4.0f * s34;
  y[3] = (d12 + 8.0f * d34) + m[5];
}
}  // namespace

// F(4x4, 3x3): 6x6 tile -> 4x4 outputs
//   A^T = [1  1  1  1  1  0]
//         [0  1 -1  2 -2  0]
//         [0  1  1  4  4  0]
//         [0  1 -1  8 -8  1]
void f32_winograd_output_ukernel_6x6__scalar(size_t c, const float* m, size_t m_stride,
                                             const float* bias, float* y, size_t y_row_stride,
                                             size_t rows, size_t cols, const float* r, bool relu) {
  for (size_t k = 0; k < c; k++) {
    float t[4][6];
    for (int j = 0; j < 6; j++) {
      float col[6], o[4];
      for (int i = 0; i < 6; i++) col[i] = m[size_t(i * 6 + j) * m_stride + k];
      at6(col, o);
      for (int i = 0; i < 4; i++) t[i][j] = o[i];
    }
    for (size_t i = 0; i < rows; i++) {
      float o[4];
      at6(t[i], o);
      for (size_t j = 0; j < cols; j++) {
        const size_t off = i * y_row_stride + j * c + k;
        float yv = o[j] + bias[k];
        if (r) yv = yv + r[off];
        if (relu) yv = yv < 0.0f ? 0.0f : yv;
        y[off] = yv;
      }
    }
  }
}

}  // namespace kernels
}  // namespace mc
