// conv_winograd_qs8.cpp -- exact int8 3x3/1 convolution by Winograd F(2x2, 3x3): weight
// transform (load), tile indirection (load), run (inference). See conv_winograd_qs8.h.
#include "ops/conv_winograd_qs8.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"
#include "ops/ops_detail.h"

namespace mc {

namespace {

constexpr size_t NR = kernels::kIgemmNR;
constexpr size_t kHeaderBytes = 16;  // the direct layout's quantization header
constexpr size_t kPos = 16;          // 4x4 Winograd positions
constexpr size_t kAlign = 64;

bool mul_ok(size_t a, size_t b, size_t* out) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) return false;
  *out = a * b;
  return true;
}
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

size_t num_panels(const ConvShape& s) { return (size_t(s.out_c) + NR - 1) / NR; }
size_t kc_pairs(const ConvShape& s) { return (size_t(s.in_c) + 1) / 2; }
size_t tiles_h(const ConvShape& s) { return (size_t(s.out_h()) + 1) / 2; }
size_t tiles_w(const ConvShape& s) { return (size_t(s.out_w()) + 1) / 2; }
size_t image_tiles(const ConvShape& s) { return tiles_h(s) * tiles_w(s); }
size_t num_tiles(const ConvShape& s) { return size_t(s.n) * image_tiles(s); }  // all n images
// int16 per Winograd weight panel: [in_c pairs][8][2]
size_t panel_i16(const ConvShape& s) { return kc_pairs(s) * 2 * NR; }
// direct layout panel bytes: 64 (bias, scale) + 9 taps x pairs x 16
size_t direct_panel_bytes(const ConvShape& s) { return 64 + 9 * kc_pairs(s) * 2 * NR; }
// byte offsets in the Winograd layout
size_t bias_offset() { return kHeaderBytes; }
size_t scale_offset(const ConvShape& s) { return kHeaderBytes + num_panels(s) * NR * 4; }
size_t u_offset(const ConvShape& s) { return kHeaderBytes + num_panels(s) * NR * 8; }
// scratch: V int16 [16][T][2 * pairs], then (aligned) M int32 [16][T][out_c]
size_t v_bytes(const ConvShape& s) { return align_up(kPos * num_tiles(s) * panel_i16(s) / NR * 2); }

}  // namespace

bool conv_winograd_qs8_applicable(const ConvShape& s) {
  if (s.kh != 3 || s.kw != 3 || s.stride != 1 || s.pad != 1 || !conv_shape_valid(s)) return false;
  if (s.in_c > kConvWinogradQs8MaxInC) return false;
  // conv_shape_valid bounds every tensor by 2^31 elements; the products below stay in range on
  // 64-bit hosts but not necessarily in wasm32, so check them.
  size_t v, m, u, ind;
  return mul_ok(kPos * num_tiles(s), 2 * kc_pairs(s) * 2, &v) && v < (size_t{1} << 30) &&
         mul_ok(kPos * num_tiles(s), size_t(s.out_c) * 4, &m) && m < (size_t{1} << 30) &&
         mul_ok(kPos * num_panels(s), panel_i16(s) * 2, &u) && u < (size_t{1} << 30) &&
         mul_ok(kPos * num_tiles(s), sizeof(void*), &ind) && ind < (size_t{1} << 30);
}

const char* conv_winograd_qs8_layout_name() { return "winograd-qs8-f2x2-w16"; }

size_t conv_winograd_qs8_packed_size(const ConvShape& s) {
  if (!conv_winograd_qs8_applicable(s)) return 0;
  return u_offset(s) + kPos * num_panels(s) * panel_i16(s) * 2;
}

