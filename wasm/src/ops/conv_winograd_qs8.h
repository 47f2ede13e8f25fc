// conv_winograd_qs8.h -- int8 3x3 stride-1 pad-1 convolution by Winograd F(2x2, 3x3), exact:
// bit-identical to conv_run_qs8_a16 on the same packed weights.
//
// An alternative run path for convolutions stored in the direct layout (conv_pack_qs8,
// "igemm-qs8-nr8-kp2-v1"); the Winograd weights are derived at load time, nothing new is stored
// in the blob. Per 2x2 output tile, 4x4 input tile d (int8, padding = the input zero point):
//   V[x] = B^T d B                  int16, exact (|V| <= 512)
//   U[x] = (2G) g (2G)^T            int16, exact (|U| <= 9 * 127), i.e. 4x the usual G g G^T
//   M[x] = V[x] U[x]                16 GEMMs [tiles x in_c] x [in_c x out_c] in int32
//   Y    = A^T M A = 4 * sum(x_q * w_q) over the 3x3 window, exactly
//   acc  = bias + Y / 4, then the direct kernels' fp32 requantization (+ residual, ReLU).
// Every step is integer; the int32 sums may wrap on the way but their true final value fits
// (in_c <= kConvWinogradQs8MaxInC), so modular arithmetic gives it exactly. 2.25x fewer
// multiplications than the direct convolution; the transformed weights take twice the int16
// bytes of the w16 form (16 vs 9 taps), so it pays where weights are reused over many tiles.
//
// Usage (load time, then inference):
//   if (mc::conv_winograd_qs8_applicable(s)) {
//     std::vector<uint8_t> wg(mc::conv_winograd_qs8_packed_size(s));
//     mc::conv_winograd_qs8_pack_from_igemm(s, packed_qs8, wg.data());
//     std::vector<uint8_t> scratch(mc::conv_winograd_qs8_scratch_size(s));
//     std::vector<const int8_t*> ind(mc::conv_winograd_qs8_indirection_size(s));
//     std::vector<int8_t> zero(s.in_c, int8_t(qin.zero_point));   // padding is real 0
//     mc::conv_winograd_qs8_setup(s, input_q, zero.data(), ind.data());
//     mc::conv_winograd_qs8_run(s, ind.data(), wg.data(), scratch.data(), out_q, res_q, qres,
//     true);
//   }
#pragma once
#include <cstddef>
#include <cstdint>

#include "ops/ops.h"
#include "ops/ops_qs8.h"

namespace mc {

// Largest in_c: 4 * 9 * in_c * 128 * 127 < 2^31 (the exact Y must fit in int32).
constexpr int kConvWinogradQs8MaxInC = 2048;

// 3x3, stride 1, pad 1, conv_shape_valid, in_c <= kConvWinogradQs8MaxInC, sizes fit a size_t.
bool conv_winograd_qs8_applicable(const ConvShape& s);

// Layout "winograd-qs8-f2x2-w16" (bytes): the 16-byte quantization header of the direct layout,
// i32 bias[P*8], f32 scale[P*8] (P = ceil(out_c/8) panels, as stored), then for each of the 16
// positions x and each panel: int16 U[ceil(in_c/2)][8][2] (channel pairs as in the direct
// layout, missing channels 0). 0 when not applicable.
size_t conv_winograd_qs8_packed_size(const ConvShape& s);
const char* conv_winograd_qs8_layout_name();  // "winograd-qs8-f2x2-w16"
// From the direct packed weights of the same shape; false when not applicable or a pointer is
// null.
bool conv_winograd_qs8_pack_from_igemm(const ConvShape& s, const void* packed_qs8, void* out);

// Scratch bytes (64-byte aligned parts; V int16 [16][tiles][in_c rounded to even], M int32
// [16][tiles][out_c], tiles of all n images). Only used during one run: may be shared by
// convolutions; a scratch for n images serves any run with fewer.
size_t conv_winograd_qs8_scratch_size(const ConvShape& s);
// Input tile pointers: 16 per 2x2 output tile (image after image), into input or zero (>= in_c
// bytes).
size_t conv_winograd_qs8_indirection_size(const ConvShape& s);
void conv_winograd_qs8_setup(const ConvShape& s, const int8_t* input, const int8_t* zero,
                             const int8_t** indirection);

// output = requantize(conv(input) [+ residual]) [ReLU] as conv_run_qs8_a16, bit for bit. residual
// may be the output itself; input, scratch and output must not overlap. Allocates nothing; does
// nothing on an invalid argument.
void conv_winograd_qs8_run(const ConvShape& s, const int8_t* const* indirection, const void* packed,
                           void* scratch, int8_t* output, const int8_t* residual,
                           QuantParams residual_q, bool relu, Isa isa = default_isa());

}  // namespace mc
