// conv_winograd_f32.cpp -- f32 3x3/1 convolution by Winograd F(2x2, 3x3) or F(4x4, 3x3):
// weight transform (load), tile indirection (load), run (inference). See conv_winograd_f32.h.
#include "ops/conv_winograd_f32.h"

#include <algorithm>
#include <limits>

#include "kernels/kernels.h"
#include "ops/ops_detail.h"

namespace mc {

namespace {

constexpr size_t NR = kernels::kIgemmNR;

bool mul_ok(size_t a, size_t b, size_t* out) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) return false;
  *out = a * b;
  return true;
}

size_t num_panels(const ConvShape& s) { return (size_t(s.out_c) + NR - 1) / NR; }
// m = output tile (2 or 4), a = m + 2 input tile, a*a transformed positions
size_t tiles_h(const ConvShape& s, int m) { return (size_t(s.out_h()) + m - 1) / size_t(m); }
size_t tiles_w(const ConvShape& s, int m) { return (size_t(s.out_w()) + m - 1) / size_t(m); }
size_t num_tiles(const ConvShape& s, int m) { return tiles_h(s, m) * tiles_w(s, m); }
size_t num_pos(int m) { return size_t(m + 2) * size_t(m + 2); }
// one GEMM weight panel: igemm layout with ks = 1 (8 bias slots, zero here, then in_c x 8)
size_t panel_floats(const ConvShape& s) { return NR + size_t(s.in_c) * NR; }
size_t bias_floats(const ConvShape& s) { return num_panels(s) * NR; }

}  // namespace

bool conv_winograd_f32_applicable(const ConvShape& s, int m) {
  if (m != 2 && m != 4) return false;
  if (s.kh != 3 || s.kw != 3 || s.stride != 1 || s.pad != 1 || !conv_shape_valid(s)) return false;
  if (s.n != 1) return false;  // one image at a time (the f32 engines do not batch)
  const size_t kPos = num_pos(m);
  // conv_shape_valid bounds every tensor by 2^31 elements; the products below stay in range on
  // 64-bit hosts but not necessarily in wasm32, so check them.
  size_t a, b, n;
  return mul_ok(num_tiles(s, m), kPos, &n) && mul_ok(n, size_t(s.in_c) + size_t(s.out_c), &a) &&
         mul_ok(a, sizeof(float), &a) && mul_ok(num_panels(s) * kPos, panel_floats(s), &b) &&
         mul_ok(b, sizeof(float), &b) && mul_ok(n, 2 * sizeof(void*), &n);
}

size_t conv_winograd_f32_packed_size(const ConvShape& s, int m) {
  if (!conv_winograd_f32_applicable(s, m)) return 0;
  const size_t kPos = num_pos(m);
  return bias_floats(s) + kPos * num_panels(s) * panel_floats(s);
}

bool conv_winograd_f32_pack_from_igemm(const ConvShape& s, int m, const float* igemm, float* out) {
  if (!conv_winograd_f32_applicable(s, m) || !igemm || !out) return false;
  const size_t kPos = num_pos(m);
  const int A = m + 2;
  const size_t kc = size_t(s.in_c), np = num_panels(s), pf = panel_floats(s);
  const size_t ipf = NR + 9 * kc * NR;  // direct panel: [8 bias][tap 0..8: in_c x 8]
  float* bias = out;
  float* u = out + bias_floats(s);
  // U = G g G^T in double, rounded once
  static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};
  const double(*G)[3] = m == 2 ? G2 : G4;
  for (size_t p = 0; p < np; p++) {
    const float* src = igemm + p * ipf;
    for (size_t j = 0; j < NR; j++) bias[p * NR + j] = src[j];
    for (size_t x = 0; x < kPos; x++) {
      float* dst = u + (x * np + p) * pf;
      for (size_t j = 0; j < NR; j++) dst[j] = 0.0f;
    }
    for (size_t k = 0; k < kc; k++) {
      for (size_t j = 0; j < NR; j++) {
        double g[3][3];
        for (int t = 0; t < 9; t++) g[t / 3][t % 3] = src[NR + (size_t(t) * kc + k) * NR + j];
        double gg[6][3];  // G g
        for (int a = 0; a < A; a++)
          for (int c = 0; c < 3; c++)
            gg[a][c] = G[a][0] * g[0][c] + G[a][1] * g[1][c] + G[a][2] * g[2][c];
        for (int a = 0; a < A; a++)
          for (int b = 0; b < A; b++) {
            const double v = gg[a][0] * G[b][0] + gg[a][1] * G[b][1] + gg[a][2] * G[b][2];
            u[(size_t(a * A + b) * np + p) * pf + NR + k * NR + j] = float(v);
          }
      }
    }
  }
  return true;
}

size_t conv_winograd_f32_scratch_size(const ConvShape& s, int m) {
  if (!conv_winograd_f32_applicable(s, m)) return 0;
  return num_pos(m) * num_tiles(s, m) * (size_t(s.in_c) + size_t(s.out_c));
}

