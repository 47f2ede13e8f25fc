// f32 global average pool, SIMD128: 8 then 4 channels at a time, rows summed in order.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void f32_gavgpool_ukernel__simd128(size_t hw, size_t c, const float* in, float scale, float* out) {
  const f32x4 vs = f32x4_splat(scale);
  size_t j = 0;
  for (; j + 8 <= c; j += 8) {
    f32x4 s0 = f32x4_zero(), s1 = f32x4_zero();
    for (size_t i = 0; i < hw; i++) {
      s0 = f32x4_add(s0, f32x4_load(in + i * c + j));
      s1 = f32x4_add(s1, f32x4_load(in + i * c + j + 4));
    }
    f32x4_store(out + j, f32x4_mul(s0, vs));
    f32x4_store(out + j + 4, f32x4_mul(s1, vs));
  }
  for (; j + 4 <= c; j += 4) {
    f32x4 s0 = f32x4_zero();
    for (size_t i = 0; i < hw; i++) s0 = f32x4_add(s0, f32x4_load(in + i * c + j));
    f32x4_store(out + j, f32x4_mul(s0, vs));
  }
  for (; j < c; j++) {
    float s = 0.0f;
    for (size_t i = 0; i < hw; i++) s = s + in[i * c + j];
    out[j] = s * scale;
  }
}

}  // namespace kernels
}  // namespace mc
#endif
