// qs8 Winograd F(2x2, 3x3) output transform, portable SIMD128: 8 channels at a time, the
// scalar reference's wrapping int32 adds lane-wise, Y / 4 by an arithmetic shift, then the
// shared requantization (detail::Qs8RequantSimd). Bit-identical to
// qs8-winograd-output-scalar.cpp.
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/qs8-requant.h"
#include "kernels/simd128.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {
namespace {

using namespace mc::simd;

// The 2x2 outputs (acc = bias + Y / 4) of 4 channels whose 16 sums are at m[x * m_stride].
inline __attribute__((always_inline)) void transform4(const int32_t* m, size_t m_stride, i32x4 bias,
                                                      i32x4 (&y)[2][2]) {
  i32x4 x[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) x[i][j] = i32x4_load(m + size_t(i * 4 + j) * m_stride);
  i32x4 t[2][4];
  for (int j = 0; j < 4; j++) {
    t[0][j] = i32x4_add(i32x4_add(x[0][j], x[1][j]), x[2][j]);
    t[1][j] = i32x4_sub(i32x4_sub(x[1][j], x[2][j]), x[3][j]);
  }
  for (int i = 0; i < 2; i++) {
    y[i][0] = i32x4_add(bias, i32x4_sar(i32x4_add(i32x4_add(t[i][0], t[i][1]), t[i][2]), 2));
    y[i][1] = i32x4_add(bias, i32x4_sar(i32x4_sub(i32x4_sub(t[i][1], t[i][2]), t[i][3]), 2));
  }
}

}  // namespace

void qs8_winograd_output_ukernel_4x4__simd128(size_t c, const int32_t* m, size_t m_stride,
                                              const int32_t* bias, const float* scale, int8_t* out,
                                              size_t out_stride, size_t rows, size_t cols,
                                              const int8_t* r, const Qs8IgemmParams& p) {
  const detail::Qs8RequantSimd rq(p);
  rows = rows < 2 ? rows : 2;
  cols = cols < 2 ? cols : 2;
  int32_t tail[16 * 8];  // the last c % 8 channels of the 16 sums, zero-padded to 8
  for (size_t k = 0; k < c; k += 8) {
    const size_t nc = c - k < 8 ? c - k : 8;
    const int32_t* mk = m + k;
    size_t ms = m_stride;
    if (nc < 8) {
      std::memset(tail, 0, sizeof tail);
      for (int x = 0; x < 16; x++) std::memcpy(tail + x * 8, m + size_t(x) * m_stride + k, nc * 4);
      mk = tail;
      ms = 8;
    }
    // bias and scale hold whole panels of 8 (ops/conv_winograd_qs8.cpp), so 8 loads are safe
    i32x4 ylo[2][2], yhi[2][2];
    transform4(mk, ms, i32x4_load(bias + k), ylo);
    transform4(mk + 4, ms, i32x4_load(bias + k + 4), yhi);
    const f32x4 s0 = f32x4_load(scale + k), s1 = f32x4_load(scale + k + 4);
    for (size_t i = 0; i < rows; i++)
      for (size_t j = 0; j < cols; j++) {
        const size_t o = i * out_stride + j * c + k;
        rq.store(ylo[i][j], yhi[i][j], s0, s1, r ? r + o : nullptr, out + o, nc);
      }
  }
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
