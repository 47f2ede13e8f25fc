// qs8 global average pool to f32, scalar reference:
//   out[j] = float(sum_i in[i][j] - hw * zero_point) * (scale / float(hw))
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void qs8_gavgpool_ukernel__scalar(size_t hw, size_t c, const int8_t* in, int32_t zero_point,
                                  float scale, float* out) {
  const float s = scale / float(hw);
  const int32_t off = int32_t(hw) * zero_point;
  for (size_t j = 0; j < c; j++) {
    int32_t sum = 0;
    for (size_t i = 0; i < hw; i++) sum += in[i * c + j];
    out[j] = float(sum - off) * s;
  }
}

}  // namespace kernels
}  // namespace mc
