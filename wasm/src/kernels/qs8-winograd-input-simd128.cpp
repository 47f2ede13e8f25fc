// qs8 Winograd F(2x2, 3x3) input transform, portable SIMD128: 8 channels at a time, the int8
// tile sign-extended to int16 on load (i16x8_load_i8x8), then the scalar reference's adds and
// subtracts lane-wise (int16 is exact here: |V| <= 512). Bit-identical to
// qs8-winograd-input-scalar.cpp.
#include "kernels/kernels.h"
#include "kernels/simd128.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {

using namespace mc::simd;

void qs8_winograd_input_ukernel_4x4__simd128(size_t c, const int8_t* const* d, int16_t* v,
                                             size_t v_stride) {
  size_t k = 0;
  for (; k + 8 <= c; k += 8) {
    i16x8 x[4][4], t[4][4];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) x[i][j] = i16x8_load_i8x8(d[i * 4 + j] + k);
    for (int j = 0; j < 4; j++) {
      t[0][j] = i16x8_sub(x[0][j], x[2][j]);
      t[1][j] = i16x8_add(x[1][j], x[2][j]);
      t[2][j] = i16x8_sub(x[2][j], x[1][j]);
      t[3][j] = i16x8_sub(x[1][j], x[3][j]);
    }
    for (int i = 0; i < 4; i++) {
      i16x8_store(v + size_t(i * 4 + 0) * v_stride + k, i16x8_sub(t[i][0], t[i][2]));
      i16x8_store(v + size_t(i * 4 + 1) * v_stride + k, i16x8_add(t[i][1], t[i][2]));
      i16x8_store(v + size_t(i * 4 + 2) * v_stride + k, i16x8_sub(t[i][2], t[i][1]));
      i16x8_store(v + size_t(i * 4 + 3) * v_stride + k, i16x8_sub(t[i][1], t[i][3]));
    }
  }
  if (k < c) {  // the last c % 8 channels: the scalar reference on shifted pointers
    const int8_t* dk[16];
    for (int i = 0; i < 16; i++) dk[i] = d[i] + k;
    qs8_winograd_input_ukernel_4x4__scalar(c - k, dk, v + k, v_stride);
  }
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