bool conv_winograd_qs8_pack_from_igemm(const ConvShape& s, const void* packed_qs8, void* out_) {
  if (!conv_winograd_qs8_applicable(s) || !packed_qs8 || !out_) return false;
  const uint8_t* src = static_cast<const uint8_t*>(packed_qs8);
  uint8_t* out = static_cast<uint8_t*>(out_);
  const size_t np = num_panels(s), kp = kc_pairs(s);
  std::memcpy(out, src, kHeaderBytes);
  int16_t* u = reinterpret_cast<int16_t*>(out + u_offset(s));  // 2-byte aligned offsets
  // U = (2G) g (2G)^T, 2G = [2 0 0; 1 1 1; 1 -1 1; 0 0 2], for the 16 lanes (8 channels x the
  // channel pair) of one pair index at once: the direct layout's 16 bytes of tap t are exactly
  // the 16 int16 of U[x] at the same pair index (missing channels are 0 in both). Written lane
  // by lane so that the compiler vectorizes it (the transform runs at every engine load).
  constexpr int L = 16;
  for (size_t p = 0; p < np; p++) {
    const uint8_t* panel = src + kHeaderBytes + p * direct_panel_bytes(s);
    std::memcpy(out + bias_offset() + p * NR * 4, panel, NR * 4);
    std::memcpy(out + scale_offset(s) + p * NR * 4, panel + 32, NR * 4);
    const int8_t* w = reinterpret_cast<const int8_t*>(panel + 64);  // [9][pairs][8][2]
    for (size_t k2 = 0; k2 < kp; k2++) {
      int16_t g[9][L], gg[4][3][L], U[16][L];
      for (int t = 0; t < 9; t++)
        for (int l = 0; l < L; l++) g[t][l] = w[(size_t(t) * kp + k2) * L + size_t(l)];
      for (int c = 0; c < 3; c++)  // gg = (2G) g; g[r][c] is tap r*3 + c
        for (int l = 0; l < L; l++) {
          const int16_t g0 = g[c][l], g1 = g[3 + c][l], g2 = g[6 + c][l];
          gg[0][c][l] = int16_t(2 * g0);
          gg[1][c][l] = int16_t(g0 + g1 + g2);
          gg[2][c][l] = int16_t(g0 - g1 + g2);
          gg[3][c][l] = int16_t(2 * g2);
        }
      for (int a = 0; a < 4; a++)  // U = gg (2G)^T
        for (int l = 0; l < L; l++) {
          const int16_t h0 = gg[a][0][l], h1 = gg[a][1][l], h2 = gg[a][2][l];
          U[a * 4 + 0][l] = int16_t(2 * h0);
          U[a * 4 + 1][l] = int16_t(h0 + h1 + h2);
          U[a * 4 + 2][l] = int16_t(h0 - h1 + h2);
          U[a * 4 + 3][l] = int16_t(2 * h2);
        }
      for (size_t x = 0; x < kPos; x++)
        std::memcpy(u + (x * np + p) * panel_i16(s) + k2 * L, U[x], sizeof U[x]);
    }
  }
  return true;
}

size_t conv_winograd_qs8_scratch_size(const ConvShape& s) {
  if (!conv_winograd_qs8_applicable(s)) return 0;
  return v_bytes(s) + align_up(kPos * num_tiles(s) * size_t(s.out_c) * 4);
}

size_t conv_winograd_qs8_indirection_size(const ConvShape& s) {
  if (!conv_winograd_qs8_applicable(s)) return 0;
  return kPos * num_tiles(s);
}

void conv_winograd_qs8_setup(const ConvShape& s, const int8_t* input, const int8_t* zero,
                             const int8_t** ind) {
  if (!conv_winograd_qs8_applicable(s) || !input || !zero || !ind) return;
  const size_t th = tiles_h(s), tw = tiles_w(s), kc = size_t(s.in_c);
  const size_t in_image = size_t(s.in_h) * size_t(s.in_w) * kc;
  // tile (ty, tx) reads input rows 2ty-1 .. 2ty+2, columns 2tx-1 .. 2tx+2 (image after image)
  for (int b = 0; b < s.n; b++, input += in_image, ind += image_tiles(s) * kPos)
    for (size_t ty = 0; ty < th; ty++)
      for (size_t tx = 0; tx < tw; tx++) {
        const int8_t** row = ind + (ty * tw + tx) * kPos;
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++) {
            const long iy = long(2 * ty) - 1 + i, ix = long(2 * tx) - 1 + j;
            const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
            row[i * 4 + j] =
                inside ? input + (size_t(iy) * size_t(s.in_w) + size_t(ix)) * kc : zero;
          }
      }
}

