// qs8 igemm on int16 activations ("a16"), portable SIMD128: 4 rows x 8 channels, input channel
// pairs (c2). The activations are int16 copies of the int8 tensor (ops_qs8.h, conv_run_qs8_a16),
// so a row's (x[2j], x[2j+1]) pair reaches all four lanes with one broadcast load
// (v128.load32_splat) instead of a sign extension and a shuffle; it is multiplied with the pairs
// of 8 output channels by i32x4_dot_i16x8 (pmaddwd). Two weight forms:
//   4x8c2      int8 weights, the stored layout "igemm-qs8-nr8-kp2-v1": one load and two
//              extends per pair, shared by the 4 rows;
//   4x8c2_w16  the same layout with every weight stored as int16 ("igemm-qs8-nr8-kp2-w16"):
//              two plain loads per pair (twice the weight bytes: for the convs whose weights
//              are reused over many pixel tiles, where the extends cost more than the bytes).
// Per pair and row that leaves 2 dots and 2 adds. Same int32 sums and epilogue as
// qs8-igemm-a16-scalar.cpp: bit-identical output. The tapmask form of both (kernels.h) skips,
// row by row, the taps that fall in the padding (a 2x2 output reads 16 of its 36).
#include "kernels/kernels.h"
#include "kernels/qs8-requant.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {
namespace {

using namespace mc::simd;

// The 8 channels' weights of one input channel pair: W = int8_t (16 bytes) or int16_t (32).
inline __attribute__((always_inline)) void load_pair_weights(const int8_t* w, i16x8* lo,
                                                             i16x8* hi) {
  const i8x16 wv = i8x16_load(w);
  *lo = i16x8_widen_lo_i8x16(wv);  // channels 0..3, (k, k+1) interleaved
  *hi = i16x8_widen_hi_i8x16(wv);  // channels 4..7
}
inline __attribute__((always_inline)) void load_pair_weights(const int16_t* w, i16x8* lo,
                                                             i16x8* hi) {
  *lo = i32x4_load(w);
  *hi = i32x4_load(w + 8);
}

// One input channel pair of one tap for the rows of MASK (all MR rows in the plain form): the
// 8 channels' weights are read once for them all.
template <int MR, unsigned MASK, typename W>
inline __attribute__((always_inline)) void pair_step(const int16_t* const (&ap)[MR], size_t k,
                                                     const W* w, i32x4 (&acc0)[MR],
                                                     i32x4 (&acc1)[MR]) {
  i16x8 wlo, whi;
  load_pair_weights(w, &wlo, &whi);
  for (int m = 0; m < MR; m++) {
    if (!(MASK >> m & 1u)) continue;
    const i32x4 xb = i32x4_load_splat(ap[m] + k);
    acc0[m] = i32x4_add(acc0[m], i32x4_dot_i16x8(xb, wlo));
    acc1[m] = i32x4_add(acc1[m], i32x4_dot_i16x8(xb, whi));
  }
}

// One tap (all its input channels) for the rows of MASK; returns the weights of the next tap.
template <int MR, unsigned MASK, typename W>
inline __attribute__((always_inline)) const W* tap_step(const int16_t* const (&ap)[MR], size_t kc,
                                                        const W* w, i32x4 (&acc0)[MR],
                                                        i32x4 (&acc1)[MR]) {
  size_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    pair_step<MR, MASK>(ap, k, w, acc0, acc1);
    pair_step<MR, MASK>(ap, k + 2, w + 16, acc0, acc1);
    pair_step<MR, MASK>(ap, k + 4, w + 32, acc0, acc1);
    pair_step<MR, MASK>(ap, k + 6, w + 48, acc0, acc1);
    w += 64;
  }
  for (; k + 2 <= kc; k += 2) {
    pair_step<MR, MASK>(ap, k, w, acc0, acc1);
    w += 16;
  }
  if (k < kc) {  // odd kc: the last pair is (x[kc-1], 0); never read past the row
    i16x8 wlo, whi;
    load_pair_weights(w, &wlo, &whi);
    for (int m = 0; m < MR; m++) {
      if (!(MASK >> m & 1u)) continue;
      const i32x4 xb = i32x4_splat(int32_t(uint16_t(ap[m][k])));
      acc0[m] = i32x4_add(acc0[m], i32x4_dot_i16x8(xb, wlo));
      acc1[m] = i32x4_add(acc1[m], i32x4_dot_i16x8(xb, whi));
    }
    w += 16;
  }
  return w;
}

