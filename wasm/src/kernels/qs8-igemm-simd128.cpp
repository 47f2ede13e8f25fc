// qs8 igemm, portable SIMD128: 4 (or 3) rows x 8 channels, input channel pairs (c2): each step
// broadcasts a (x[2j], x[2j+1]) int16 pair of a row to all lanes and multiplies it with the
// pairs of 4 output channels by i32x4_dot_i16x8 (pmaddwd). See ops_qs8.h for the packed layout.
#include "kernels/kernels.h"
#include "kernels/qs8-requant.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {
namespace {

using namespace mc::simd;

template <int J, int MR>
inline __attribute__((always_inline)) void pair_step(const i16x8 (&x)[MR], const int8_t* w,
                                                     i32x4 (&acc0)[MR], i32x4 (&acc1)[MR]) {
  const i8x16 wv = i8x16_load(w + 16 * J);
  const i16x8 wlo = i16x8_widen_lo_i8x16(wv);   // channels 0..3, (k, k+1) interleaved
  const i16x8 whi = i16x8_widen_hi_i8x16(wv);   // channels 4..7
  for (int m = 0; m < MR; m++) {
    const i32x4 xb = i32x4_broadcast_lane<J>(x[m]);
    acc0[m] = i32x4_add(acc0[m], i32x4_dot_i16x8(xb, wlo));
    acc1[m] = i32x4_add(acc1[m], i32x4_dot_i16x8(xb, whi));
  }
}

template <int MR>
inline void igemm_qs8(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a,
                      size_t a_stride, const void* w_, int8_t* c, size_t c_stride,
                      const int8_t* r, const Qs8IgemmParams& p) {
  const int8_t* wp = static_cast<const int8_t*>(w_);
  i32x4 acc0[MR], acc1[MR];
  {
    const i32x4 b0 = i32x4_load(wp), b1 = i32x4_load(wp + 16);
    for (int m = 0; m < MR; m++) {
      acc0[m] = b0;
      acc1[m] = b1;
    }
  }
  const f32x4 scale0 = f32x4_from_bits(i32x4_load(wp + 32));
  const f32x4 scale1 = f32x4_from_bits(i32x4_load(wp + 48));
  const int8_t* w = wp + 64;
  for (size_t t = 0; t < ks; t++) {
    const int8_t* ap[MR];
    for (int m = 0; m < MR; m++) ap[m] = a[(size_t(m) < mr ? size_t(m) : mr - 1) * a_stride + t];
    size_t k = 0;
    for (; k + 8 <= kc; k += 8) {
      i16x8 x[MR];
      for (int m = 0; m < MR; m++) x[m] = i16x8_load_i8x8(ap[m] + k);
      pair_step<0, MR>(x, w, acc0, acc1);
      pair_step<1, MR>(x, w, acc0, acc1);
      pair_step<2, MR>(x, w, acc0, acc1);
      pair_step<3, MR>(x, w, acc0, acc1);
      w += 64;
    }
    for (; k < kc; k += 2) {
      const bool two = k + 1 < kc;
      i16x8 x[MR];
      for (int m = 0; m < MR; m++) {
        const uint32_t lo = uint16_t(int16_t(ap[m][k]));
        const uint32_t hi = two ? uint16_t(int16_t(ap[m][k + 1])) : 0u;
        x[m] = i32x4_splat(int32_t(lo | (hi << 16)));
      }
      pair_step<0, MR>(x, w, acc0, acc1);
      w += 16;
    }
  }
  const detail::Qs8RequantSimd rq(p);   // fp32 requantization, as detail::requantize_scalar
  for (int m = 0; m < MR; m++) {
    if (size_t(m) >= mr) break;
    rq.store(acc0[m], acc1[m], scale0, scale1, r ? r + m * c_stride : nullptr, c + m * c_stride,
             nc);
  }
}

}  // namespace

void qs8_igemm_ukernel_4x8c2__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                      const int8_t* const* a, size_t a_stride, const void* w,
                                      int8_t* c, size_t c_stride, const int8_t* r,
                                      const Qs8IgemmParams& p) {
  igemm_qs8<4>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, p);
}

void qs8_igemm_ukernel_3x8c2__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                      const int8_t* const* a, size_t a_stride, const void* w,
                                      int8_t* c, size_t c_stride, const int8_t* r,
                                      const Qs8IgemmParams& p) {
  igemm_qs8<3>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, p);
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
