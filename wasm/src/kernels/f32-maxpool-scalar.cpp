// f32 max pool over one output pixel, scalar reference. See kernels.h.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_maxpool_ukernel__scalar(size_t n, size_t c, const float* const* in, float* out) {
  for (size_t j = 0; j < c; j++) {
    float m = in[0][j];
    for (size_t i = 1; i < n; i++) {
      const float x = in[i][j];
      m = m < x ? x : m;
    }
    out[j] = m;
  }
}

}  // namespace kernels
}  // namespace mc