template <int MR, typename W>
inline void igemm_qs8_a16(size_t mr, size_t nc, size_t kc, size_t ks, const int16_t* const* a,
                          size_t a_stride, const void* w_, int8_t* c, size_t c_stride,
                          const int8_t* r, const Qs8IgemmParams& p) {
  const uint8_t* wp = static_cast<const uint8_t*>(w_);
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
  const W* w = reinterpret_cast<const W*>(wp + 64);
  for (size_t t = 0; t < ks; t++) {
    const int16_t* ap[MR];
    for (int m = 0; m < MR; m++) ap[m] = a[(size_t(m) < mr ? size_t(m) : mr - 1) * a_stride + t];
    w = tap_step<MR, (1u << MR) - 1>(ap, kc, w, acc0, acc1);
  }
  const detail::Qs8RequantSimd rq(p);  // fp32 requantization, as detail::requantize_scalar
  for (int m = 0; m < MR; m++) {
    if (size_t(m) >= mr) break;
    rq.store(acc0[m], acc1[m], scale0, scale1, r ? r + m * c_stride : nullptr, c + m * c_stride,
             nc);
  }
}

// The tapmask form (kernels.h): each tap for the rows of its mask only, each row from its init.
template <typename W>
inline void igemm_qs8_a16_tapmask(size_t mr, size_t nc, size_t kc, size_t ks,
                                  const int16_t* const* a, size_t a_stride, const void* w_,
                                  const int32_t* init, const uint8_t* tap_rows, int8_t* c,
                                  size_t c_stride, const int8_t* r, const Qs8IgemmParams& p) {
  const uint8_t* wp = static_cast<const uint8_t*>(w_);
  i32x4 acc0[4], acc1[4];
  for (int m = 0; m < 4; m++) {
    acc0[m] = i32x4_load(init + 8 * m);
    acc1[m] = i32x4_load(init + 8 * m + 4);
  }
  const f32x4 scale0 = f32x4_from_bits(i32x4_load(wp + 32));
  const f32x4 scale1 = f32x4_from_bits(i32x4_load(wp + 48));
  const W* w = reinterpret_cast<const W*>(wp + 64);
  const size_t tap_elems = 16 * ((kc + 1) / 2);  // W elements of one tap
  const unsigned rows = (1u << (mr < 4 ? mr : 4)) - 1;
  for (size_t t = 0; t < ks; t++, w += tap_elems) {
    const int16_t* ap[4];
    for (int m = 0; m < 4; m++) ap[m] = a[(size_t(m) < mr ? size_t(m) : mr - 1) * a_stride + t];
    switch (tap_rows[t] & rows) {
#define MC_TAPMASK_CASE_(M) \
  case M: tap_step<4, M>(ap, kc, w, acc0, acc1); break;
      MC_TAPMASK_CASE_(1)
      MC_TAPMASK_CASE_(2)
      MC_TAPMASK_CASE_(3)
      MC_TAPMASK_CASE_(4)
      MC_TAPMASK_CASE_(5)
      MC_TAPMASK_CASE_(6)
      MC_TAPMASK_CASE_(7)
      MC_TAPMASK_CASE_(8)
      MC_TAPMASK_CASE_(9)
      MC_TAPMASK_CASE_(10)
      MC_TAPMASK_CASE_(11)
      MC_TAPMASK_CASE_(12)
      MC_TAPMASK_CASE_(13)
      MC_TAPMASK_CASE_(14)
      MC_TAPMASK_CASE_(15)
#undef MC_TAPMASK_CASE_
      default:  // no row reads this tap
        break;
    }
  }
  const detail::Qs8RequantSimd rq(p);
  for (int m = 0; m < 4; m++) {
    if (size_t(m) >= mr) break;
    rq.store(acc0[m], acc1[m], scale0, scale1, r ? r + m * c_stride : nullptr, c + m * c_stride,
             nc);
  }
}

}  // namespace

void qs8_igemm_a16_ukernel_4x8c2_tapmask__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                                  const int16_t* const* a, size_t a_stride,
                                                  const void* w, const int32_t* init,
                                                  const uint8_t* tap_rows, int8_t* c,
                                                  size_t c_stride, const int8_t* r,
                                                  const Qs8IgemmParams& p) {
  igemm_qs8_a16_tapmask<int8_t>(mr, nc, kc, ks, a, a_stride, w, init, tap_rows, c, c_stride, r, p);
}

void qs8_igemm_a16_ukernel_4x8c2_w16_tapmask__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                                      const int16_t* const* a, size_t a_stride,
                                                      const void* w, const int32_t* init,
                                                      const uint8_t* tap_rows, int8_t* c,
                                                      size_t c_stride, const int8_t* r,
                                                      const Qs8IgemmParams& p) {
  igemm_qs8_a16_tapmask<int16_t>(mr, nc, kc, ks, a, a_stride, w, init, tap_rows, c, c_stride, r, p);
}

void qs8_igemm_a16_ukernel_4x8c2__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                          const int16_t* const* a, size_t a_stride, const void* w,
                                          int8_t* c, size_t c_stride, const int8_t* r,
                                          const Qs8IgemmParams& p) {
  igemm_qs8_a16<4, int8_t>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, p);
}

void qs8_igemm_a16_ukernel_4x8c2_w16__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                              const int16_t* const* a, size_t a_stride,
                                              const void* w, int8_t* c, size_t c_stride,
                                              const int8_t* r, const Qs8IgemmParams& p) {
  igemm_qs8_a16<4, int16_t>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, p);
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
