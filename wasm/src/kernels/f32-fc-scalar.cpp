// f32 fully connected (one input vector), scalar reference: out[o] = bias[o] + w[o] . in
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_fc_ukernel__scalar(size_t n_in, size_t n_out, const float* w, const float* bias,
                            const float* in, float* out) {
  for (size_t o = 0; o < n_out; o++) {
    const float* wo = w + o * n_in;
    float s = 0.0f;
    for (size_t i = 0; i < n_in; i++) s = s + wo[i] * in[i];
    out[o] = (bias ? bias[o] : 0.0f) + s;
  }
}

}  // namespace kernels
}  // namespace mc
