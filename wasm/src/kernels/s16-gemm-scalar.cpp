// int16 x int16 -> int32 GEMM, scalar reference: 2 rows x 8 columns, k in pairs (c2), for the
// Winograd-domain products of the qs8 Winograd convolution (ops/conv_winograd_qs8.cpp). The sums
// wrap modulo 2^32 like the SIMD kernel's i32x4 adds (unsigned arithmetic here: no overflow UB).
#include <cstring>

#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void s16_gemm_ukernel_2x8c2__scalar(size_t mr, size_t nc, size_t kc, const int16_t* a,
                                    size_t a_stride, const int16_t* w, int32_t* c,
                                    size_t c_stride) {
  constexpr size_t MR = 2, NR = 8;
  uint32_t acc[MR][NR] = {};
  const int16_t* a0 = a;
  const int16_t* a1 = mr > 1 ? a + a_stride : a;
  for (size_t k = 0; k < kc; k += 2) {
    for (size_t j = 0; j < NR; j++) {
      const int32_t w0 = w[2 * j], w1 = w[2 * j + 1];
      acc[0][j] += uint32_t(int32_t(a0[k]) * w0) + uint32_t(int32_t(a0[k + 1]) * w1);
      acc[1][j] += uint32_t(int32_t(a1[k]) * w0) + uint32_t(int32_t(a1[k + 1]) * w1);
    }
    w += 2 * NR;
  }
  for (size_t m = 0; m < mr && m < MR; m++)
    for (size_t j = 0; j < nc && j < NR; j++) {
      int32_t v;
      std::memcpy(&v, &acc[m][j], 4);  // two's complement reinterpretation
      c[m * c_stride + j] = v;
    }
}

}  // namespace kernels
}  // namespace mc
