// int8 max pool over one output pixel, scalar reference. See kernels.h.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void s8_maxpool_ukernel__scalar(size_t n, size_t c, const int8_t* const* in, int8_t* out) {
  for (size_t j = 0; j < c; j++) {
    int8_t m = in[0][j];
    for (size_t i = 1; i < n; i++) m = in[i][j] > m ? in[i][j] : m;
    out[j] = m;
  }
}

}  // namespace kernels
}  // namespace mc