size_t conv_winograd_f32_indirection_size(const ConvShape& s, int m) {
  if (!conv_winograd_f32_applicable(s, m)) return 0;
  return 2 * num_pos(m) * num_tiles(s, m);
}

void conv_winograd_f32_setup(const ConvShape& s, int m, const float* input, const float* zero,
                             float* scratch, const float** ind) {
  if (!conv_winograd_f32_applicable(s, m) || !input || !zero || !scratch || !ind) return;
  const size_t kPos = num_pos(m);
  const int A = m + 2;
  const size_t th = tiles_h(s, m), tw = tiles_w(s, m), T = th * tw, kc = size_t(s.in_c);
  // input tiles: tile (ty, tx) reads input rows m*ty-1 .. m*ty+m, columns m*tx-1 .. m*tx+m
  for (size_t ty = 0; ty < th; ty++)
    for (size_t tx = 0; tx < tw; tx++) {
      const float** row = ind + (ty * tw + tx) * kPos;
      for (int i = 0; i < A; i++)
        for (int j = 0; j < A; j++) {
          const long iy = long(size_t(m) * ty) - 1 + i, ix = long(size_t(m) * tx) - 1 + j;
          const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
          row[i * A + j] = inside ? input + (size_t(iy) * size_t(s.in_w) + size_t(ix)) * kc : zero;
        }
    }
  // GEMM rows: row t of position x is V[x][t] = scratch + (x*T + t)*in_c
  const float** rows = ind + T * kPos;
  for (size_t i = 0; i < kPos * T; i++) rows[i] = scratch + i * kc;
}

void conv_winograd_f32_run(const ConvShape& s, int m, const float* const* ind, const float* packed,
                           float* scratch, float* output, const float* residual, bool relu,
                           Isa isa) {
  if (!conv_winograd_f32_applicable(s, m) || !ind || !packed || !scratch || !output) return;
  const size_t kPos = num_pos(m);
  using InputUk = void (*)(size_t, const float* const*, float*, size_t);
  using OutputUk = void (*)(size_t, const float*, size_t, const float*, float*, size_t, size_t,
                            size_t, const float*, bool);
  InputUk in_uk = m == 2 ? kernels::f32_winograd_input_ukernel_4x4__scalar
                         : kernels::f32_winograd_input_ukernel_6x6__scalar;
  OutputUk out_uk = m == 2 ? kernels::f32_winograd_output_ukernel_4x4__scalar
                           : kernels::f32_winograd_output_ukernel_6x6__scalar;
  kernels::F32IgemmUkernel gemm = kernels::f32_igemm_ukernel_2x8__scalar;
  size_t MR = detail::kF32IgemmMrScalar;
#if MC_HAVE_SIMD128
  if (detail::effective_isa(isa) == Isa::Simd) {
    in_uk = m == 2 ? kernels::f32_winograd_input_ukernel_4x4__simd128
                   : kernels::f32_winograd_input_ukernel_6x6__simd128;
    out_uk = m == 2 ? kernels::f32_winograd_output_ukernel_4x4__simd128
                    : kernels::f32_winograd_output_ukernel_6x6__simd128;
    gemm = kernels::f32_igemm_ukernel_4x8__simd128;
    MR = 4;
  }
#else
  (void)isa;
#endif
  const size_t th = tiles_h(s, m), tw = tiles_w(s, m), T = th * tw;
  const size_t kc = size_t(s.in_c), oc = size_t(s.out_c), np = num_panels(s), pf = panel_floats(s);
  const size_t oh = size_t(s.out_h()), ow = size_t(s.out_w());
  float* V = scratch;                  // [a*a][T][in_c]
  float* M = scratch + kPos * T * kc;  // [a*a][T][out_c]
  const float* bias = packed;
  const float* U = packed + bias_floats(s);
  const float* const* rows = ind + T * kPos;

  for (size_t t = 0; t < T; t++) in_uk(kc, ind + t * kPos, V + t * kc, T * kc);
  for (size_t x = 0; x < kPos; x++)
    for (size_t p = 0; p < np; p++) {
      const size_t n0 = p * NR, nc = std::min(NR, oc - n0);
      const float* w = U + (x * np + p) * pf;
      for (size_t t0 = 0; t0 < T; t0 += MR) {
        const size_t mr = std::min(MR, T - t0);
        gemm(mr, nc, kc, 1, rows + x * T + t0, 1, w, M + (x * T + t0) * oc + n0, oc, nullptr,
             false);
      }
    }
  for (size_t ty = 0; ty < th; ty++)
    for (size_t tx = 0; tx < tw; tx++) {
      const size_t y0 = size_t(m) * ty, x0 = size_t(m) * tx, off = (y0 * ow + x0) * oc;
      out_uk(oc, M + (ty * tw + tx) * oc, T * oc, bias, output + off, ow * oc,
             std::min<size_t>(size_t(m), oh - y0), std::min<size_t>(size_t(m), ow - x0),
             residual ? residual + off : nullptr, relu);
    }
}

}  // namespace mc
