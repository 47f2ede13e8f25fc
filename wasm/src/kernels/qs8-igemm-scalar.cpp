// qs8 igemm, scalar reference: 2 rows x 8 channels, input channel pairs (c2). See ops_qs8.h for
// the packed layout and kernels.h for the indirection contract.
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/qs8-requant.h"

namespace mc {
namespace kernels {

void qs8_igemm_ukernel_2x8c2__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                     const int8_t* const* a, size_t a_stride, const void* w_,
                                     int8_t* c, size_t c_stride, const int8_t* r,
                                     const Qs8IgemmParams& p) {
  constexpr size_t MR = 2, NR = 8;
  const uint8_t* wb = static_cast<const uint8_t*>(w_);
  int32_t bias[NR];
  float scale[NR];
  std::memcpy(bias, wb, sizeof bias);
  std::memcpy(scale, wb + 32, sizeof scale);
  const int8_t* w = reinterpret_cast<const int8_t*>(wb + 64);
  int32_t acc[MR][NR];
  for (size_t m = 0; m < MR; m++)
    for (size_t j = 0; j < NR; j++) acc[m][j] = bias[j];
  for (size_t t = 0; t < ks; t++) {
    const int8_t* a0 = a[t];
    const int8_t* a1 = mr > 1 ? a[a_stride + t] : a0;
    for (size_t k = 0; k < kc; k += 2) {
      const bool two = k + 1 < kc;
      const int32_t x00 = a0[k], x01 = two ? a0[k + 1] : 0;
      const int32_t x10 = a1[k], x11 = two ? a1[k + 1] : 0;
      for (size_t j = 0; j < NR; j++) {
        const int32_t w0 = w[2 * j], w1 = w[2 * j + 1];
        acc[0][j] += x00 * w0 + x01 * w1;
        acc[1][j] += x10 * w0 + x11 * w1;
      }
      w += 2 * NR;
    }
  }
  for (size_t m = 0; m < mr && m < MR; m++) {
    for (size_t j = 0; j < nc && j < NR; j++) {
      c[m * c_stride + j] = detail::requantize_scalar(acc[m][j], scale[j],
                                                      r ? r + m * c_stride + j : nullptr, p);
    }
  }
}

}  // namespace kernels
}  // namespace mc
