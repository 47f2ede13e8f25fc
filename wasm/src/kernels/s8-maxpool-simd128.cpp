// int8 max pool over one output pixel, SIMD128: 16 channels at a time. See kernels.h.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void s8_maxpool_ukernel__simd128(size_t n, size_t c, const int8_t* const* in, int8_t* out) {
  size_t j = 0;
  for (; j + 16 <= c; j += 16) {
    i8x16 m = i8x16_load(in[0] + j);
    for (size_t i = 1; i < n; i++) m = i8x16_max(m, i8x16_load(in[i] + j));
    i8x16_store(out + j, m);
  }
  for (; j < c; j++) {
    int8_t m = in[0][j];
    for (size_t i = 1; i < n; i++) m = in[i][j] > m ? in[i][j] : m;
    out[j] = m;
  }
}

}  // namespace kernels
}  // namespace mc
#endif
