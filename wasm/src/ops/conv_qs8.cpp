// conv_qs8.cpp -- int8 convolution (pack / setup / run) and the quantization helpers.
// The packed layout is documented in ops_qs8.h.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"
#include "ops/ops_detail.h"
#include "ops/ops_qs8.h"

namespace mc {

namespace {

constexpr size_t NR = kernels::kIgemmNR;
constexpr size_t kHeaderBytes = 16;
constexpr double kBiasLimit = 1073741824.0;  // 2^30
// Largest |sum of products| of one output: every tap and channel at 128 * 128.
double max_accumulation(const ConvShape& s) {
  return double(s.kh) * double(s.kw) * double(s.in_c) * 16384.0;
}
// int8 packing needs the accumulation to fit in int32 with the bias: kh*kw*in_c <= 65536.
bool qs8_weights_shape_valid(const ConvShape& s) {
  return conv_weights_shape_valid(s) && max_accumulation(s) <= kBiasLimit;
}

size_t kc_pairs(const ConvShape& s) { return (size_t(s.in_c) + 1) / 2; }
// wbytes: bytes per weight, 1 for "igemm-qs8-nr8-kp2-v1", 2 for its w16 form
size_t panel_bytes(const ConvShape& s, size_t wbytes = 1) {
  return 64 + size_t(s.kh) * size_t(s.kw) * kc_pairs(s) * 2 * NR * wbytes;
}
size_t num_panels(const ConvShape& s) { return (size_t(s.out_c) + NR - 1) / NR; }

int32_t saturate_i32(double v) {
  if (!(v == v)) return 0;
  if (v >= 2147483647.0) return std::numeric_limits<int32_t>::max();
  if (v <= -2147483648.0) return std::numeric_limits<int32_t>::min();
  return int32_t(v);
}

void put_f32(uint8_t* p, float v) { std::memcpy(p, &v, 4); }
void put_i32(uint8_t* p, int32_t v) { std::memcpy(p, &v, 4); }
float get_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
int32_t get_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

bool quant_params_valid(QuantParams q) {
  return std::isfinite(q.scale) && q.scale >= 1e-30f && q.scale <= 1e30f && q.zero_point >= -128 &&
         q.zero_point <= 127;
}

QuantParams choose_qs8_params(float min_value, float max_value) {
  double lo = std::isfinite(min_value) ? std::min(0.0, double(min_value)) : 0.0;
  double hi = std::isfinite(max_value) ? std::max(0.0, double(max_value)) : 0.0;
  if (hi - lo < 1e-20) return {1.0f, 0};
  const double scale = (hi - lo) / 255.0;
  const double zp = std::nearbyint(-128.0 - lo / scale);
  return {float(scale), int32_t(std::min(127.0, std::max(-128.0, zp)))};
}

void quantize_f32_qs8(size_t n, const float* in, QuantParams q, int8_t* out) {
  if (!in || !out || !quant_params_valid(q)) return;
  for (size_t i = 0; i < n; i++) {
    const float x = in[i] / q.scale;
    double v = std::isnan(x) ? 0.0 : std::nearbyint(double(std::max(-1e9f, std::min(1e9f, x))));
    v += q.zero_point;
    out[i] = int8_t(std::min(127.0, std::max(-128.0, v)));
  }
}

void dequantize_qs8_f32(size_t n, const int8_t* in, QuantParams q, float* out) {
  if (!in || !out) return;
  for (size_t i = 0; i < n; i++) out[i] = q.scale * float(int32_t(in[i]) - q.zero_point);
}

void quantize_conv_weights_qs8(const ConvShape& s, const float* w_ohwi, const float* bias,
                               float input_scale, int8_t* w_q, float* w_scale, int32_t* bias_q) {
  if (!qs8_weights_shape_valid(s) || !w_ohwi || !w_q || !w_scale || !bias_q) return;
  if (!quant_params_valid({input_scale, 0})) return;
  const size_t per_o = size_t(s.kh) * size_t(s.kw) * size_t(s.in_c);
  for (size_t o = 0; o < size_t(s.out_c); o++) {
    const float* w = w_ohwi + o * per_o;
    float amax = 0.0f;
    for (size_t i = 0; i < per_o; i++)
      if (std::isfinite(w[i])) amax = std::max(amax, std::fabs(w[i]));
    // the scale must also keep |bias_q| <= 2^30 (room left for the accumulation in int32):
    // a nearly dead channel with a real bias gets a coarser weight grid instead of a bias that
    // would saturate or overflow
    const double bmag = (bias && std::isfinite(bias[o])) ? std::fabs(double(bias[o])) : 0.0;
    const double need = bmag / (double(input_scale) * kBiasLimit);
    float sc = std::max(amax / 127.0f, float(need * (1.0 + 1e-6)));
    if (!(sc > 0.0f) || !std::isfinite(sc)) sc = 1.0f;
    w_scale[o] = sc;
    for (size_t i = 0; i < per_o; i++) {
      const float x = std::isfinite(w[i]) ? w[i] / sc : 0.0f;
      w_q[o * per_o + i] = int8_t(std::min(127.0, std::max(-127.0, std::nearbyint(double(x)))));
    }
    const double b = bias ? double(bias[o]) : 0.0;
    bias_q[o] = saturate_i32(std::nearbyint(b / (double(input_scale) * double(sc))));
  }
}

const char* conv_packed_qs8_layout_name() { return "igemm-qs8-nr8-kp2-v1"; }

size_t conv_packed_qs8_size(const ConvShape& s) {
  if (!qs8_weights_shape_valid(s)) return 0;
  return kHeaderBytes + num_panels(s) * panel_bytes(s);
}

void conv_pack_qs8(const ConvShape& s, const int8_t* w_q_ohwi, const float* w_scale,
                   const int32_t* bias_q, QuantParams input, QuantParams output, void* packed_) {
  if (!qs8_weights_shape_valid(s) || !w_q_ohwi || !w_scale || !packed_) return;
  if (!quant_params_valid(input) || !quant_params_valid(output)) return;
  uint8_t* packed = static_cast<uint8_t*>(packed_);
  put_f32(packed, input.scale);
  put_i32(packed + 4, input.zero_point);
  put_f32(packed + 8, output.scale);
  put_i32(packed + 12, output.zero_point);
  const size_t ks = size_t(s.kh) * size_t(s.kw), kc = size_t(s.in_c), oc = size_t(s.out_c);
  const size_t per_o = ks * kc, pairs = kc_pairs(s);
  for (size_t p = 0; p < num_panels(s); p++) {
    uint8_t* dst = packed + kHeaderBytes + p * panel_bytes(s);
    for (size_t j = 0; j < NR; j++) {
      const size_t o = p * NR + j;
      int32_t b = 0;
      float sc = 0.0f;
      if (o < oc) {
        int64_t wsum = 0;
        for (size_t i = 0; i < per_o; i++) wsum += w_q_ohwi[o * per_o + i];
        // saturated so that bias + any accumulation stays inside int32 (no wrap-around)
        const double lim = 2147483647.0 - max_accumulation(s);
        const double bv = double(bias_q ? bias_q[o] : 0) - double(input.zero_point) * double(wsum);
        b = saturate_i32(std::min(lim, std::max(-lim, bv)));
        const double ws = std::isfinite(w_scale[o]) ? double(w_scale[o]) : 0.0;
        sc = float(double(input.scale) * ws / double(output.scale));
      }
      put_i32(dst + 4 * j, b);
      put_f32(dst + 32 + 4 * j, sc);
    }
    int8_t* w = reinterpret_cast<int8_t*>(dst + 64);
    for (size_t t = 0; t < ks; t++)
      for (size_t pr = 0; pr < pairs; pr++) {
        for (size_t j = 0; j < NR; j++) {
          const size_t o = p * NR + j;
          for (size_t h = 0; h < 2; h++) {
            const size_t k = 2 * pr + h;
            w[2 * j + h] = (o < oc && k < kc) ? w_q_ohwi[(o * ks + t) * kc + k] : int8_t(0);
          }
        }
        w += 2 * NR;
      }
  }
}

QuantParams conv_packed_qs8_input_params(const void* packed) {
  if (!packed) return {0.0f, 0};
  const uint8_t* p = static_cast<const uint8_t*>(packed);
  return {get_f32(p), get_i32(p + 4)};
}

QuantParams conv_packed_qs8_output_params(const void* packed) {
  if (!packed) return {0.0f, 0};
  const uint8_t* p = static_cast<const uint8_t*>(packed);
  return {get_f32(p + 8), get_i32(p + 12)};
}

bool conv_packed_qs8_scales_valid(const ConvShape& s, const void* packed) {
  const size_t size = conv_packed_qs8_size(s);
  if (!packed || size == 0) return false;
  const uint8_t* p = static_cast<const uint8_t*>(packed);
  const size_t panel = 64 + size_t(s.kh) * s.kw * ((size_t(s.in_c) + 1) / 2) * 16;
  for (size_t at = 16; at + panel <= size; at += panel)
    for (int n = 0; n < 8; ++n) {
      const float v = get_f32(p + at + 32 + 4 * n);
      if (!(std::isfinite(v) && v >= 0.0f && v <= 1e30f)) return false;
    }
  return true;
}

namespace detail {

namespace {
// Validation, epilogue constants and the tile loop. w_shape gives the packed layout (kc = its
// in_c, ks = kh*kw); pixels output rows of ks pointers each (into int16 activations); w16: the
// weights are in the w16 form.
bool run_tiles_qs8(kernels::Qs8A16IgemmUkernel uk, size_t MR, const ConvShape& w_shape,
                   size_t pixels, const int16_t* const* indirection, const void* packed_, bool w16,
                   int8_t* output, const int8_t* residual, QuantParams residual_q, bool relu) {
  const ConvShape& s = w_shape;
  if (!indirection || !packed_ || !output) return false;
  kernels::Qs8IgemmParams p;
  if (!qs8_epilogue_params(packed_, residual, residual_q, relu, &p)) return false;

  const uint8_t* packed = static_cast<const uint8_t*>(packed_) + kHeaderBytes;
  const size_t ks = size_t(s.kh) * size_t(s.kw), kc = size_t(s.in_c), oc = size_t(s.out_c);
  const size_t pb = panel_bytes(s, w16 ? 2 : 1);
  for (size_t pn = 0; pn < num_panels(s); pn++) {
    const size_t n0 = pn * NR;
    const size_t nc = std::min(NR, oc - n0);
    const uint8_t* w = packed + pn * pb;
    for (size_t p0 = 0; p0 < pixels; p0 += MR) {
      const size_t rows = std::min(MR, pixels - p0);
      uk(rows, nc, kc, ks, indirection + p0 * ks, ks, w, output + p0 * oc + n0, oc,
         residual ? residual + p0 * oc + n0 : nullptr, p);
    }
  }
  return true;
}

kernels::Qs8A16IgemmUkernel qs8_a16_ukernel(Isa isa, int mr, bool w16) {
  kernels::Qs8A16IgemmUkernel uk = nullptr;
  if (effective_isa(isa) == Isa::Scalar) {
    if (mr == 2)
      uk = w16 ? kernels::qs8_igemm_a16_ukernel_2x8c2_w16__scalar
               : kernels::qs8_igemm_a16_ukernel_2x8c2__scalar;
  } else {
#if MC_HAVE_SIMD128
    if (mr == 4)
      uk = w16 ? kernels::qs8_igemm_a16_ukernel_4x8c2_w16__simd128
               : kernels::qs8_igemm_a16_ukernel_4x8c2__simd128;
#endif
  }
  return uk;
}

// The packed weights in their w16 form: the same bytes with every weight widened to int16.
void widen_packed_qs8(const ConvShape& w_shape, const void* packed_, void* w16_) {
  const uint8_t* src = static_cast<const uint8_t*>(packed_);
  uint8_t* dst = static_cast<uint8_t*>(w16_);
  std::memcpy(dst, src, kHeaderBytes);
  const size_t n = panel_bytes(w_shape) - 64;  // weights per panel
  for (size_t p = 0; p < num_panels(w_shape); p++) {
    const uint8_t* sp = src + kHeaderBytes + p * panel_bytes(w_shape);
    uint8_t* dp = dst + kHeaderBytes + p * panel_bytes(w_shape, 2);
    std::memcpy(dp, sp, 64);  // bias, scale
    for (size_t i = 0; i < n; i++) {
      const int16_t v = int8_t(sp[64 + i]);
      std::memcpy(dp + 64 + 2 * i, &v, 2);
    }
  }
}

// The weights shape of the row form: kh x 1 over kw*in_c channels rounded up to 8.
ConvShape rows_weights_shape(const ConvShape& s) {
  ConvShape r = s;
  r.in_c = (s.kw * s.in_c + 7) / 8 * 8;
  r.kw = 1;
  return r;
}
}  // namespace

bool qs8_epilogue_params(const void* packed, const int8_t* residual, QuantParams residual_q,
                         bool relu, kernels::Qs8IgemmParams* p) {
  const QuantParams out_q = conv_packed_qs8_output_params(packed);
  if (!quant_params_valid(out_q)) return false;
  if (residual && !quant_params_valid(residual_q)) return false;
  p->out_zero_point = out_q.zero_point;
  p->out_min = relu ? 0.0f : float(-128 - out_q.zero_point);
  p->out_max = float(127 - out_q.zero_point);
  p->res_zero_point = residual ? residual_q.zero_point : 0;
  p->res_scale = residual ? float(double(residual_q.scale) / double(out_q.scale)) : 0.0f;
  return true;
}

bool conv_run_qs8_a16_tile(const ConvShape& s, const int16_t* const* indirection,
                           const void* packed, bool w16, int8_t* output, const int8_t* residual,
                           QuantParams residual_q, bool relu, Isa isa, int mr) {
  const kernels::Qs8A16IgemmUkernel uk = qs8_a16_ukernel(isa, mr, w16);
  if (!uk || !conv_shape_valid(s) || !qs8_weights_shape_valid(s)) return false;
  return run_tiles_qs8(uk, size_t(mr), s, s.out_pixels(), indirection, packed, w16, output,
                       residual, residual_q, relu);
}

bool conv_rows_run_qs8_a16_tile(const ConvShape& s, const int16_t* const* indirection,
                                const void* rows_packed, bool w16, int8_t* output,
                                const int8_t* residual, QuantParams residual_q, bool relu, Isa isa,
                                int mr) {
  const kernels::Qs8A16IgemmUkernel uk = qs8_a16_ukernel(isa, mr, w16);
  if (!uk || !conv_shape_valid(s) || !qs8_weights_shape_valid(rows_weights_shape(s))) return false;
  return run_tiles_qs8(uk, size_t(mr), rows_weights_shape(s), s.out_pixels(), indirection,
                       rows_packed, w16, output, residual, residual_q, relu);
}

}  // namespace detail

size_t conv_rows_packed_qs8_size(const ConvShape& s) {
  if (!qs8_weights_shape_valid(s)) return 0;
  return conv_packed_qs8_size(detail::rows_weights_shape(s));
}

void conv_rows_repack_qs8(const ConvShape& s, const void* packed_, void* rows_packed_) {
  if (!qs8_weights_shape_valid(s) || !packed_ || !rows_packed_) return;
  const ConvShape r = detail::rows_weights_shape(s);
  if (!qs8_weights_shape_valid(r)) return;
  const uint8_t* src = static_cast<const uint8_t*>(packed_);
  uint8_t* dst = static_cast<uint8_t*>(rows_packed_);
  std::memcpy(dst, src, kHeaderBytes);
  const size_t kc = size_t(s.in_c), kw = size_t(s.kw), kr = size_t(r.in_c);
  for (size_t p = 0; p < num_panels(s); p++) {
    const uint8_t* sp = src + kHeaderBytes + p * panel_bytes(s);
    uint8_t* dp = dst + kHeaderBytes + p * panel_bytes(r);
    std::memcpy(dp, sp, 64);  // bias, scale
    const int8_t* sw = reinterpret_cast<const int8_t*>(sp + 64);
    int8_t* dw = reinterpret_cast<int8_t*>(dp + 64);
    for (size_t ky = 0; ky < size_t(s.kh); ky++)
      for (size_t k = 0; k < kr; k++)  // row channel k = kx*in_c + c
        for (size_t j = 0; j < NR; j++) {
          const size_t kx = k / kc, c = k % kc, t = ky * kw + kx;
          dw[((ky * kr + k) / 2) * 2 * NR + 2 * j + k % 2] =
              kx < kw ? sw[(t * kc_pairs(s) + c / 2) * 2 * NR + 2 * j + c % 2] : int8_t(0);
        }
  }
}

// ---- int16 activations (a16), int16 weights (w16) --------------------------------------------

namespace {
int a16_mr(Isa isa) {
  return detail::effective_isa(isa) == Isa::Scalar ? detail::kQs8A16IgemmMrScalar
                                                   : detail::kQs8A16IgemmMrSimd;
}
}  // namespace

const char* conv_packed_qs8_w16_layout_name() { return "igemm-qs8-nr8-kp2-w16"; }

size_t conv_packed_qs8_w16_size(const ConvShape& s) {
  if (!qs8_weights_shape_valid(s)) return 0;
  return kHeaderBytes + num_panels(s) * panel_bytes(s, 2);
}

void conv_widen_packed_qs8_w16(const ConvShape& s, const void* packed, void* packed_w16) {
  if (!qs8_weights_shape_valid(s) || !packed || !packed_w16) return;
  detail::widen_packed_qs8(s, packed, packed_w16);
}

size_t conv_rows_packed_qs8_w16_size(const ConvShape& s) {
  if (!qs8_weights_shape_valid(s)) return 0;
  return conv_packed_qs8_w16_size(detail::rows_weights_shape(s));
}

void conv_rows_widen_packed_qs8_w16(const ConvShape& s, const void* rows_packed,
                                    void* rows_packed_w16) {
  if (!qs8_weights_shape_valid(s) || !rows_packed || !rows_packed_w16) return;
  const ConvShape r = detail::rows_weights_shape(s);
  if (!qs8_weights_shape_valid(r)) return;
  detail::widen_packed_qs8(r, rows_packed, rows_packed_w16);
}

namespace {
constexpr size_t kTapmaskMaxTaps = 64;

// Which of a 2x2 output's pixels (bit m: pixel (m / 2, m % 2)) read each tap inside the input;
// false where the tapmask run does not apply.
bool tapmask_rows(const ConvShape& s, uint8_t* rows) {
  if (!conv_shape_valid(s) || s.out_h() != 2 || s.out_w() != 2) return false;
  const size_t ks = size_t(s.kh) * size_t(s.kw);
  if (ks > kTapmaskMaxTaps) return false;
  bool skips = false;
  for (int ky = 0; ky < s.kh; ky++)
    for (int kx = 0; kx < s.kw; kx++) {
      uint8_t bits = 0;
      for (int m = 0; m < 4; m++) {
        const int iy = (m / 2) * s.stride - s.pad + ky, ix = (m % 2) * s.stride - s.pad + kx;
        if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w) bits |= uint8_t(1u << m);
      }
      rows[size_t(ky) * size_t(s.kw) + size_t(kx)] = bits;
      skips = skips || bits != 15;
    }
  return skips;
}
}  // namespace

size_t conv_qs8_a16_tapmask_size(const ConvShape& s) {
  uint8_t rows[kTapmaskMaxTaps];
  if (!qs8_weights_shape_valid(s) || !tapmask_rows(s, rows)) return 0;
  return num_panels(s) * 4 * NR;
}

bool conv_qs8_a16_tapmask_setup(const ConvShape& s, const void* packed_, bool w16, int32_t* init) {
  uint8_t rows[kTapmaskMaxTaps];
  if (!packed_ || !init || !qs8_weights_shape_valid(s) || !tapmask_rows(s, rows)) return false;
  const uint8_t* packed = static_cast<const uint8_t*>(packed_);
  const int64_t zp = conv_packed_qs8_input_params(packed).zero_point;
  const size_t ks = size_t(s.kh) * size_t(s.kw), pairs = kc_pairs(s), wb = w16 ? 2 : 1;
  const auto weight = [w16](const uint8_t* at) -> int64_t {
    if (!w16) return int8_t(*at);
    int16_t v;
    std::memcpy(&v, at, 2);
    return v;
  };
  for (size_t pn = 0; pn < num_panels(s); pn++) {
    const uint8_t* panel = packed + kHeaderBytes + pn * panel_bytes(s, wb);
    const uint8_t* w = panel + 64;  // tap by tap: pairs x (8 channels x 2) weights
    // each pixel starts from the bias plus the padding's share: zp x the weights of the taps
    // it skips (mod 2^32, as the kernels' sums; the packed pairs past in_c are zero)
    uint32_t acc[4][NR];
    for (size_t j = 0; j < NR; j++)
      for (int m = 0; m < 4; m++) acc[m][j] = uint32_t(get_i32(panel + 4 * j));
    for (size_t t = 0; t < ks; t++) {
      int64_t wsum[NR] = {};
      for (size_t pr = 0; pr < pairs; pr++, w += 2 * NR * wb)
        for (size_t j = 0; j < NR; j++)
          wsum[j] += weight(w + 2 * j * wb) + weight(w + (2 * j + 1) * wb);
      for (int m = 0; m < 4; m++)
        if (!(rows[t] >> m & 1))
          for (size_t j = 0; j < NR; j++) acc[m][j] += uint32_t(zp * wsum[j]);
    }
    for (int m = 0; m < 4; m++)
      for (size_t j = 0; j < NR; j++) init[(pn * 4 + size_t(m)) * NR + j] = int32_t(acc[m][j]);
  }
  return true;
}

bool conv_run_qs8_a16_tapmask(const ConvShape& s, const int16_t* const* indirection,
                              const void* packed_, bool w16, const int32_t* init, int8_t* output,
                              const int8_t* residual, QuantParams residual_q, bool relu, Isa isa) {
  uint8_t rows[kTapmaskMaxTaps];
  if (!indirection || !packed_ || !init || !output || !qs8_weights_shape_valid(s) ||
      !tapmask_rows(s, rows))
    return false;
  kernels::Qs8IgemmParams p;
  if (!detail::qs8_epilogue_params(packed_, residual, residual_q, relu, &p)) return false;
  kernels::Qs8A16IgemmTapmaskUkernel uk =
      w16 ? kernels::qs8_igemm_a16_ukernel_4x8c2_w16_tapmask__scalar
          : kernels::qs8_igemm_a16_ukernel_4x8c2_tapmask__scalar;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) != Isa::Scalar)
    uk = w16 ? kernels::qs8_igemm_a16_ukernel_4x8c2_w16_tapmask__simd128
             : kernels::qs8_igemm_a16_ukernel_4x8c2_tapmask__simd128;
