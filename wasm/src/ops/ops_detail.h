// ops_detail.h -- internals of the operator layer shared by ops/*.cpp, the kernel tests and
// the benchmark. Not part of the interface the graph code uses.
//
// Usage:
//   mc::detail::conv_run_f32_tile(s, ind, packed, out, res, relu, mc::Isa::Simd, 4);  // 4x8 tiles
#pragma once
#include <cstddef>
#include <cstdint>

#include "ops/ops.h"

namespace mc {
namespace detail {

// Tile rows used by conv_run_f32 for each ISA.
constexpr int kF32IgemmMrScalar = 2;
constexpr int kF32IgemmMrSimd = 6;

// conv_run_f32 with an explicit microkernel: mr = 2 (scalar), 4 or 6 (SIMD). Returns false
// (and computes nothing) when that tile does not exist for the ISA or in this build.
bool conv_run_f32_tile(const ConvShape& s, const float* const* indirection, const float* packed,
                       float* output, const float* residual, bool relu, Isa isa, int mr);

// The ISA the ops really use: Simd falls back to Scalar in a build without SIMD.
Isa effective_isa(Isa isa);

// Pixel-major indirection shared by the f32 and qs8 convolutions:
// ind[p * kh*kw + t] = input + ((iy*in_w + ix) * in_c) or zero.
template <typename T>
void setup_indirection(const ConvShape& s, const T* input, const T* zero, const T** ind) {
  const int oh = s.out_h(), ow = s.out_w();
  const size_t ks = size_t(s.kh) * size_t(s.kw);
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

}  // namespace detail
}  // namespace mc
