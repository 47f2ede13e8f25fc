// qs8 igemm on int16 activations ("a16"), scalar reference: 2 rows x 8 channels, input channel
// pairs (c2), for both weight forms of qs8-igemm-a16-simd128.cpp (int8 weights in the stored
// layout "igemm-qs8-nr8-kp2-v1", or the same layout with int16 weights, "-w16"): the reference
// the SIMD kernels are tested against; and the tapmask form of both (kernels.h), 4 rows.
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/qs8-requant.h"

namespace mc {
namespace kernels {

namespace {

template <typename W>
void igemm_qs8_a16_scalar(size_t mr, size_t nc, size_t kc, size_t ks, const int16_t* const* a,
                          size_t a_stride, const void* w_, int8_t* c, size_t c_stride,
                          const int8_t* r, const Qs8IgemmParams& p) {
  constexpr size_t MR = 2, NR = 8;
  const uint8_t* wb = static_cast<const uint8_t*>(w_);
  int32_t bias[NR];
  float scale[NR];
  std::memcpy(bias, wb, sizeof bias);
  std::memcpy(scale, wb + 32, sizeof scale);
  const uint8_t* w = wb + 64;
  int32_t acc[MR][NR];
  for (size_t m = 0; m < MR; m++)
    for (size_t j = 0; j < NR; j++) acc[m][j] = bias[j];
  for (size_t t = 0; t < ks; t++) {
    const int16_t* a0 = a[t];
    const int16_t* a1 = mr > 1 ? a[a_stride + t] : a0;
    for (size_t k = 0; k < kc; k += 2) {
      const bool two = k + 1 < kc;
      const int32_t x00 = a0[k], x01 = two ? a0[k + 1] : 0;
      const int32_t x10 = a1[k], x11 = two ? a1[k + 1] : 0;
      W wv[2 * NR];
      std::memcpy(wv, w, sizeof wv);
      for (size_t j = 0; j < NR; j++) {
        const int32_t w0 = wv[2 * j], w1 = wv[2 * j + 1];
        acc[0][j] += x00 * w0 + x01 * w1;
        acc[1][j] += x10 * w0 + x11 * w1;
      }
      w += sizeof wv;
    }
  }
  for (size_t m = 0; m < mr && m < MR; m++) {
    for (size_t j = 0; j < nc && j < NR; j++) {
      c[m * c_stride + j] =
          detail::requantize_scalar(acc[m][j], scale[j], r ? r + m * c_stride + j : nullptr, p);
    }
  }
}

// The tapmask form (kernels.h): 4 rows, tap t read by the rows of tap_rows[t] only, each row
// starting from its own init.
template <typename W>
void igemm_qs8_a16_tapmask_scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                  const int16_t* const* a, size_t a_stride, const void* w_,
                                  const int32_t* init, const uint8_t* tap_rows, int8_t* c,
                                  size_t c_stride, const int8_t* r, const Qs8IgemmParams& p) {
  constexpr size_t MR = 4, NR = 8;
  const uint8_t* wb = static_cast<const uint8_t*>(w_);
  float scale[NR];
  std::memcpy(scale, wb + 32, sizeof scale);
  // unsigned: the same sums modulo 2^32 as the igemm's, in another order
  uint32_t acc[MR][NR];
  for (size_t m = 0; m < MR; m++)
    for (size_t j = 0; j < NR; j++) acc[m][j] = uint32_t(init[m * NR + j]);
  const size_t step = 2 * NR * sizeof(W);  // one input channel pair's weights
  const uint8_t* w = wb + 64;
  for (size_t t = 0; t < ks; t++, w += step * ((kc + 1) / 2)) {
    for (size_t m = 0; m < MR && m < mr; m++) {
      if (!(tap_rows[t] >> m & 1)) continue;
      const int16_t* x = a[m * a_stride + t];
      for (size_t k = 0; k < kc; k += 2) {
        W wv[2 * NR];
        std::memcpy(wv, w + (k / 2) * step, sizeof wv);
        const int32_t x0 = x[k], x1 = k + 1 < kc ? x[k + 1] : 0;
        for (size_t j = 0; j < NR; j++)
          acc[m][j] += uint32_t(x0 * int32_t(wv[2 * j]) + x1 * int32_t(wv[2 * j + 1]));
      }
    }
  }
  for (size_t m = 0; m < mr && m < MR; m++)
    for (size_t j = 0; j < nc && j < NR; j++)
      c[m * c_stride + j] = detail::requantize_scalar(int32_t(acc[m][j]), scale[j],
                                                      r ? r + m * c_stride + j : nullptr, p);
}

}  // namespace

void qs8_igemm_a16_ukernel_4x8c2_tapmask__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                                 const int16_t* const* a, size_t a_stride,
                                                 const void* w, const int32_t* init,
                                                 const uint8_t* tap_rows, int8_t* c,
                                                 size_t c_stride, const int8_t* r,
                                                 const Qs8IgemmParams& p) {
  igemm_qs8_a16_tapmask_scalar<int8_t>(mr, nc, kc, ks, a, a_stride, w, init, tap_rows, c, c_stride,
                                       r, p);
}

void qs8_igemm_a16_ukernel_4x8c2_w16_tapmask__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                                     const int16_t* const* a, size_t a_stride,
                                                     const void* w, const int32_t* init,
                                                     const uint8_t* tap_rows, int8_t* c,
                                                     size_t c_stride, const int8_t* r,
                                                     const Qs8IgemmParams& p) {
  igemm_qs8_a16_tapmask_scalar<int16_t>(mr, nc, kc, ks, a, a_stride, w, init, tap_rows, c, c_stride,
                                        r, p);
}

void qs8_igemm_a16_ukernel_2x8c2__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                         const int16_t* const* a, size_t a_stride, const void* w,
                                         int8_t* c, size_t c_stride, const int8_t* r,
                                         const Qs8IgemmParams& p) {
  igemm_qs8_a16_scalar<int8_t>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, p);
}

void qs8_igemm_a16_ukernel_2x8c2_w16__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                             const int16_t* const* a, size_t a_stride,
                                             const void* w, int8_t* c, size_t c_stride,
                                             const int8_t* r, const Qs8IgemmParams& p) {
  igemm_qs8_a16_scalar<int16_t>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, p);
}

}  // namespace kernels
}  // namespace mc
