// pool_fc_f32.cpp -- f32 max pool, global average pool and fully connected operators.
#include <algorithm>

#include "kernels/kernels.h"
#include "ops/ops.h"
#include "ops/ops_detail.h"

namespace mc {

namespace detail {

bool pool_args_valid(int in_h, int in_w, int c, int k, int stride, int pad) {
  return in_h >= 1 && in_w >= 1 && c >= 1 && k >= 1 && k <= 16 && stride >= 1 && pad >= 0 &&
         pad < k && in_h + 2 * pad >= k && in_w + 2 * pad >= k && in_h <= 65536 && in_w <= 65536 &&
         double(in_h) * in_w * c < double(1u << 31);
}

}  // namespace detail

void maxpool_f32(int in_h, int in_w, int c, int k, int stride, int pad, const float* in, float* out,
                 Isa isa) {
  if (!detail::pool_args_valid(in_h, in_w, c, k, stride, pad) || !in || !out) return;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    detail::maxpool_windows(in_h, in_w, c, k, stride, pad, in, out,
                            kernels::f32_maxpool_ukernel__simd128);
    return;
  }
#endif
  (void)isa;
  detail::maxpool_windows(in_h, in_w, c, k, stride, pad, in, out,
                          kernels::f32_maxpool_ukernel__scalar);
}

void global_avgpool_f32(int hw, int c, const float* in, float* out, Isa isa) {
  if (hw < 1 || c < 1 || !in || !out || double(hw) * c >= double(1u << 31)) return;
  const float scale = 1.0f / float(hw);
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    kernels::f32_gavgpool_ukernel__simd128(size_t(hw), size_t(c), in, scale, out);
    return;
  }
#endif
  (void)isa;
  kernels::f32_gavgpool_ukernel__scalar(size_t(hw), size_t(c), in, scale, out);
}

void fully_connected_f32(int n_in, int n_out, const float* w, const float* bias, const float* in,
                         float* out, Isa isa) {
  if (n_in < 1 || n_out < 1 || !w || !in || !out || double(n_in) * n_out >= double(1u << 31))
    return;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    kernels::f32_fc_ukernel__simd128(size_t(n_in), size_t(n_out), w, bias, in, out);
    return;
  }
#endif
  (void)isa;
  kernels::f32_fc_ukernel__scalar(size_t(n_in), size_t(n_out), w, bias, in, out);
}

}  // namespace mc
