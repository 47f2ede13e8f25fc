// ops_qs8.h -- int8 operator layer (same pack / setup / run split as the f32 ops in ops.h).
//
// Quantization scheme
//   activations: int8 asymmetric per tensor,     real = scale * (q - zero_point)
//   weights:     int8 symmetric per output channel (zero point 0, q in [-127, 127]),
//                real = w_scale[o] * q
//   bias:        int32, bias_q[o] = round(bias[o] / (input.scale * w_scale[o]))
//   accumulate:  int32 (int8 widened to int16, pairs of input channels multiplied and added
//                at once: i32x4.dot_i16x8_s on wasm, pmaddwd on x86)
//   epilogue:    fp32: y = acc * (s_in*s_w[o]/s_out) [+ (r - r_zp) * (s_r/s_out)], clamped to
//                the int8 range (and to >= 0 in real terms with ReLU), rounded to nearest-even,
//                + output zero point. Scalar and SIMD kernels produce bit-identical int8.
//
// Usage:
//   mc::QuantParams qin{0.02f, -10}, qout{0.05f, -128};          // from calibration
//   std::vector<int8_t> wq(n_weights); std::vector<float> ws(out_c); std::vector<int32_t>
//   bq(out_c); mc::quantize_conv_weights_qs8(s, w_ohwi, bias, qin.scale, wq.data(), ws.data(),
//   bq.data()); std::vector<uint8_t> packed(mc::conv_packed_qs8_size(s));            // converter
//   side, mc::conv_pack_qs8(s, wq.data(), ws.data(), bq.data(), qin, qout, packed.data());  //
//   stored
//   // then run it on int16 copies of the int8 activations (conv_run_qs8_a16, below) or as the
//   // exact Winograd transform (conv_winograd_qs8.h)
//
// Packed conv layout "igemm-qs8-nr8-kp2-v1" (bytes, little-endian, no alignment required):
//   header (16 bytes): f32 input scale, i32 input zero point, f32 output scale, i32 output zp
//   then ceil(out_c/8) panels of 8 output channels (missing channels all zero), each:
//     i32  bias[8]     bias_q[o] - input_zp * sum over taps and input channels of w_q[o][..]
//                      (saturated to +-(2^31 - 1 - kh*kw*in_c*2^14): the int32 accumulation
//                      can never wrap)
//     f32  scale[8]    input.scale * w_scale[o] / output.scale
//     i8   w[kh*kw][ceil(in_c/2)][8][2]   for tap t, channel pair j, output n of the panel:
//                      (w_q[o][t][2j], w_q[o][t][2j+1]), the second 0 when 2j+1 == in_c
//   panel size = 64 + kh*kw*ceil(in_c/2)*16 bytes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ops/ops.h"

