// int16 x int16 -> int32 GEMM, portable SIMD128: 4 rows x 8 columns, k in pairs (c2): a row's
// (a[k], a[k+1]) pair reaches all lanes with one 32-bit broadcast load and meets the pairs of
// 8 columns in two i32x4_dot_i16x8 (pmaddwd). The products of the qs8 Winograd convolution
// (ops/conv_winograd_qs8.cpp). Bit-identical to s16-gemm-scalar.cpp (wrapping int32 sums).
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/simd128.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {
namespace {

using namespace mc::simd;

template <int MR>
inline __attribute__((always_inline)) void pair_step(const int16_t* const (&ap)[MR], size_t k,
                                                     const int16_t* w, i32x4 (&acc0)[MR],
                                                     i32x4 (&acc1)[MR]) {
  const i16x8 wlo = i32x4_load(w), whi = i32x4_load(w + 8);
  for (int m = 0; m < MR; m++) {
    const i32x4 xb = i32x4_load_splat(ap[m] + k);
    acc0[m] = i32x4_add(acc0[m], i32x4_dot_i16x8(xb, wlo));
    acc1[m] = i32x4_add(acc1[m], i32x4_dot_i16x8(xb, whi));
  }
}

template <int MR>
inline void gemm_s16(size_t mr, size_t nc, size_t kc, const int16_t* a, size_t a_stride,
                     const int16_t* w, int32_t* c, size_t c_stride) {
  const int16_t* ap[MR];
  i32x4 acc0[MR], acc1[MR];
  for (int m = 0; m < MR; m++) {
    ap[m] = a + (size_t(m) < mr ? size_t(m) : mr - 1) * a_stride;
    acc0[m] = i32x4_zero();
    acc1[m] = i32x4_zero();
  }
  size_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    pair_step<MR>(ap, k, w, acc0, acc1);
    pair_step<MR>(ap, k + 2, w + 16, acc0, acc1);
    pair_step<MR>(ap, k + 4, w + 32, acc0, acc1);
    pair_step<MR>(ap, k + 6, w + 48, acc0, acc1);
    w += 64;
  }
  for (; k < kc; k += 2) {
    pair_step<MR>(ap, k, w, acc0, acc1);
    w += 16;
  }
  for (int m = 0; m < MR; m++) {
    if (size_t(m) >= mr) break;
    int32_t* cm = c + size_t(m) * c_stride;
    if (nc == 8) {
      i32x4_store(cm, acc0[m]);
      i32x4_store(cm + 4, acc1[m]);
    } else {
      int32_t tmp[8];
      i32x4_store(tmp, acc0[m]);
      i32x4_store(tmp + 4, acc1[m]);
      std::memcpy(cm, tmp, nc * sizeof(int32_t));
    }
  }
}

}  // namespace

void s16_gemm_ukernel_4x8c2__simd128(size_t mr, size_t nc, size_t kc, const int16_t* a,
                                     size_t a_stride, const int16_t* w, int32_t* c,
                                     size_t c_stride) {
  gemm_s16<4>(mr, nc, kc, a, a_stride, w, c, c_stride);
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
