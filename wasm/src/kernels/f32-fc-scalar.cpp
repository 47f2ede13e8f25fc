// f32 fully connected (one input vector), scalar reference: out[o] = bias[o] + w[o] . in
// The sum is ordered exactly as in the SIMD128 kernel (8 running partial sums, then a fixed
// reduction tree, then the tail), so both give bit-identical results.
#include "kernels/kernels.h"

namespace mc {
namespace kernels {

void f32_fc_ukernel__scalar(size_t n_in, size_t n_out, const float* w, const float* bias,
                            const float* in, float* out) {
  for (size_t o = 0; o < n_out; o++) {
    const float* wo = w + o * n_in;
    float p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n_in; i += 8)
      for (size_t j = 0; j < 8; j++) {
        const float t = wo[i + j] * in[i + j];
        p[j] = t + p[j];
      }
    for (; i + 4 <= n_in; i += 4)
      for (size_t j = 0; j < 4; j++) {
        const float t = wo[i + j] * in[i + j];
        p[j] = t + p[j];
      }
    float q[4];
    for (size_t j = 0; j < 4; j++) q[j] = p[j] + p[j + 4];
    float s = (q[0] + q[2]) + (q[1] + q[3]);
    for (; i < n_in; i++) s = s + wo[i] * in[i];
    out[o] = (bias ? bias[o] : 0.0f) + s;
  }
}

}  // namespace kernels
}  // namespace mc