#else
  (void)isa;
#endif
  const uint8_t* packed = static_cast<const uint8_t*>(packed_) + kHeaderBytes;
  const size_t ks = size_t(s.kh) * size_t(s.kw), kc = size_t(s.in_c), oc = size_t(s.out_c);
  const size_t pb = panel_bytes(s, w16 ? 2 : 1);
  for (size_t pn = 0; pn < num_panels(s); pn++) {
    const size_t n0 = pn * NR, nc = std::min(NR, oc - n0);
    for (size_t img = 0; img < size_t(s.n); img++) {  // one tile: the image's 4 pixels
      const size_t p0 = img * 4;
      uk(4, nc, kc, ks, indirection + p0 * ks, ks, packed + pn * pb, init + pn * 4 * NR, rows,
         output + p0 * oc + n0, oc, residual ? residual + p0 * oc + n0 : nullptr, p);
    }
  }
  return true;
}

bool conv_qs8_a16_prefers_w16(const ConvShape& s) {
  return conv_shape_valid(s) && size_t(s.out_h()) * size_t(s.out_w()) >= kQs8W16MinPixels;
}

void widen_qs8_a16(size_t n, const int8_t* in, int16_t* out) {
  if (!in || !out) return;
  for (size_t i = 0; i < n; i++) out[i] = in[i];  // the compiler vectorizes this
}

