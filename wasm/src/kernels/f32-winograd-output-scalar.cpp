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
      const float m0 = m[size_t(0 * 4 + j) * m_stride + k], m1 = m[size_t(1 * 4 + j) * m_stride + k];
      const float m2 = m[size_t(2 * 4 + j) * m_stride + k], m3 = m[size_t(3 * 4 + j) * m_stride + k];
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

}  // namespace kernels
}  // namespace mc
