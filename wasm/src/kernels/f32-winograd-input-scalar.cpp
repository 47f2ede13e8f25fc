// f32 Winograd input transforms, scalar reference: v = B^T d B for one 4x4 tile (F(2x2, 3x3))
// or one 6x6 tile (F(4x4, 3x3)).
//   B^T = [1  0 -1  0]
//         [0  1  1  0]
//         [0 -1  1  0]
//         [0  1  0 -1]
// Columns first (t = B^T d), then rows (v = t B). See kernels.h.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_winograd_input_ukernel_4x4__scalar(size_t c, const float* const* d, float* v,
                                            size_t v_stride) {
  for (size_t k = 0; k < c; k++) {
    float t[4][4];
    for (int j = 0; j < 4; j++) {
      const float d0 = d[0 * 4 + j][k], d1 = d[1 * 4 + j][k];
      const float d2 = d[2 * 4 + j][k], d3 = d[3 * 4 + j][k];
      t[0][j] = d0 - d2;
      t[1][j] = d1 + d2;
      t[2][j] = d2 - d1;
      t[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; i++) {
      float* vi = v + size_t(i) * 4 * v_stride + k;
      vi[0 * v_stride] = t[i][0] - t[i][2];
      vi[1 * v_stride] = t[i][1] + t[i][2];
      vi[2 * v_stride] = t[i][2] - t[i][1];
      vi[3 * v_stride] = t[i][1] - t[i][3];
    }
  }
}

// F(4x4, 3x3):
//   B^T = [4  0 -5  0  1  0]
//         [0 -4 -4  1  1  0]
//         [0  4 -4 -1  1  0]
//         [0 -2 -1  2  1  0]
//         [0  2 -1 -2  1  0]
//         [0  4  0 -5  0  1]
// evaluated with shared terms (the factors 2 and 4 are exact in f32).
void f32_winograd_input_ukernel_6x6__scalar(size_t c, const float* const* d, float* v,
                                            size_t v_stride) {
  for (size_t k = 0; k < c; k++) {
    float t[6][6];
    for (int j = 0; j < 6; j++) {
      float x[6];
      for (int i = 0; i < 6; i++) x[i] = d[i * 6 + j][k];
      const float a = x[4] - 4.0f * x[2], b = x[3] - 4.0f * x[1];
      const float e = x[4] - x[2], f = 2.0f * (x[3] - x[1]);
      t[0][j] = 4.0f * (x[0] - x[2]) + e;
      t[1][j] = a + b;
      t[2][j] = a - b;
      t[3][j] = e + f;
      t[4][j] = e - f;
      t[5][j] = 4.0f * (x[1] - x[3]) + (x[5] - x[3]);
    }
    for (int i = 0; i < 6; i++) {
      const float* x = t[i];
      float* vi = v + size_t(i) * 6 * v_stride + k;
      const float a = x[4] - 4.0f * x[2], b = x[3] - 4.0f * x[1];
      const float e = x[4] - x[2], f = 2.0f * (x[3] - x[1]);
      vi[0 * v_stride] = 4.0f * (x[0] - x[2]) + e;
      vi[1 * v_stride] = a + b;
      vi[2 * v_stride] = a - b;
      vi[3 * v_stride] = e + f;
      vi[4 * v_stride] = e - f;
      vi[5 * v_stride] = 4.0f * (x[1] - x[3]) + (x[5] - x[3]);
    }
  }
}

}  // namespace kernels
}  // namespace mc
