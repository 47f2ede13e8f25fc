// f32 igemm, scalar reference: MR = 2 rows x NR = 8 channels per call. See kernels.h.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_igemm_ukernel_2x8__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                   const float* const* a, size_t a_stride, const float* w, float* c,
                                   size_t c_stride, const float* r, bool relu) {
  constexpr size_t MR = 2, NR = 8;
  float acc[MR][NR];
  for (size_t m = 0; m < MR; m++)
    for (size_t j = 0; j < NR; j++) acc[m][j] = w[j];
  w += NR;
  for (size_t t = 0; t < ks; t++) {
    const float* a0 = a[t];
    const float* a1 = mr > 1 ? a[a_stride + t] : a0;
    for (size_t k = 0; k < kc; k++) {
      const float x0 = a0[k];
      const float x1 = a1[k];
      for (size_t j = 0; j < NR; j++) {
        const float p0 = x0 * w[j];
        const float p1 = x1 * w[j];
        acc[0][j] = p0 + acc[0][j];
        acc[1][j] = p1 + acc[1][j];
      }
      w += NR;
    }
  }
  for (size_t m = 0; m < mr && m < MR; m++) {
    float* cm = c + m * c_stride;
    const float* rm = r ? r + m * c_stride : nullptr;
    for (size_t j = 0; j < nc && j < NR; j++) {
      float y = acc[m][j];
      if (rm) y = y + rm[j];
      if (relu) y = y < 0.0f ? 0.0f : y;
      cm[j] = y;
    }
  }
}

}  // namespace kernels
}  // namespace mc
