// f32 fully connected (one input vector), SIMD128: 2 x f32x4 partial dot products per output,
// reduced at the end, in the same order as the scalar reference (bit-identical results).
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void f32_fc_ukernel__simd128(size_t n_in, size_t n_out, const float* w, const float* bias,
                             const float* in, float* out) {
  for (size_t o = 0; o < n_out; o++) {
    const float* wo = w + o * n_in;
    f32x4 s0 = f32x4_zero(), s1 = f32x4_zero();
    size_t i = 0;
    for (; i + 8 <= n_in; i += 8) {
      s0 = f32x4_muladd(f32x4_load(wo + i), f32x4_load(in + i), s0);
      s1 = f32x4_muladd(f32x4_load(wo + i + 4), f32x4_load(in + i + 4), s1);
    }
    for (; i + 4 <= n_in; i += 4) s0 = f32x4_muladd(f32x4_load(wo + i), f32x4_load(in + i), s0);
    float s = f32x4_hsum(f32x4_add(s0, s1));
    for (; i < n_in; i++) s = s + wo[i] * in[i];
    out[o] = (bias ? bias[o] : 0.0f) + s;
  }
}

}  // namespace kernels
}  // namespace mc
#endif
