// kernels.h -- microkernel declarations (private to the core: only src/ops/*.cpp, the kernel
// tests and the benchmark include this). Names follow <type>_<op>_ukernel_<tile>__<isa>.
//
// Usage (what ops/conv_f32.cpp does for one MR x 8 tile of the output):
//   mc::kernels::f32_igemm_ukernel_6x8__simd128(mr, nc, in_c, kh*kw,
//       indirection + p0*kh*kw, kh*kw, panel, out + p0*out_c + n0, out_c, residual_or_null, relu);
//
// ---- f32 igemm ------------------------------------------------------------------------------
// Packed weights ("igemm-f32-nr8-v1"): the output channels in panels of NR = 8 (the last panel
// zero padded); panel n = [8 bias][tap 0: in_c x 8][tap 1: in_c x 8]...[tap ks-1], i.e.
// w[n*8 + j] for tap t, input channel k at  panel + 8 + (t*in_c + k)*8 + j.
// Indirection: a[m * a_stride + t] is the pointer to the kc input values of output row m, tap t.
// The kernel computes rows 0..mr-1 (mr <= MR; missing rows reuse row mr-1 and are not stored)
// and channels 0..nc-1 (nc <= 8) of c[m * c_stride + j] = bias + sum a*w (+ r[m*c_stride + j])
// (then max(., 0) when relu). r may be null. Accumulation order: bias, then tap by tap, channel
// by channel, each step a multiply then an add; all kernels of a family agree on that order.
//
// ---- qs8 igemm (see ops/ops_qs8.h for the packed layout "igemm-qs8-nr8-kp2-v1") -------------
// Same indirection and tiling over int16 copies of the int8 activations ("a16"); a panel is
// [8 int32 bias][8 f32 requant scale][tap 0: ceil(kc/2) pairs x 8 channels x 2 int8]...;
// params carry the epilogue constants.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/simd128.h"

namespace mc {
namespace kernels {

constexpr int kIgemmNR = 8;

using F32IgemmUkernel = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a,
                                 size_t a_stride, const float* w, float* c, size_t c_stride,
                                 const float* r, bool relu);

void f32_igemm_ukernel_2x8__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                   const float* const* a, size_t a_stride, const float* w, float* c,
                                   size_t c_stride, const float* r, bool relu);
#if MC_HAVE_SIMD128
void f32_igemm_ukernel_4x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                    const float* const* a, size_t a_stride, const float* w,
                                    float* c, size_t c_stride, const float* r, bool relu);
void f32_igemm_ukernel_4x8s4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                      const float* const* a, size_t a_stride, const float* w,
                                      float* c, size_t c_stride, const float* r, bool relu);
void f32_igemm_ukernel_6x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                    const float* const* a, size_t a_stride, const float* w,
                                    float* c, size_t c_stride, const float* r, bool relu);
#endif

// ---- f32 Winograd transforms (ops/conv_winograd_f32.cpp does the GEMMs) --------------------
// 4x4: F(2x2, 3x3) (4x4 input tile, 2x2 outputs); 6x6: F(4x4, 3x3) (6x6 input, 4x4 outputs).
// Input: one a x a input tile, d[i*a + j] = pointer to the c channel values of tile row i, col j
// (or to >= c zeros in the padding); writes v[x*v_stride + k] = (B^T d B)[x], x = i*a + j.
// Output: one tile, m[x*m_stride + k] (x < a*a) -> the outputs y + i*y_row_stride + j*c
// for i < rows, j < cols (rows, cols in 1..a-2): (A^T m A) + bias[k] (+ r at the same offsets
// as y; r may be y) (then max(., 0) when relu). The scalar file defines the operation order;
// the SIMD kernels follow it, so they match bit for bit.
void f32_winograd_input_ukernel_4x4__scalar(size_t c, const float* const* d, float* v,
                                            size_t v_stride);
void f32_winograd_output_ukernel_4x4__scalar(size_t c, const float* m, size_t m_stride,
                                             const float* bias, float* y, size_t y_row_stride,
                                             size_t rows, size_t cols, const float* r, bool relu);
void f32_winograd_input_ukernel_6x6__scalar(size_t c, const float* const* d, float* v,
                                            size_t v_stride);
void f32_winograd_output_ukernel_6x6__scalar(size_t c, const float* m, size_t m_stride,
                                             const float* bias, float* y, size_t y_row_stride,
                                             size_t rows, size_t cols, const float* r, bool relu);
