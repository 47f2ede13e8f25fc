// qs8 Winograd F(2x2, 3x3) input transform, scalar reference: V = B^T d B of a 4x4 int8 tile,
// per channel, in int16 (exact: every V is a sum of 4 inputs with signs 1/-1, |V| <= 512), with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void qs8_winograd_input_ukernel_4x4__scalar(size_t c, const int8_t* const* d, int16_t* v,
                                            size_t v_stride) {
  for (size_t k = 0; k < c; k++) {
    int32_t x[4][4], t[4][4];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) x[i][j] = d[i * 4 + j][k];
    for (int j = 0; j < 4; j++) {  // t = B^T x (rows)
      t[0][j] = x[0][j] - x[2][j];
      t[1][j] = x[1][j] + x[2][j];
      t[2][j] = x[2][j] - x[1][j];
      t[3][j] = x[1][j] - x[3][j];
    }
    for (int i = 0; i < 4; i++) {  // V = t B (columns)
      v[size_t(i * 4 + 0) * v_stride + k] = int16_t(t[i][0] - t[i][2]);
      v[size_t(i * 4 + 1) * v_stride + k] = int16_t(t[i][1] + t[i][2]);
      v[size_t(i * 4 + 2) * v_stride + k] = int16_t(t[i][2] - t[i][1]);
      v[size_t(i * 4 + 3) * v_stride + k] = int16_t(t[i][1] - t[i][3]);
    }
  }
}

}  // namespace kernels
}  // namespace mc
