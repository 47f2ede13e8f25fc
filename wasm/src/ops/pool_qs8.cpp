// pool_qs8.cpp -- int8 max pool and int8 -> f32 global average pool.
#include "kernels/kernels.h"
#include "ops/ops_detail.h"
#include "ops/ops_qs8.h"

namespace mc {

void maxpool_qs8(int in_h, int in_w, int c, int k, int stride, int pad, const int8_t* in,
                 int8_t* out, Isa isa) {
  if (!detail::pool_args_valid(in_h, in_w, c, k, stride, pad) || !in || !out) return;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    detail::maxpool_windows(in_h, in_w, c, k, stride, pad, in, out,
                            kernels::s8_maxpool_ukernel__simd128);
    return;
  }
#endif
  (void)isa;
  detail::maxpool_windows(in_h, in_w, c, k, stride, pad, in, out,
                          kernels::s8_maxpool_ukernel__scalar);
}

void global_avgpool_qs8_f32(int hw, int c, const int8_t* in, QuantParams q, float* out, Isa isa) {
  // hw <= 2^23 keeps the int32 sums exact
  if (hw < 1 || c < 1 || hw > (1 << 23) || !in || !out || !quant_params_valid(q) ||
      double(hw) * c >= double(1u << 31))
    return;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    kernels::qs8_gavgpool_ukernel__simd128(size_t(hw), size_t(c), in, q.zero_point, q.scale, out);
    return;
  }
#endif
  (void)isa;
  kernels::qs8_gavgpool_ukernel__scalar(size_t(hw), size_t(c), in, q.zero_point, q.scale, out);
}

}  // namespace mc
