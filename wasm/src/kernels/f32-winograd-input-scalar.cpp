// f32 Winograd F(2x2, 3x3) input transform, scalar reference: v = B^T d B for one 4x4 tile.
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

}  // namespace kernels
}  // namespace mc
