// f32 igemm, portable SIMD128: MR x 8 tiles (MR = 4 and 6; 4x8s4 loads 4 activations at once),
// two f32x4 accumulators per row.
// See kernels.h for the packed-weight and indirection contract.
#include "kernels/kernels.h"

#if MC_HAVE_SIMD128
namespace mc {
namespace kernels {
namespace {

using namespace mc::simd;

// One k step for all rows: x[m] = the activation of row m, broadcast.
template <int MR>
inline __attribute__((always_inline)) void k_step(const f32x4 (&x)[MR], const float* w,
                                                  f32x4 (&acc0)[MR], f32x4 (&acc1)[MR]) {
  const f32x4 w0 = f32x4_load(w);
  const f32x4 w1 = f32x4_load(w + 4);
  for (int m = 0; m < MR; m++) {
    acc0[m] = f32x4_muladd(x[m], w0, acc0[m]);
    acc1[m] = f32x4_muladd(x[m], w1, acc1[m]);
  }
}

template <int MR, int L>
inline __attribute__((always_inline)) void k_step_lane(const f32x4 (&v)[MR], const float* w,
                                                       f32x4 (&acc0)[MR], f32x4 (&acc1)[MR]) {
  f32x4 x[MR];
  for (int m = 0; m < MR; m++) x[m] = f32x4_broadcast_lane<L>(v[m]);
  k_step<MR>(x, w, acc0, acc1);
}

// S4: load 4 activations of a row at once and broadcast them by shuffles (fewer loads);
// otherwise one broadcast load per activation. The accumulation order is the same.
template <int MR, bool S4>
inline void igemm_mrx8(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a,
                       size_t a_stride, const float* w, float* c, size_t c_stride, const float* r,
                       bool relu) {
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
    size_t k = 0;
    if (S4) {
      for (; k + 4 <= kc; k += 4) {
        f32x4 v[MR];
        for (int m = 0; m < MR; m++) v[m] = f32x4_load(ap[m] + k);
        k_step_lane<MR, 0>(v, w, acc0, acc1);
        k_step_lane<MR, 1>(v, w + 8, acc0, acc1);
        k_step_lane<MR, 2>(v, w + 16, acc0, acc1);
        k_step_lane<MR, 3>(v, w + 24, acc0, acc1);
        w += 32;
      }
    }
    for (; k < kc; k++) {
      f32x4 x[MR];
      for (int m = 0; m < MR; m++) x[m] = f32x4_load_splat(ap[m] + k);
      k_step<MR>(x, w, acc0, acc1);
      w += 8;
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
  igemm_mrx8<4, false>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, relu);
}

void f32_igemm_ukernel_6x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                    const float* const* a, size_t a_stride, const float* w,
                                    float* c, size_t c_stride, const float* r, bool relu) {
  igemm_mrx8<6, false>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, relu);
}

void f32_igemm_ukernel_4x8s4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                      const float* const* a, size_t a_stride, const float* w,
                                      float* c, size_t c_stride, const float* r, bool relu) {
  igemm_mrx8<4, true>(mr, nc, kc, ks, a, a_stride, w, c, c_stride, r, relu);
}

}  // namespace kernels
}  // namespace mc
#endif  // MC_HAVE_SIMD128
