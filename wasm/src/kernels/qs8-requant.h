// qs8-requant.h -- the fp32 requantization step shared by the qs8 igemm kernels (private to
// src/kernels): requantize_scalar for the scalar kernels and Qs8RequantSimd, the very same
// operations lane-wise, for the SIMD ones:
//   y = float(acc) * scale;  y = y + float(r - r_zp) * r_scale  (with a residual);
//   y = y < lo ? lo : y;  y = hi < y ? hi : y;
//   q = bits(y + 1.5 * 2^23) - bits(1.5 * 2^23) + out_zp     (round half to even, |y| < 2^22)
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace mc {
namespace kernels {
namespace detail {

constexpr float kMagic = 12582912.0f;       // 1.5 * 2^23
constexpr int32_t kMagicBits = 0x4B400000;  // bits of kMagic

inline int8_t requantize_scalar(int32_t acc, float scale, const int8_t* r,
                                const Qs8IgemmParams& p) {
  float y = float(acc) * scale;
  if (r) {
    const float rt = float(int32_t(*r) - p.res_zero_point) * p.res_scale;
    y = y + rt;
  }
  y = y < p.out_min ? p.out_min : y;
  y = p.out_max < y ? p.out_max : y;
  const float t = y + kMagic;
  int32_t bits;
  std::memcpy(&bits, &t, 4);
  return int8_t(bits - (kMagicBits - p.out_zero_point));
}

#if MC_HAVE_SIMD128
// The epilogue of one row of 8 output channels, lane-wise requantize_scalar: acc0/acc1 hold
// channels 0..3 / 4..7, scale0/scale1 their requantization scales; r (may be null) is the
// residual row; writes c[0..nc-1] (nc <= 8).
class Qs8RequantSimd {
 public:
  explicit Qs8RequantSimd(const Qs8IgemmParams& p)
      : vmin_(simd::f32x4_splat(p.out_min)),
        vmax_(simd::f32x4_splat(p.out_max)),
        vmagic_(simd::f32x4_splat(kMagic)),
        vbias_(simd::i32x4_splat(kMagicBits - p.out_zero_point)),
        vrzp_(simd::i32x4_splat(p.res_zero_point)),
        vrscale_(simd::f32x4_splat(p.res_scale)) {}

  inline __attribute__((always_inline)) void store(simd::i32x4 acc0, simd::i32x4 acc1,
                                                   simd::f32x4 scale0, simd::f32x4 scale1,
                                                   const int8_t* r, int8_t* c, size_t nc) const {
    using namespace mc::simd;
    f32x4 y0 = f32x4_mul(f32x4_from_i32x4(acc0), scale0);
    f32x4 y1 = f32x4_mul(f32x4_from_i32x4(acc1), scale1);
    if (r) {
      int8_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      if (nc == 8) {
        std::memcpy(tmp, r, 8);
      } else {
        for (size_t j = 0; j < nc; j++) tmp[j] = r[j];
      }
      const i16x8 rv = i16x8_load_i8x8(tmp);
      const i32x4 r0 = i32x4_sub(i32x4_widen_lo_i16x8(rv), vrzp_);
      const i32x4 r1 = i32x4_sub(i32x4_widen_hi_i16x8(rv), vrzp_);
      y0 = f32x4_add(y0, f32x4_mul(f32x4_from_i32x4(r0), vrscale_));
      y1 = f32x4_add(y1, f32x4_mul(f32x4_from_i32x4(r1), vrscale_));
    }
    y0 = f32x4_min(f32x4_max(y0, vmin_), vmax_);
    y1 = f32x4_min(f32x4_max(y1, vmin_), vmax_);
    const i32x4 q0 = i32x4_sub(i32x4_bits_of_f32x4(f32x4_add(y0, vmagic_)), vbias_);
    const i32x4 q1 = i32x4_sub(i32x4_bits_of_f32x4(f32x4_add(y1, vmagic_)), vbias_);
    const i16x8 q16 = i16x8_narrow_i32x4(q0, q1);
    const i8x16 q8 = i8x16_narrow_i16x8(q16, q16);
    if (nc == 8) {
      i8x16_store_lo8(c, q8);
    } else {
      int8_t tmp[16];
      i8x16_store(tmp, q8);
      for (size_t j = 0; j < nc; j++) c[j] = tmp[j];
    }
  }

 private:
  simd::f32x4 vmin_, vmax_, vmagic_;
  simd::i32x4 vbias_, vrzp_;
  simd::f32x4 vrscale_;
};
#endif  // MC_HAVE_SIMD128

}  // namespace detail
}  // namespace kernels
}  // namespace mc