#if MC_HAVE_SIMD128
void f32_winograd_input_ukernel_6x6__simd128(size_t c, const float* const* d, float* v,
                                             size_t v_stride);
void f32_winograd_output_ukernel_6x6__simd128(size_t c, const float* m, size_t m_stride,
                                              const float* bias, float* y, size_t y_row_stride,
                                              size_t rows, size_t cols, const float* r, bool relu);
void f32_winograd_input_ukernel_4x4__simd128(size_t c, const float* const* d, float* v,
                                             size_t v_stride);
void f32_winograd_output_ukernel_4x4__simd128(size_t c, const float* m, size_t m_stride,
                                              const float* bias, float* y, size_t y_row_stride,
                                              size_t rows, size_t cols, const float* r, bool relu);
#endif

// ---- f32 pooling / fc -------------------------------------------------------------------------
// max pool over one output pixel: out[c] = max over the n input rows in[i][c] (n >= 1)
void f32_maxpool_ukernel__scalar(size_t n, size_t c, const float* const* in, float* out);
// sum over hw rows of in[hw][c], times scale
void f32_gavgpool_ukernel__scalar(size_t hw, size_t c, const float* in, float scale, float* out);
// out[o] = bias[o] + sum_i w[o][i] * in[i]
void f32_fc_ukernel__scalar(size_t n_in, size_t n_out, const float* w, const float* bias,
                            const float* in, float* out);
#if MC_HAVE_SIMD128
void f32_maxpool_ukernel__simd128(size_t n, size_t c, const float* const* in, float* out);
void f32_gavgpool_ukernel__simd128(size_t hw, size_t c, const float* in, float scale, float* out);
void f32_fc_ukernel__simd128(size_t n_in, size_t n_out, const float* w, const float* bias,
                             const float* in, float* out);
#endif

// ---- qs8 ----------------------------------------------------------------------------------------
struct Qs8IgemmParams {
  int32_t out_zero_point;
  float out_min;  // clamp bounds of (y = acc*scale + residual term), before rounding:
  float out_max;  //   [-128 - zp or 0 with relu, 127 - zp]
  int32_t res_zero_point;
  float res_scale;  // residual scale / output scale (used when r != null)
};
// The qs8 igemm runs on int16 activations ("a16": int16 copies of the int8 tensors), with the
// stored int8 weights or with the weights widened to int16 ("_w16", layout
// "igemm-qs8-nr8-kp2-w16"); both forms give bit-identical output.
using Qs8A16IgemmUkernel = void (*)(size_t mr, size_t nc, size_t kc, size_t ks,
                                    const int16_t* const* a, size_t a_stride, const void* w,
                                    int8_t* c, size_t c_stride, const int8_t* r,
                                    const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_2x8c2__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                         const int16_t* const* a, size_t a_stride, const void* w,
                                         int8_t* c, size_t c_stride, const int8_t* r,
                                         const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_2x8c2_w16__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                             const int16_t* const* a, size_t a_stride,
                                             const void* w, int8_t* c, size_t c_stride,
                                             const int8_t* r, const Qs8IgemmParams& p);
// The "tapmask" form, for tiles of 4 output pixels some of whose kernel taps fall in the padding
// (a 2x2 output: one tile per image): tap t is read only by the rows whose bit is set in
// tap_rows[t], and the rows start from init[m * 8 + j] (the panel's bias plus, for each row, the
// input zero point times the weights of the taps it skips) instead of the panel's bias. The sums
// are the igemm's over the same terms, so the output is bit-identical to qs8_igemm_a16's with
// the padding read as the zero point; a row skips the multiplies of the taps it does not read.
using Qs8A16IgemmTapmaskUkernel = void (*)(size_t mr, size_t nc, size_t kc, size_t ks,
                                           const int16_t* const* a, size_t a_stride, const void* w,
                                           const int32_t* init, const uint8_t* tap_rows, int8_t* c,
                                           size_t c_stride, const int8_t* r,
                                           const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_4x8c2_tapmask__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                                 const int16_t* const* a, size_t a_stride,
                                                 const void* w, const int32_t* init,
                                                 const uint8_t* tap_rows, int8_t* c,
                                                 size_t c_stride, const int8_t* r,
                                                 const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_4x8c2_w16_tapmask__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                                     const int16_t* const* a, size_t a_stride,
                                                     const void* w, const int32_t* init,
                                                     const uint8_t* tap_rows, int8_t* c,
                                                     size_t c_stride, const int8_t* r,
                                                     const Qs8IgemmParams& p);
