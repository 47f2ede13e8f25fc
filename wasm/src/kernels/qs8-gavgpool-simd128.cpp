// qs8 global average pool to f32, SIMD128: 16 channels at a time with int32 sums (exact), then
// the same float operations as the scalar reference.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void qs8_gavgpool_ukernel__simd128(size_t hw, size_t c, const int8_t* in, int32_t zero_point,
                                   float scale, float* out) {
  const float s = scale / float(hw);
  const int32_t off = int32_t(hw) * zero_point;
  const f32x4 vs = f32x4_splat(s);
  const i32x4 voff = i32x4_splat(off);
  size_t j = 0;
  for (; j + 16 <= c; j += 16) {
    i32x4 s0 = i32x4_zero(), s1 = i32x4_zero(), s2 = i32x4_zero(), s3 = i32x4_zero();
    for (size_t i = 0; i < hw; i++) {
      const i8x16 v = i8x16_load(in + i * c + j);
      const i16x8 lo = i16x8_widen_lo_i8x16(v), hi = i16x8_widen_hi_i8x16(v);
      s0 = i32x4_add(s0, i32x4_widen_lo_i16x8(lo));
      s1 = i32x4_add(s1, i32x4_widen_hi_i16x8(lo));
      s2 = i32x4_add(s2, i32x4_widen_lo_i16x8(hi));
      s3 = i32x4_add(s3, i32x4_widen_hi_i16x8(hi));
    }
    f32x4_store(out + j, f32x4_mul(f32x4_from_i32x4(i32x4_sub(s0, voff)), vs));
    f32x4_store(out + j + 4, f32x4_mul(f32x4_from_i32x4(i32x4_sub(s1, voff)), vs));
    f32x4_store(out + j + 8, f32x4_mul(f32x4_from_i32x4(i32x4_sub(s2, voff)), vs));
    f32x4_store(out + j + 12, f32x4_mul(f32x4_from_i32x4(i32x4_sub(s3, voff)), vs));
  }
  for (; j < c; j++) {
    int32_t sum = 0;
    for (size_t i = 0; i < hw; i++) sum += in[i * c + j];
    out[j] = float(sum - off) * s;
  }
}

}  // namespace kernels
}  // namespace mc
#endif