namespace mc {

struct QuantParams {
  float scale;         // > 0
  int32_t zero_point;  // in [-128, 127]
};

// True for finite scale > 0 (and not tiny/huge: 1e-30 .. 1e30) and zero_point in [-128, 127].
bool quant_params_valid(QuantParams q);

// Asymmetric int8 parameters covering [min_value, max_value] (extended to include 0).
QuantParams choose_qs8_params(float min_value, float max_value);

// out[i] = clamp(round_half_even(in[i] / q.scale) + q.zero_point, -128, 127); NaN -> zero point.
void quantize_f32_qs8(size_t n, const float* in, QuantParams q, int8_t* out);
// out[i] = q.scale * (in[i] - q.zero_point)
void dequantize_qs8_f32(size_t n, const int8_t* in, QuantParams q, float* out);

// Per-output-channel symmetric weight quantization of OHWI f32 weights and the int32 bias:
// w_scale[o] = max(max|w[o]| / 127, |bias[o]| / (input_scale * 2^30)) (1 when both are 0),
// w_q = round(w / w_scale[o]), bias_q[o] = round(bias[o] / (input_scale * w_scale[o])), so
// |bias_q| <= 2^30 (bias may be null). Needs kh*kw*in_c <= 65536 (int32 accumulation).
void quantize_conv_weights_qs8(const ConvShape& s, const float* w_ohwi, const float* bias,
                               float input_scale, int8_t* w_q, float* w_scale, int32_t* bias_q);

// Packing looks at the weights part of the shape only (conv_weights_shape_valid, and
// kh*kw*in_c <= 65536 so that the int32 accumulation cannot overflow).
size_t conv_packed_qs8_size(const ConvShape& s);  // bytes; 0 for an invalid shape
// Does nothing on an invalid shape or invalid quantization parameters.
void conv_pack_qs8(const ConvShape& s, const int8_t* w_q_ohwi, const float* w_scale,
                   const int32_t* bias_q, QuantParams input, QuantParams output, void* packed);
const char* conv_packed_qs8_layout_name();  // "igemm-qs8-nr8-kp2-v1"
// The input / output parameters recorded in a packed buffer's header.
QuantParams conv_packed_qs8_input_params(const void* packed);
QuantParams conv_packed_qs8_output_params(const void* packed);
// True when every panel's requantization scale (scale[8]) is finite and in [0, 1e30] (0 for
// the panel's missing channels): a blob's packed buffer of conv_packed_qs8_size(s) bytes.
bool conv_packed_qs8_scales_valid(const ConvShape& s, const void* packed);

// Row form (see conv_rows_run_f32 in ops.h): the stored packed weights are repacked once at load
// to the "igemm-qs8-nr8-kp2-v1" layout of a kh x 1 convolution over kw*in_c channels rounded up
// to 8 (zero weights), so the SIMD kernel runs only full 8-deep steps; the padded input (border
// and slack = the input zero point) and conv_rows_setup_indirection_qs8_a16 give kh pointers per
// output pixel. Bit-identical to the plain form (int32 accumulation is exact).
size_t conv_rows_packed_qs8_size(const ConvShape& s);  // bytes; 0 for an invalid shape
void conv_rows_repack_qs8(const ConvShape& s, const void* packed, void* rows_packed);

// The int8 convolution runs on int16 activations ("a16"): the input is widened to int16
// beforehand, so that the SIMD inner loop gets each input channel pair into all lanes with one
// broadcast load instead of a sign extension and a shuffle (kernels/qs8-igemm-a16-simd128.cpp).
// The weights are either the packed int8 layout as it is, or (w16 = true) its "w16" form with
// every weight widened to int16, which saves the weight extends at twice the weight bytes: worth
// it for convs whose weights are reused over many pixel tiles (conv_qs8_a16_prefers_w16), not
// for the weight-streaming late layers. Both forms give the same int8 output, bit for bit.
//   w16 layout "igemm-qs8-nr8-kp2-w16": "igemm-qs8-nr8-kp2-v1" (of the plain or of the row form)
//     with every weight stored as int16 (little-endian): header, then per panel the same 64
//     bytes of bias and scale and kh*kw*ceil(in_c/2)*16 int16 weights; made at load time by
//     conv_widen_packed_qs8_w16 / conv_rows_widen_packed_qs8_w16 (after conv_rows_repack_qs8).
//   activations: widen_qs8_a16 (out[i] = in[i]) into an int16 buffer laid out as the int8 one
//     (for the row form the whole pre-padded buffer); the indirection points into it, and
//     `zero` holds in_c int16 equal to the input zero point.
// Usage:
//   std::vector<int16_t> in16(n_in), zero16(s.in_c, int16_t(qin.zero_point));
//   std::vector<const int16_t*> ind16(mc::conv_indirection_size(s));
//   mc::conv_setup_indirection_qs8_a16(s, in16.data(), zero16.data(), ind16.data()); // load time
//   mc::widen_qs8_a16(n_in, input_q, in16.data());                                  // per run
//   mc::conv_run_qs8_a16(s, ind16.data(), packed.data(), false, out_q, nullptr, qres, true);
const char* conv_packed_qs8_w16_layout_name();        // "igemm-qs8-nr8-kp2-w16"
size_t conv_packed_qs8_w16_size(const ConvShape& s);  // bytes; 0 for an invalid shape
void conv_widen_packed_qs8_w16(const ConvShape& s, const void* packed, void* packed_w16);
size_t conv_rows_packed_qs8_w16_size(const ConvShape& s);  // bytes; 0 for an invalid shape
void conv_rows_widen_packed_qs8_w16(const ConvShape& s, const void* rows_packed,
                                    void* rows_packed_w16);
// True when the w16 form pays on this machine class: at least kQs8W16MinPixels output pixels
// (>= 16 tiles of 4 rows per weight panel; measured under Node on ResNet18 at S=64: the stem,
// layer1 and layer2 gain, layer3/4 lose to the doubled weight traffic).
constexpr size_t kQs8W16MinPixels = 64;
bool conv_qs8_a16_prefers_w16(const ConvShape& s);
void widen_qs8_a16(size_t n, const int8_t* in, int16_t* out);
void conv_setup_indirection_qs8_a16(const ConvShape& s, const int16_t* input, const int16_t* zero,
                                    const int16_t** indirection);
void conv_rows_setup_indirection_qs8_a16(const ConvShape& s, const int16_t* padded,
                                         const int16_t** indirection);
// packed: conv_pack_qs8's layout (w16 = false) or its w16 form (w16 = true); the row form takes
// conv_rows_repack_qs8's layout or its w16 form.
void conv_run_qs8_a16(const ConvShape& s, const int16_t* const* indirection, const void* packed,
                      bool w16, int8_t* output, const int8_t* residual, QuantParams residual_q,
                      bool relu, Isa isa = default_isa());
void conv_rows_run_qs8_a16(const ConvShape& s, const int16_t* const* indirection,
                           const void* rows_packed, bool w16, int8_t* output,
                           const int8_t* residual, QuantParams residual_q, bool relu,
                           Isa isa = default_isa());

// Padding skipped, for convs whose output is 2x2 (layer4 at S = 64: of a 3x3 conv's 36 (pixel,
// tap) products 20 read the padding). The run takes each image's 4 pixels as one tile, and each
// pixel reads only the taps inside the input (the tapmask kernels); the padding's share of each
// sum (the input zero point times the weights of the taps skipped) starts its accumulator,
// from a table made once from the packed weights. Bit-identical to conv_run_qs8_a16.
//   size: int32 values of the table (ceil(out_c/8) x 4 pixels x 8), 0 where it does not apply
//   (an output other than 2x2, no tap in the padding, more than 64 taps, an invalid shape).
size_t conv_qs8_a16_tapmask_size(const ConvShape& s);
// packed: as conv_run_qs8_a16's (w16 says which form); false for a shape it does not apply to.
bool conv_qs8_a16_tapmask_setup(const ConvShape& s, const void* packed, bool w16, int32_t* init);
bool conv_run_qs8_a16_tapmask(const ConvShape& s, const int16_t* const* indirection,
                              const void* packed, bool w16, const int32_t* init, int8_t* output,
                              const int8_t* residual, QuantParams residual_q, bool relu,
                              Isa isa = default_isa());

// k x k max pool directly on int8 (max commutes with the monotonic quantization; the output has
// the input's parameters). Same rules as maxpool_f32.
void maxpool_qs8(int in_h, int in_w, int c, int k, int stride, int pad, const int8_t* in,
                 int8_t* out, Isa isa = default_isa());

// out[c] (f32) = q.scale * (mean over h*w of in[h*w][c] - q.zero_point)
void global_avgpool_qs8_f32(int hw, int c, const int8_t* in, QuantParams q, float* out,
                            Isa isa = default_isa());

}  // namespace mc
