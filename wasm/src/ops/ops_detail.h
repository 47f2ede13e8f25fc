// ops_detail.h -- internals of the operator layer shared by ops/*.cpp, the kernel tests and
// the benchmark. Not part of the interface the graph code uses.
//
// Usage:
//   mc::detail::conv_run_f32_tile(s, ind, packed, out, res, relu, mc::Isa::Simd, 4);  // 4x8 tiles
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "ops/ops.h"
#include "ops/ops_qs8.h"

namespace mc {
namespace detail {

// Tile rows used by conv_run_f32 for each ISA.
constexpr int kF32IgemmMrScalar = 2;
constexpr int kF32IgemmMrSimd = 4;  // 4x8 beat 6x8 natively (SSE) and in V8 (bench)

// The f32 4x8s4 tile (4 rows x 8 channels, activations loaded 4 channels at a time) has the
// same 4 rows as 4x8: the functions below name it by this mr value instead.
constexpr int kF32Mr4x8s4 = 104;

// conv_run_f32 with an explicit microkernel: mr = 2 (scalar), 4, 6 or kF32Mr4x8s4 (SIMD).
// Returns false (and computes nothing) when that tile does not exist for the ISA or in this
// build.
bool conv_run_f32_tile(const ConvShape& s, const float* const* indirection, const float* packed,
                       float* output, const float* residual, bool relu, Isa isa, int mr);

// Tile of conv_rows_run_f32 with SIMD: 4x8s4 (4-wide activation loads pay on the long
// kw*in_c rows: stem 7x7/2 ~7% faster than the plain conv's 4x8 in V8, where 4x8s4 is slower).
constexpr int kF32RowsMrSimd = kF32Mr4x8s4;
// conv_rows_run_f32 with an explicit microkernel (same mr values as conv_run_f32_tile).
bool conv_rows_run_f32_tile(const ConvShape& s, const float* const* indirection,
                            const float* packed, float* output, const float* residual, bool relu,
                            Isa isa, int mr);

// The a16 runs (conv_run_qs8_a16, ops_qs8.h): tile rows per ISA, and the runs with an explicit
// microkernel: mr = 2 (scalar) or 4 (SIMD); false (nothing computed) as above.
constexpr int kQs8A16IgemmMrScalar = 2;
constexpr int kQs8A16IgemmMrSimd = 4;
bool conv_run_qs8_a16_tile(const ConvShape& s, const int16_t* const* indirection,
                           const void* packed, bool w16, int8_t* output, const int8_t* residual,
                           QuantParams residual_q, bool relu, Isa isa, int mr);
bool conv_rows_run_qs8_a16_tile(const ConvShape& s, const int16_t* const* indirection,
                                const void* rows_packed, bool w16, int8_t* output,
                                const int8_t* residual, QuantParams residual_q, bool relu, Isa isa,
                                int mr);

// The epilogue parameters of the qs8 kernels from a packed header (conv_pack_qs8 layout or any
// layout starting with its 16-byte header), the residual's parameters and ReLU; false when
// either parameter set is invalid.
bool qs8_epilogue_params(const void* packed, const int8_t* residual, QuantParams residual_q,
                         bool relu, kernels::Qs8IgemmParams* p);

// The ISA the ops really use: Simd falls back to Scalar in a build without SIMD.
Isa effective_isa(Isa isa);

// Pixel-major indirection shared by the f32 and qs8 convolutions, image after image:
// ind[((b*out_h + oy)*out_w + ox) * kh*kw + t] = input + ((b*in_h + iy)*in_w + ix) * in_c or zero.
template <typename T>
void setup_indirection(const ConvShape& s, const T* input, const T* zero, const T** ind) {
  const int oh = s.out_h(), ow = s.out_w();
  const size_t ks = size_t(s.kh) * size_t(s.kw);
  const size_t in_image = size_t(s.in_h) * size_t(s.in_w) * size_t(s.in_c);
  const size_t ind_image = size_t(oh) * size_t(ow) * ks;
  for (int b = 0; b < s.n; b++, input += in_image, ind += ind_image)
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        const T** row = ind + (size_t(oy) * size_t(ow) + size_t(ox)) * ks;
        for (int ky = 0; ky < s.kh; ky++) {
          const int iy = oy * s.stride - s.pad + ky;
          for (int kx = 0; kx < s.kw; kx++) {
            const int ix = ox * s.stride - s.pad + kx;
            const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
            row[size_t(ky) * size_t(s.kw) + size_t(kx)] =
                inside ? input + (size_t(iy) * size_t(s.in_w) + size_t(ix)) * size_t(s.in_c) : zero;
          }
        }
      }
    }
}

// Row indirection of the row-form convolutions (ops.h): ind[p * kh + ky] points to the first of
// the kw*in_c values of kernel row ky of output pixel p (of all n images) in the pre-padded input.
template <typename T>
void setup_row_indirection(const ConvShape& s, const T* padded, const T** ind) {
  const int oh = s.out_h(), ow = s.out_w();
  const size_t wp = size_t(s.in_w) + 2 * size_t(s.pad), c = size_t(s.in_c);
  const size_t in_image = (size_t(s.in_h) + 2 * size_t(s.pad)) * wp * c;
  const size_t ind_image = size_t(oh) * size_t(ow) * size_t(s.kh);
  for (int b = 0; b < s.n; b++, padded += in_image, ind += ind_image)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int ky = 0; ky < s.kh; ky++)
          ind[(size_t(oy) * size_t(ow) + size_t(ox)) * size_t(s.kh) + size_t(ky)] =
              padded + ((size_t(oy) * s.stride + size_t(ky)) * wp + size_t(ox) * s.stride) * c;
}

bool pool_args_valid(int in_h, int in_w, int c, int k, int stride, int pad);

// The window walk of the max pools: for each output pixel, collects the pointers of the valid
// input pixels (padding never takes part) and calls ukernel(n, c, rows, out_pixel).
template <typename T, typename Ukernel>
void maxpool_windows(int in_h, int in_w, int c, int k, int stride, int pad, const T* in, T* out,
                     Ukernel ukernel) {
  const int oh = (in_h + 2 * pad - k) / stride + 1, ow = (in_w + 2 * pad - k) / stride + 1;
  const T* rows[256];  // k <= 16
  for (int oy = 0; oy < oh; oy++) {
    const int y0 = oy * stride - pad < 0 ? 0 : oy * stride - pad;
    const int y1 = oy * stride - pad + k > in_h ? in_h : oy * stride - pad + k;
    for (int ox = 0; ox < ow; ox++) {
      const int x0 = ox * stride - pad < 0 ? 0 : ox * stride - pad;
      const int x1 = ox * stride - pad + k > in_w ? in_w : ox * stride - pad + k;
      size_t n = 0;
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
          rows[n++] = in + (size_t(y) * size_t(in_w) + size_t(x)) * size_t(c);
      // pad < k and the output size rule guarantee n >= 1
      ukernel(n, size_t(c), rows, out + (size_t(oy) * size_t(ow) + size_t(ox)) * size_t(c));
    }
  }
}

}  // namespace detail
}  // namespace mc
