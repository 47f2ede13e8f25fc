// f32 igemm, portable SIMD128: MR x 8 tiles (MR = 4 and 6), two f32x4 accumulators per row.
// See kernels.h for the packed-weight and indirection contract.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {
namespace {

using namespace mc::simd;

template <int MR>
inline void igemm_mrx8(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a,
                       size_t a_stride, const float* w, float* c, size_t c_stride,
                       const float* r, bool relu) {
  f32x4 acc0[MR], acc1[MR];
  {
    const f32x4 b0 = f32x4_load(w);
    const f32x4 b1 = f32x4_load(w + 4);
    for (int m = 0; m < MR; m++) {
      acc0[m] = b0;
      acc1[m] = b1;
    }
    w += 8;
  }
  for (size_t t = 0; t < ks; t++) {
    const float* ap[MR];
    for (int m = 0; m < MR; m++) ap[m] = a[(size_t(m) < mr ? size_t(m) : mr - 1) * a_stride + t];
    for (size_t k = 0; k < kc; k++) {
      const f32x4 w0 = f32x4_load(w);
      const f32x4 w1 = f32x4_load(w + 4);
      w += 8;
      for (int m = 0; m < MR; m++) {
        const f32x4 x = f32x4_load_splat(ap[m] + k);
        acc0[m] = f32x4_muladd(x, w0, acc0[m]);
        acc1[m] = f32x4_muladd(x, w1, acc1[m]);
      }
    }
  }
  if (r) {
    if (nc == 8) {
      for (int m = 0; m < MR; m++) {
        if (size_t(m) >= mr) break;
        acc0[m] = f32x4_add(acc0[m], f32x4_load(r + m * c_stride));
        acc1[m] = f32x4_add(acc1[m], f32x4_load(r + m * c_stride + 4));
      }
    } else {
      for (int m = 0; m < MR; m++) {
        if (size_t(m) >= mr) break;
        float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t j = 0; j < nc; j++) tmp[j] = r[m * c_stride + j];
        acc0[m] = f32x4_add(acc0[m], f32x4_load(tmp));
        acc1[m] = f32x4_add(acc1[m], f32x4_load(tmp + 4));
      }
    }
  }
  if (relu) {
    const f32x4 z = f32x4_zero();
    for (int m = 0; m < MR; m++) {
      acc0[m] = f32x4_max(acc0[m], z);
      acc1[m] = f32x4_max(acc1[m], z);
    }
  }
  for (int m = 0; m < MR; m++) {
    if (size_t(m) >= mr) break;
    float* cm = c + m * c_stride;
    if (nc == 8) {
      f32x4_store(cm, acc0[m]);
      f32x4_store(cm + 4, acc1[m]);
    } else {
      f32x4 v = acc0[m];
      size_t n = nc;
      if (n & 4) {
        f32x4_store(cm, v);
        v = acc1[m];
        cm += 4;
      }
      if (n & 2) {
        f32x4_store_lo2(cm, v);
        v = f32x4_move_hi(v);
        cm += 2;
      }
      if (n & 1) f32x4_store_lo1(cm, v);
    }
  }
}

}  // namespace

void f32_igemm_ukernel_4x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                    const float* const* a, size_t a_stride, const float* w,
                                    float* c, size_t c_stride, const float* r, bool relu) {
  igemm_mrx8<4>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, relu);
}

void f32_igemm_ukernel_6x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                    const float* const* a, size_t a_stride, const float* w,
                                    float* c, size_t c_stride, const float* r, bool relu) {
  igemm_mrx8<6>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, relu);
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
