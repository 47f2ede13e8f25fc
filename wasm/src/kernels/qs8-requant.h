// qs8-requant.h -- the scalar fp32 requantization step shared by the qs8 scalar kernels
// (private to src/kernels). The SIMD kernels implement the very same operations lane-wise:
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

constexpr float kMagic = 12582912.0f;        // 1.5 * 2^23
constexpr int32_t kMagicBits = 0x4B400000;   // bits of kMagic

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

}  // namespace detail
}  // namespace kernels
}  // namespace mc