#if MC_HAVE_SIMD128
void qs8_igemm_a16_ukernel_4x8c2_tapmask__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                                  const int16_t* const* a, size_t a_stride,
                                                  const void* w, const int32_t* init,
                                                  const uint8_t* tap_rows, int8_t* c,
                                                  size_t c_stride, const int8_t* r,
                                                  const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_4x8c2_w16_tapmask__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                                      const int16_t* const* a, size_t a_stride,
                                                      const void* w, const int32_t* init,
                                                      const uint8_t* tap_rows, int8_t* c,
                                                      size_t c_stride, const int8_t* r,
                                                      const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_4x8c2__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                          const int16_t* const* a, size_t a_stride, const void* w,
                                          int8_t* c, size_t c_stride, const int8_t* r,
                                          const Qs8IgemmParams& p);
void qs8_igemm_a16_ukernel_4x8c2_w16__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                              const int16_t* const* a, size_t a_stride,
                                              const void* w, int8_t* c, size_t c_stride,
                                              const int8_t* r, const Qs8IgemmParams& p);
#endif
// qs8 Winograd F(2x2, 3x3) (ops/conv_winograd_qs8.cpp runs them; exact integer arithmetic):
//   input   the 4x4 int8 input tile (16 row pointers d[i*4+j], c channels each) ->
//           v[x * v_stride + k] = (B^T d B)[x] in int16 (|v| <= 512), x = 0..15
//   gemm    c[m][j] = sum_k a[m][k] * w[k][j], int16 x int16 -> int32 (wrapping), mr <= MR rows
//           (row m at a + m * a_stride), kc even, one panel w = [kc/2][8][2] int16, nc <= 8
//   output  y = A^T M A (2x2) of the c channels M[x] = m + x * m_stride, acc = bias + y / 4, then
//           the qs8 epilogue of qs8-requant.h into the rows x cols (<= 2x2) output pixels at
//           out (pixel (i, j) at out + i * out_stride + j * c; r: residual, same layout)
void qs8_winograd_input_ukernel_4x4__scalar(size_t c, const int8_t* const* d, int16_t* v,
                                            size_t v_stride);
void s16_gemm_ukernel_2x8c2__scalar(size_t mr, size_t nc, size_t kc, const int16_t* a,
                                    size_t a_stride, const int16_t* w, int32_t* c, size_t c_stride);
void qs8_winograd_output_ukernel_4x4__scalar(size_t c, const int32_t* m, size_t m_stride,
                                             const int32_t* bias, const float* scale, int8_t* out,
                                             size_t out_stride, size_t rows, size_t cols,
                                             const int8_t* r, const Qs8IgemmParams& p);
#if MC_HAVE_SIMD128
void qs8_winograd_input_ukernel_4x4__simd128(size_t c, const int8_t* const* d, int16_t* v,
                                             size_t v_stride);
void s16_gemm_ukernel_4x8c2__simd128(size_t mr, size_t nc, size_t kc, const int16_t* a,
                                     size_t a_stride, const int16_t* w, int32_t* c,
                                     size_t c_stride);
void qs8_winograd_output_ukernel_4x4__simd128(size_t c, const int32_t* m, size_t m_stride,
                                              const int32_t* bias, const float* scale, int8_t* out,
                                              size_t out_stride, size_t rows, size_t cols,
                                              const int8_t* r, const Qs8IgemmParams& p);
#endif
void s8_maxpool_ukernel__scalar(size_t n, size_t c, const int8_t* const* in, int8_t* out);
// out[c] = scale * (sum_hw in[hw][c] - hw*zero_point) / hw   computed as documented in the .cpp
void qs8_gavgpool_ukernel__scalar(size_t hw, size_t c, const int8_t* in, int32_t zero_point,
                                  float scale, float* out);
#if MC_HAVE_SIMD128
void s8_maxpool_ukernel__simd128(size_t n, size_t c, const int8_t* const* in, int8_t* out);
void qs8_gavgpool_ukernel__simd128(size_t hw, size_t c, const int8_t* in, int32_t zero_point,
                                   float scale, float* out);
#endif

}  // namespace kernels
}  // namespace mc
