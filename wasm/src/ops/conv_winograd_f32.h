// conv_winograd_f32.h -- f32 3x3 stride-1 pad-1 convolution by Winograd F(m x m, 3x3), m = 2
// or 4 (the `m` argument of every function).
//
// An alternative run path for convolutions whose weights are stored in the direct layout
// (conv_pack_f32, "igemm-f32-nr8-v1"): the Winograd weights are derived from those at load
// time, nothing new is stored in the blob. Per m x m output tile, a x a input tile (a = m + 2):
//   V[x] = B^T d B (a*a positions x), M[x] = V[x] U[x] (a*a GEMMs [tiles x in_c] x
//   [in_c x out_c], the f32 igemm microkernels with ks = 1), y = A^T M A + bias (+ residual)
//   (then ReLU).
// m = 2: 2.25x fewer multiplications than the direct convolution, m = 4: 4x (for large
// outputs); the results differ from it by rounding only (see tests/native/test_winograd.cpp).
//
// Usage (load time, then inference):
//   const int m = 2;
//   if (mc::conv_winograd_f32_applicable(s, m)) {
//     std::vector<float> wg(mc::conv_winograd_f32_packed_size(s, m));
//     mc::conv_winograd_f32_pack_from_igemm(s, m, packed_igemm, wg.data());
//     std::vector<float> scratch(mc::conv_winograd_f32_scratch_size(s, m));
//     std::vector<const float*> ind(mc::conv_winograd_f32_indirection_size(s, m));
//     mc::conv_winograd_f32_setup(s, m, input, zero, scratch.data(), ind.data());  // zero: >= in_c
//     mc::conv_winograd_f32_run(s, m, ind.data(), wg.data(), scratch.data(), output, residual,
//     relu);
//   }
#pragma once
#include <cstddef>

#include "ops/ops.h"

namespace mc {

// m is 2 or 4; 3x3 kernel, stride 1, pad 1, one image (n = 1), conv_shape_valid, and every size
// below fits a size_t.
bool conv_winograd_f32_applicable(const ConvShape& s, int m);

// Winograd weights, floats: [bias, out_c rounded up to 8][(m+2)^2 positions x panels of 8 output
// channels: 8 zeros (the igemm bias slot), in_c x 8 of U = G g G^T]. 0 when not applicable.
size_t conv_winograd_f32_packed_size(const ConvShape& s, int m);
// From the direct packed weights (conv_pack_f32 layout of the same shape); false when not
// applicable or a pointer is null.
bool conv_winograd_f32_pack_from_igemm(const ConvShape& s, int m, const float* igemm_packed,
                                       float* out);

// Scratch (floats) for the transformed input and the GEMM results:
// (m+2)^2 * tiles * (in_c + out_c). Only used during one run; may be shared by convolutions
// that do not run at the same time.
size_t conv_winograd_f32_scratch_size(const ConvShape& s, int m);
// Pointers: (m+2)^2 per tile for the input tiles (into input or zero) and as many for the GEMM
// rows (into scratch).
size_t conv_winograd_f32_indirection_size(const ConvShape& s, int m);
void conv_winograd_f32_setup(const ConvShape& s, int m, const float* input, const float* zero,
                             float* scratch, const float** indirection);

// output = conv(input) + bias (+ residual) (then ReLU), as conv_run_f32: residual may be the
// output itself; input, scratch and output must not overlap. Allocates nothing.
void conv_winograd_f32_run(const ConvShape& s, int m, const float* const* indirection,
                           const float* packed, float* scratch, float* output,
                           const float* residual, bool relu, Isa isa = default_isa());

}  // namespace mc