void conv_setup_indirection_qs8_a16(const ConvShape& s, const int16_t* input, const int16_t* zero,
                                    const int16_t** indirection) {
  if (!conv_shape_valid(s) || !input || !zero || !indirection) return;
  detail::setup_indirection<int16_t>(s, input, zero, indirection);
}

void conv_rows_setup_indirection_qs8_a16(const ConvShape& s, const int16_t* padded,
                                         const int16_t** indirection) {
  if (!conv_shape_valid(s) || !padded || !indirection) return;
  detail::setup_row_indirection<int16_t>(s, padded, indirection);
}

void conv_run_qs8_a16(const ConvShape& s, const int16_t* const* indirection, const void* packed,
                      bool w16, int8_t* output, const int8_t* residual, QuantParams residual_q,
                      bool relu, Isa isa) {
  detail::conv_run_qs8_a16_tile(s, indirection, packed, w16, output, residual, residual_q, relu,
                                isa, a16_mr(isa));
}

void conv_rows_run_qs8_a16(const ConvShape& s, const int16_t* const* indirection,
                           const void* rows_packed, bool w16, int8_t* output,
                           const int8_t* residual, QuantParams residual_q, bool relu, Isa isa) {
  detail::conv_rows_run_qs8_a16_tile(s, indirection, rows_packed, w16, output, residual, residual_q,
                                     relu, isa, a16_mr(isa));
}

}  // namespace mc