void conv_winograd_qs8_run(const ConvShape& s, const int8_t* const* ind, const void* packed_,
                           void* scratch, int8_t* output, const int8_t* residual,
                           QuantParams residual_q, bool relu, Isa isa) {
  if (!conv_winograd_qs8_applicable(s) || !ind || !packed_ || !scratch || !output) return;
  kernels::Qs8IgemmParams p;
  if (!detail::qs8_epilogue_params(packed_, residual, residual_q, relu, &p)) return;
  using InputUk = void (*)(size_t, const int8_t* const*, int16_t*, size_t);
  using GemmUk =
      void (*)(size_t, size_t, size_t, const int16_t*, size_t, const int16_t*, int32_t*, size_t);
  using OutputUk = void (*)(size_t, const int32_t*, size_t, const int32_t*, const float*, int8_t*,
                            size_t, size_t, size_t, const int8_t*, const kernels::Qs8IgemmParams&);
  InputUk in_uk = kernels::qs8_winograd_input_ukernel_4x4__scalar;
  GemmUk gemm = kernels::s16_gemm_ukernel_2x8c2__scalar;
  OutputUk out_uk = kernels::qs8_winograd_output_ukernel_4x4__scalar;
  size_t MR = 2;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    in_uk = kernels::qs8_winograd_input_ukernel_4x4__simd128;
    gemm = kernels::s16_gemm_ukernel_4x8c2__simd128;
    out_uk = kernels::qs8_winograd_output_ukernel_4x4__simd128;
    MR = 4;
  }
#else
  (void)isa;
#endif
  const uint8_t* packed = static_cast<const uint8_t*>(packed_);
  const size_t th = tiles_h(s), tw = tiles_w(s), T = num_tiles(s);
  const size_t kc = size_t(s.in_c), kcp = 2 * kc_pairs(s), oc = size_t(s.out_c);
  const size_t np = num_panels(s), pi = panel_i16(s);
  const size_t oh = size_t(s.out_h()), ow = size_t(s.out_w());
  int16_t* V = static_cast<int16_t*>(scratch);  // [16][T][kcp]
  int32_t* M =
      reinterpret_cast<int32_t*>(static_cast<uint8_t*>(scratch) + v_bytes(s));  // [16][T][oc]
  const int32_t* bias = reinterpret_cast<const int32_t*>(packed + bias_offset());
  const float* scale = reinterpret_cast<const float*>(packed + scale_offset(s));
  const int16_t* U = reinterpret_cast<const int16_t*>(packed + u_offset(s));

  if (kcp != kc)  // odd in_c: the pad lane of every V row meets zero weights; keep it defined
    for (size_t i = 0; i < kPos * T; i++) V[i * kcp + kc] = 0;
  for (size_t t = 0; t < T; t++) in_uk(kc, ind + t * kPos, V + t * kcp, T * kcp);
  for (size_t x = 0; x < kPos; x++)
    for (size_t pn = 0; pn < np; pn++) {
      const size_t n0 = pn * NR, nc = std::min(NR, oc - n0);
      const int16_t* w = U + (x * np + pn) * pi;
      for (size_t t0 = 0; t0 < T; t0 += MR)
        gemm(std::min(MR, T - t0), nc, kcp, V + (x * T + t0) * kcp, kcp, w,
             M + (x * T + t0) * oc + n0, oc);
    }
  for (size_t b = 0; b < size_t(s.n); b++)
    for (size_t ty = 0; ty < th; ty++)
      for (size_t tx = 0; tx < tw; tx++) {
        const size_t y0 = 2 * ty, x0 = 2 * tx, off = ((b * oh + y0) * ow + x0) * oc;
        out_uk(oc, M + ((b * th + ty) * tw + tx) * oc, T * oc, bias, scale, output + off, ow * oc,
               std::min<size_t>(2, oh - y0), std::min<size_t>(2, ow - x0),
               residual ? residual + off : nullptr, p);
      }
}

}  // namespace mc
