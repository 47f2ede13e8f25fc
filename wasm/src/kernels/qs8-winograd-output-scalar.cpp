// qs8 Winograd F(2x2, 3x3) output transform, scalar reference: per channel, the 2x2 outputs
// Y = A^T M A of the 16 int32 Winograd-domain sums, A^T = [1 1 1 0; 0 1 -1 -1]. The weights were
// transformed with 2G (integer), so Y is 4x the direct convolution's sum, exactly (modulo 2^32,
// and the true value fits in int32: conv_winograd_qs8_applicable); acc = bias + Y / 4 then goes
// through the same fp32 requantization as the direct kernels (qs8-requant.h): bit-identical
// output.
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/qs8-requant.h"

namespace mc {
namespace kernels {

void qs8_winograd_output_ukernel_4x4__scalar(size_t c, const int32_t* m, size_t m_stride,
                                             const int32_t* bias, const float* scale, int8_t* out,
                                             size_t out_stride, size_t rows, size_t cols,
                                             const int8_t* r, const Qs8IgemmParams& p) {
  for (size_t k = 0; k < c; k++) {
    uint32_t x[4][4], t[2][4];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) x[i][j] = uint32_t(m[size_t(i * 4 + j) * m_stride + k]);
    for (int j = 0; j < 4; j++) {  // t = A^T x (wrapping)
      t[0][j] = x[0][j] + x[1][j] + x[2][j];
      t[1][j] = x[1][j] - x[2][j] - x[3][j];
    }
    for (size_t i = 0; i < rows && i < 2; i++) {
      const uint32_t y[2] = {t[i][0] + t[i][1] + t[i][2], t[i][1] - t[i][2] - t[i][3]};
      for (size_t j = 0; j < cols && j < 2; j++) {
        int32_t yv;
        std::memcpy(&yv, &y[j], 4);
        const int32_t acc = bias[k] + (yv >> 2);  // Y is a multiple of 4
        const size_t o = i * out_stride + j * c + k;
        out[o] = detail::requantize_scalar(acc, scale[k], r ? r + o : nullptr, p);
      }
    }
  }
}

}  // namespace kernels
}  // namespace mc
