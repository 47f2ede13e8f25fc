// ops.h -- operator layer of the inference core (NHWC, f32; int8 in ops_qs8.h).
//
// The graph code (engine.cpp) calls only these functions. Each operator is split XNNPACK-style
// into a *pack* step (run by the converter, result stored in the blob), a *setup* step (run once
// at model load: indirection buffers, pointing into buffers that never move) and a *run* step
// (inference: no allocation, tiles the output and calls the microkernels in ../kernels/).
//
// Usage:
//   mc::ConvShape s{64, 64, 3, 64, 7, 7, 2, 3};            // in_h,in_w,in_c,out_c,kh,kw,stride,pad
//   std::vector<float> packed(mc::conv_packed_f32_size(s));
//   mc::conv_pack_f32(s, w_ohwi, bias, packed.data());      // converter side
//   std::vector<const float*> ind(mc::conv_indirection_size(s));
//   mc::conv_setup_indirection(s, input, zero, ind.data()); // load time; zero has >= in_c floats
//   mc::conv_run_f32(s, ind.data(), packed.data(), output, /*residual*/nullptr, /*relu*/true);
#pragma once
#include <cstddef>
#include <cstdint>

namespace mc {

// Which implementation the ops dispatch to. Simd = the portable 128-bit layer (wasm SIMD128 or
// SSE2/NEON natively); Scalar = the plain C++ reference kernels (tests, no-SIMD wasm build).
enum class Isa { Scalar, Simd };
Isa default_isa();  // Simd when compiled with a SIMD target, else Scalar

// n: a batch of n images, stored one after another (N x H x W x C); every op runs all n in one
// pass, so that each weight panel is read once for the whole batch. Indirection buffers hold the
// n images' pointers in image order, so the first k images' part of a setup for n is a setup for
// k: a run with n = k <= the set-up n uses it as it is.
struct ConvShape {
  int in_h, in_w, in_c, out_c, kh, kw, stride, pad;
  int n = 1;
  int out_h() const { return (in_h + 2 * pad - kh) / stride + 1; }
  int out_w() const { return (in_w + 2 * pad - kw) / stride + 1; }
  // output pixels of all n images
  size_t out_pixels() const { return size_t(n) * size_t(out_h()) * size_t(out_w()); }
};

// True when every field is in range: sizes >= 1 (each <= 65536, tensors of all n images < 2^31
// elements), stride >= 1, 0 <= pad < kernel size, output >= 1x1. The indirection size function
// returns 0 and the setup/run functions do nothing for a shape that is not valid.
bool conv_shape_valid(const ConvShape& s);
// The weights part only (kh, kw, in_c, out_c): the packed size and packing depend on nothing
// else (in_h/in_w/stride/pad may be anything there); 0 / nothing for an invalid one.
bool conv_weights_shape_valid(const ConvShape& s);

// Packed weights of a convolution (weights OHWI = [out_c][kh][kw][in_c], bias [out_c]);
// size in floats. The layout (panels of NR output channels, bias first) is private to the
// kernels and identified in the blob by conv_packed_layout_name().
size_t conv_packed_f32_size(const ConvShape& s);
void conv_pack_f32(const ConvShape& s, const float* w_ohwi, const float* bias, float* packed);
const char* conv_packed_layout_name();  // "igemm-f32-nr8-v1"; bump when the layout changes

// Indirection buffer: for every output pixel and kernel tap, a pointer to the in_c input values
// it reads (NHWC), or to `zero` (>= in_c zero floats) in the padding.
size_t conv_indirection_size(const ConvShape& s);  // number of pointers
void conv_setup_indirection(const ConvShape& s, const float* input, const float* zero,
                            const float** indirection);

// output[out_h*out_w][out_c] = conv(input) + bias (+ residual, same shape as output) (then ReLU).
// residual may be the output buffer itself (each element is read before it is written); the
// input must not overlap the output. Allocates nothing.
void conv_run_f32(const ConvShape& s, const float* const* indirection, const float* packed,
                  float* output, const float* residual, bool relu, Isa isa = default_isa());

// Row form of a convolution with few input channels (the stem: 7x7/2 over 3 channels). With the
// input stored pre-padded, (in_h + 2 pad) x (in_w + 2 pad) x in_c (the border filled with real 0),
// the kw taps x in_c channels of one kernel row are kw*in_c contiguous values, so the convolution
// is a kh x 1 one over kw*in_c "channels": kh pointers per output pixel instead of kh*kw, and
// long dot products instead of 2-channel ones. The f32 packed weights are used as they are
// (tap-major [ky][kx][c] is already [ky][kx*in_c + c]); results are bit-identical to conv_run_f32.
// Usage (engine: stem):
//   std::vector<float> xp(mc::conv_padded_input_size(s));       // border = 0, written once
//   float* interior = xp.data() + mc::conv_padded_input_offset(s);  // row y at +
//   y*(in_w+2pad)*in_c std::vector<const float*> ind(mc::conv_rows_indirection_size(s));
//   mc::conv_rows_setup_indirection(s, xp.data(), ind.data());
//   mc::conv_rows_run_f32(s, ind.data(), packed, out, nullptr, true);
// Sizes in elements; the padded size (n padded images one after another, image b at
// b * conv_padded_image_stride) includes 8 elements of slack after the last row (kernels may
// read up to 7 elements past a row; the weights there are 0). 0 for an invalid shape.
size_t conv_padded_input_size(const ConvShape& s);
size_t conv_padded_image_stride(const ConvShape& s);    // (in_h + 2 pad) * (in_w + 2 pad) * in_c
size_t conv_padded_input_offset(const ConvShape& s);    // of image 0's interior pixel (0, 0)
size_t conv_rows_indirection_size(const ConvShape& s);  // n * out_h * out_w * kh pointers
void conv_rows_setup_indirection(const ConvShape& s, const float* padded,
                                 const float** indirection);
void conv_rows_run_f32(const ConvShape& s, const float* const* indirection, const float* packed,
                       float* output, const float* residual, bool relu, Isa isa = default_isa());

// 3x3 (generally k x k, k <= 16) max pool with stride and zero-free padding (padding never
// wins); needs 0 <= pad < k, else (or on any bad argument) it writes nothing.
void maxpool_f32(int in_h, int in_w, int c, int k, int stride, int pad, const float* in, float* out,
                 Isa isa = default_isa());
// out[c] = mean over h*w of in[h*w][c]
void global_avgpool_f32(int hw, int c, const float* in, float* out, Isa isa = default_isa());
// out[o] = bias[o] + sum_i w[o][i] * in[i]     (w row-major [n_out][n_in])
void fully_connected_f32(int n_in, int n_out, const float* w, const float* bias, const float* in,
                         float* out, Isa isa = default_isa());

}  // namespace mc
