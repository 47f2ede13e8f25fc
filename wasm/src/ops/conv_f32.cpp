// conv_f32.cpp -- f32 convolution: pack (converter), indirection setup (load), run (inference).
#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"
#include "ops/ops.h"
#include "ops/ops_detail.h"

namespace mc {

namespace {

constexpr size_t NR = kernels::kIgemmNR;

size_t panel_floats(const ConvShape& s) {
  return NR + size_t(s.kh) * size_t(s.kw) * size_t(s.in_c) * NR;
}
size_t num_panels(const ConvShape& s) { return (size_t(s.out_c) + NR - 1) / NR; }

}  // namespace

Isa default_isa() { return MC_HAVE_SIMD128 ? Isa::Simd : Isa::Scalar; }

const char* conv_packed_layout_name() { return "igemm-f32-nr8-v1"; }

bool conv_weights_shape_valid(const ConvShape& s) {
  constexpr int kMax = 65536;
  auto in_range = [](int v) { return v >= 1 && v <= kMax; };
  if (!in_range(s.in_c) || !in_range(s.out_c) || !in_range(s.kh) || !in_range(s.kw)) return false;
  const double lim = double(1u << 31);
  if ((double(s.out_c) + NR) * (double(s.kh) * s.kw * s.in_c + 1) >= lim) return false;
  return true;
}

bool conv_shape_valid(const ConvShape& s) {
  constexpr int kMax = 65536;
  auto in_range = [](int v) { return v >= 1 && v <= kMax; };
  if (!conv_weights_shape_valid(s)) return false;
  if (!in_range(s.in_h) || !in_range(s.in_w) || !in_range(s.in_c) || !in_range(s.out_c) ||
      !in_range(s.kh) || !in_range(s.kw) || !in_range(s.stride) || !in_range(s.n))
    return false;
  if (s.pad < 0 || s.pad >= s.kh || s.pad >= s.kw) return false;
  if (s.in_h + 2 * s.pad < s.kh || s.in_w + 2 * s.pad < s.kw) return false;
  const double lim = double(1u << 31);
  const double oh = s.out_h(), ow = s.out_w(), n = s.n;
  if (n * s.in_h * s.in_w * s.in_c >= lim) return false;
  if (n * (s.in_h + 2.0 * s.pad) * (s.in_w + 2.0 * s.pad) * s.in_c + 8 >= lim) return false;
  if (n * oh * ow * s.out_c >= lim) return false;
  if (n * oh * ow * s.kh * s.kw >= lim) return false;
  if ((double(s.out_c) + NR) * (double(s.kh) * s.kw * s.in_c + 1) >= lim) return false;
  return true;
}

size_t conv_packed_f32_size(const ConvShape& s) {
  if (!conv_weights_shape_valid(s)) return 0;
  return num_panels(s) * panel_floats(s);
}

void conv_pack_f32(const ConvShape& s, const float* w_ohwi, const float* bias, float* packed) {
  if (!conv_weights_shape_valid(s) || !w_ohwi || !packed) return;
  const size_t ks = size_t(s.kh) * size_t(s.kw), kc = size_t(s.in_c), oc = size_t(s.out_c);
  const size_t pf = panel_floats(s);
  for (size_t p = 0; p < num_panels(s); p++) {
    float* dst = packed + p * pf;
    for (size_t j = 0; j < NR; j++) {
      const size_t o = p * NR + j;
      dst[j] = (o < oc && bias) ? bias[o] : 0.0f;
    }
    dst += NR;
    for (size_t t = 0; t < ks; t++)
      for (size_t k = 0; k < kc; k++) {
        for (size_t j = 0; j < NR; j++) {
          const size_t o = p * NR + j;
          dst[j] = o < oc ? w_ohwi[(o * ks + t) * kc + k] : 0.0f;
        }
        dst += NR;
      }
  }
}

size_t conv_indirection_size(const ConvShape& s) {
  if (!conv_shape_valid(s)) return 0;
  return s.out_pixels() * size_t(s.kh) * size_t(s.kw);
}

void conv_setup_indirection(const ConvShape& s, const float* input, const float* zero,
                            const float** indirection) {
  if (!conv_shape_valid(s) || !input || !zero || !indirection) return;
  detail::setup_indirection<float>(s, input, zero, indirection);
}

namespace detail {

Isa effective_isa(Isa isa) { return MC_HAVE_SIMD128 ? isa : Isa::Scalar; }

namespace {
kernels::F32IgemmUkernel f32_ukernel(Isa isa, int mr) {
  kernels::F32IgemmUkernel uk = nullptr;
  if (effective_isa(isa) == Isa::Scalar) {
    if (mr == 2) uk = kernels::f32_igemm_ukernel_2x8__scalar;
  } else {
#if MC_HAVE_SIMD128
    if (mr == 4) uk = kernels::f32_igemm_ukernel_4x8__simd128;
    if (mr == 6) uk = kernels::f32_igemm_ukernel_6x8__simd128;
    if (mr == kF32Mr4x8s4) uk = kernels::f32_igemm_ukernel_4x8s4__simd128;
#endif
  }
  return uk;
}

// The tile loop: pixels output rows of ks pointers each, kc values per pointer.
void run_tiles_f32(kernels::F32IgemmUkernel uk, size_t MR, const ConvShape& s, size_t pixels,
                   size_t kc, size_t ks, const float* const* indirection, const float* packed,
                   float* output, const float* residual, bool relu) {
  const size_t oc = size_t(s.out_c);
  const size_t pf = panel_floats(s);
  // Panels outer (a panel's weights stay in cache while all pixels stream by), pixel tiles inner.
  for (size_t p = 0; p < num_panels(s); p++) {
    const size_t n0 = p * NR;
    const size_t nc = std::min(NR, oc - n0);
    const float* w = packed + p * pf;
    for (size_t p0 = 0; p0 < pixels; p0 += MR) {
      const size_t rows = std::min(MR, pixels - p0);
      uk(rows, nc, kc, ks, indirection + p0 * ks, ks, w, output + p0 * oc + n0, oc,
         residual ? residual + p0 * oc + n0 : nullptr, relu);
    }
  }
}
}  // namespace

bool conv_run_f32_tile(const ConvShape& s, const float* const* indirection, const float* packed,
                       float* output, const float* residual, bool relu, Isa isa, int mr) {
  const kernels::F32IgemmUkernel uk = f32_ukernel(isa, mr);
  if (!uk) return false;
  if (!conv_shape_valid(s) || !indirection || !packed || !output) return false;
  run_tiles_f32(uk, size_t(mr % 100), s, s.out_pixels(), size_t(s.in_c),
                size_t(s.kh) * size_t(s.kw), indirection, packed, output, residual, relu);
  return true;
}

bool conv_rows_run_f32_tile(const ConvShape& s, const float* const* indirection,
                            const float* packed, float* output, const float* residual, bool relu,
                            Isa isa, int mr) {
  const kernels::F32IgemmUkernel uk = f32_ukernel(isa, mr);
  if (!uk) return false;
  if (!conv_shape_valid(s) || !indirection || !packed || !output) return false;
  run_tiles_f32(uk, size_t(mr % 100), s, s.out_pixels(), size_t(s.kw) * size_t(s.in_c),
                size_t(s.kh), indirection, packed, output, residual, relu);
  return true;
}

}  // namespace detail

size_t conv_padded_image_stride(const ConvShape& s) {
  if (!conv_shape_valid(s)) return 0;
  return (size_t(s.in_h) + 2 * size_t(s.pad)) * (size_t(s.in_w) + 2 * size_t(s.pad)) *
         size_t(s.in_c);
}

size_t conv_padded_input_size(const ConvShape& s) {
  if (!conv_shape_valid(s)) return 0;
  return size_t(s.n) * conv_padded_image_stride(s) + 8;
}

size_t conv_padded_input_offset(const ConvShape& s) {
  if (!conv_shape_valid(s)) return 0;
  return (size_t(s.pad) * (size_t(s.in_w) + 2 * size_t(s.pad)) + size_t(s.pad)) * size_t(s.in_c);
}

size_t conv_rows_indirection_size(const ConvShape& s) {
  if (!conv_shape_valid(s)) return 0;
  return s.out_pixels() * size_t(s.kh);
}

void conv_rows_setup_indirection(const ConvShape& s, const float* padded,
                                 const float** indirection) {
  if (!conv_shape_valid(s) || !padded || !indirection) return;
  detail::setup_row_indirection<float>(s, padded, indirection);
}

void conv_rows_run_f32(const ConvShape& s, const float* const* indirection, const float* packed,
                       float* output, const float* residual, bool relu, Isa isa) {
  const int mr = detail::effective_isa(isa) == Isa::Scalar ? detail::kF32IgemmMrScalar
                                                           : detail::kF32RowsMrSimd;
  detail::conv_rows_run_f32_tile(s, indirection, packed, output, residual, relu, isa, mr);
}

void conv_run_f32(const ConvShape& s, const float* const* indirection, const float* packed,
                  float* output, const float* residual, bool relu, Isa isa) {
  const int mr = detail::effective_isa(isa) == Isa::Scalar ? detail::kF32IgemmMrScalar
                                                           : detail::kF32IgemmMrSimd;
  detail::conv_run_f32_tile(s, indirection, packed, output, residual, relu, isa, mr);
}

}  // namespace mc
