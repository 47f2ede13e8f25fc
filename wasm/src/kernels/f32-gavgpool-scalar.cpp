// f32 global average pool, scalar reference: out[j] = (sum over rows, in row order) * scale.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_gavgpool_ukernel__scalar(size_t hw, size_t c, const float* in, float scale, float* out) {
  for (size_t j = 0; j < c; j++) {
    float s = 0.0f;
    for (size_t i = 0; i < hw; i++) s = s + in[i * c + j];
    out[j] = s * scale;
  }
}

}  // namespace kernels
}  // namespace mc
