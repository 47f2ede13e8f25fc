// simd128.h -- the one portable 128-bit SIMD layer of the microkernels (private to src/kernels).
//
// The same kernel source compiles to WebAssembly SIMD128 (wasm_simd128.h, when __wasm_simd128__)
// and to SSE2/SSE4.1 on x86 (emmintrin.h / smmintrin.h). Define nothing yourself:
//
//   #include "kernels/simd128.h"
//   #if MC_HAVE_SIMD128
//   using namespace mc::simd;
//   f32x4 acc = f32x4_load(bias);
//   acc = f32x4_muladd(f32x4_load_splat(a), f32x4_load(w), acc);   // a*w + acc (mul, then add)
//   f32x4_store(out, f32x4_max(acc, f32x4_zero()));
//   #endif
//
// MC_HAVE_SIMD128 is 1 when a 128-bit SIMD target is enabled and MC_NO_SIMD is not defined, else
// 0 (then nothing else is declared and only the scalar kernels exist).
//
// Semantics that kernels may rely on, identical on every target:
//   * loads/stores are unaligned; the partial stores write exactly the lanes named.
//   * f32x4_muladd(a, b, c) is a separate multiply and add (never fused): results match the
//     scalar reference kernels bit for bit when the operations are done in the same order.
//   * f32x4_max/min are the "pseudo" max/min (a < b ? b : a): NaN handling is not defined.
//   * i32x4_dot_i16x8(a, b)[i] = a[2i]*b[2i] + a[2i+1]*b[2i+1]  (pmaddwd / i32x4.dot_i16x8_s).
//   * narrowing conversions saturate; integer add/sub wrap; i32x4_sar is an arithmetic shift.
// Integer vector types are one and the same type on wasm and on x86, so every function carries
// its lane type in its name (no overloading).
#pragma once
#include <cstdint>
#include <cstring>

#if !defined(MC_NO_SIMD) && defined(__wasm_simd128__)
#define MC_SIMD128_WASM 1
#include <wasm_simd128.h>
#elif !defined(MC_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#define MC_SIMD128_SSE 1
#include <emmintrin.h>
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif
#endif

#if defined(MC_SIMD128_WASM) || defined(MC_SIMD128_SSE)
#define MC_HAVE_SIMD128 1
#else
#define MC_HAVE_SIMD128 0
#endif

#if MC_HAVE_SIMD128
namespace mc {
namespace simd {

#define MC_SIMD_INLINE static inline __attribute__((always_inline))

#if defined(MC_SIMD128_WASM)
using f32x4 = v128_t;
using i32x4 = v128_t;
using i16x8 = v128_t;
using i8x16 = v128_t;

// ---- f32x4 ----
MC_SIMD_INLINE f32x4 f32x4_load(const float* p) { return wasm_v128_load(p); }
MC_SIMD_INLINE void f32x4_store(float* p, f32x4 v) { wasm_v128_store(p, v); }
MC_SIMD_INLINE f32x4 f32x4_splat(float x) { return wasm_f32x4_splat(x); }
MC_SIMD_INLINE f32x4 f32x4_load_splat(const float* p) { return wasm_v128_load32_splat(p); }
MC_SIMD_INLINE f32x4 f32x4_zero() { return wasm_f32x4_const_splat(0.0f); }
MC_SIMD_INLINE f32x4 f32x4_add(f32x4 a, f32x4 b) { return wasm_f32x4_add(a, b); }
MC_SIMD_INLINE f32x4 f32x4_sub(f32x4 a, f32x4 b) { return wasm_f32x4_sub(a, b); }
MC_SIMD_INLINE f32x4 f32x4_mul(f32x4 a, f32x4 b) { return wasm_f32x4_mul(a, b); }
MC_SIMD_INLINE f32x4 f32x4_max(f32x4 a, f32x4 b) { return wasm_f32x4_pmax(a, b); }
MC_SIMD_INLINE f32x4 f32x4_min(f32x4 a, f32x4 b) { return wasm_f32x4_pmin(a, b); }
MC_SIMD_INLINE float f32x4_lane0(f32x4 v) { return wasm_f32x4_extract_lane(v, 0); }
// lanes 2,3 moved to 0,1 (for partial stores)
MC_SIMD_INLINE f32x4 f32x4_move_hi(f32x4 v) { return wasm_i32x4_shuffle(v, v, 2, 3, 2, 3); }
template <int L>
MC_SIMD_INLINE f32x4 f32x4_broadcast_lane(f32x4 v) {
  return wasm_i32x4_shuffle(v, v, L, L, L, L);
}
MC_SIMD_INLINE void f32x4_store_lo2(float* p, f32x4 v) { wasm_v128_store64_lane(p, v, 0); }
MC_SIMD_INLINE void f32x4_store_lo1(float* p, f32x4 v) { wasm_v128_store32_lane(p, v, 0); }
MC_SIMD_INLINE f32x4 f32x4_from_i32x4(i32x4 v) { return wasm_f32x4_convert_i32x4(v); }
MC_SIMD_INLINE float f32x4_hsum(f32x4 v) {
  const f32x4 s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));  // (0+2, 1+3, ..)
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}

// ---- integer ----
MC_SIMD_INLINE i32x4 i32x4_load(const void* p) { return wasm_v128_load(p); }
MC_SIMD_INLINE void i32x4_store(void* p, i32x4 v) { wasm_v128_store(p, v); }
MC_SIMD_INLINE i32x4 i32x4_splat(int32_t x) { return wasm_i32x4_splat(x); }
MC_SIMD_INLINE i32x4 i32x4_zero() { return wasm_i32x4_const_splat(0); }
MC_SIMD_INLINE i32x4 i32x4_add(i32x4 a, i32x4 b) { return wasm_i32x4_add(a, b); }
MC_SIMD_INLINE i32x4 i32x4_sub(i32x4 a, i32x4 b) { return wasm_i32x4_sub(a, b); }
MC_SIMD_INLINE i32x4 i32x4_sar(i32x4 v, int n) { return wasm_i32x4_shr(v, n); }
MC_SIMD_INLINE i16x8 i16x8_add(i16x8 a, i16x8 b) { return wasm_i16x8_add(a, b); }
MC_SIMD_INLINE i16x8 i16x8_sub(i16x8 a, i16x8 b) { return wasm_i16x8_sub(a, b); }
MC_SIMD_INLINE void i16x8_store(int16_t* p, i16x8 v) { wasm_v128_store(p, v); }
MC_SIMD_INLINE i32x4 i32x4_dot_i16x8(i16x8 a, i16x8 b) { return wasm_i32x4_dot_i16x8(a, b); }
template <int L>
MC_SIMD_INLINE i32x4 i32x4_broadcast_lane(i32x4 v) {
  return wasm_i32x4_shuffle(v, v, L, L, L, L);
}
MC_SIMD_INLINE i32x4 i32x4_bits_of_f32x4(f32x4 v) { return v; }
MC_SIMD_INLINE f32x4 f32x4_from_bits(i32x4 v) { return v; }
MC_SIMD_INLINE i32x4 i32x4_widen_lo_i16x8(i16x8 v) { return wasm_i32x4_extend_low_i16x8(v); }
MC_SIMD_INLINE i32x4 i32x4_widen_hi_i16x8(i16x8 v) { return wasm_i32x4_extend_high_i16x8(v); }
MC_SIMD_INLINE i16x8 i16x8_load_i8x8(const int8_t* p) { return wasm_i16x8_load8x8(p); }
// the 32 bits at p in every lane (v128.load32_splat: a plain broadcast load on x64 AVX)
MC_SIMD_INLINE i32x4 i32x4_load_splat(const void* p) { return wasm_v128_load32_splat(p); }
MC_SIMD_INLINE i16x8 i16x8_widen_lo_i8x16(i8x16 v) { return wasm_i16x8_extend_low_i8x16(v); }
MC_SIMD_INLINE i16x8 i16x8_widen_hi_i8x16(i8x16 v) { return wasm_i16x8_extend_high_i8x16(v); }
MC_SIMD_INLINE i16x8 i16x8_narrow_i32x4(i32x4 a, i32x4 b) { return wasm_i16x8_narrow_i32x4(a, b); }
MC_SIMD_INLINE i8x16 i8x16_narrow_i16x8(i16x8 a, i16x8 b) { return wasm_i8x16_narrow_i16x8(a, b); }
MC_SIMD_INLINE i8x16 i8x16_load(const int8_t* p) { return wasm_v128_load(p); }
MC_SIMD_INLINE void i8x16_store(int8_t* p, i8x16 v) { wasm_v128_store(p, v); }
MC_SIMD_INLINE void i8x16_store_lo8(int8_t* p, i8x16 v) { wasm_v128_store64_lane(p, v, 0); }
MC_SIMD_INLINE void i8x16_store_lo4(int8_t* p, i8x16 v) { wasm_v128_store32_lane(p, v, 0); }
MC_SIMD_INLINE i8x16 i8x16_max(i8x16 a, i8x16 b) { return wasm_i8x16_max(a, b); }
// bytes 8..15 moved to 0..7; bytes 4..7 moved to 0..3 (for partial stores)
MC_SIMD_INLINE i8x16 i8x16_move_hi8(i8x16 v) { return wasm_i64x2_shuffle(v, v, 1, 1); }
MC_SIMD_INLINE i8x16 i8x16_move_hi4(i8x16 v) { return wasm_i32x4_shuffle(v, v, 1, 1, 1, 1); }
MC_SIMD_INLINE int32_t i32x4_lane0(i32x4 v) { return wasm_i32x4_extract_lane(v, 0); }

#else  // SSE2 / SSE4.1
using f32x4 = __m128;
using i32x4 = __m128i;
using i16x8 = __m128i;
using i8x16 = __m128i;

MC_SIMD_INLINE f32x4 f32x4_load(const float* p) { return _mm_loadu_ps(p); }
MC_SIMD_INLINE void f32x4_store(float* p, f32x4 v) { _mm_storeu_ps(p, v); }
MC_SIMD_INLINE f32x4 f32x4_splat(float x) { return _mm_set1_ps(x); }
MC_SIMD_INLINE f32x4 f32x4_load_splat(const float* p) { return _mm_load1_ps(p); }
MC_SIMD_INLINE f32x4 f32x4_zero() { return _mm_setzero_ps(); }
MC_SIMD_INLINE f32x4 f32x4_add(f32x4 a, f32x4 b) { return _mm_add_ps(a, b); }
MC_SIMD_INLINE f32x4 f32x4_sub(f32x4 a, f32x4 b) { return _mm_sub_ps(a, b); }
MC_SIMD_INLINE f32x4 f32x4_mul(f32x4 a, f32x4 b) { return _mm_mul_ps(a, b); }
// maxps(b, a) = b > a ? b : a  ==  a < b ? b : a  (the wasm pmax)
MC_SIMD_INLINE f32x4 f32x4_max(f32x4 a, f32x4 b) { return _mm_max_ps(b, a); }
MC_SIMD_INLINE f32x4 f32x4_min(f32x4 a, f32x4 b) { return _mm_min_ps(b, a); }
MC_SIMD_INLINE float f32x4_lane0(f32x4 v) { return _mm_cvtss_f32(v); }
MC_SIMD_INLINE f32x4 f32x4_move_hi(f32x4 v) { return _mm_movehl_ps(v, v); }
template <int L>
MC_SIMD_INLINE f32x4 f32x4_broadcast_lane(f32x4 v) {
  return _mm_shuffle_ps(v, v, _MM_SHUFFLE(L, L, L, L));
}
MC_SIMD_INLINE void f32x4_store_lo2(float* p, f32x4 v) {
  _mm_storel_pi(reinterpret_cast<__m64*>(p), v);
}
MC_SIMD_INLINE void f32x4_store_lo1(float* p, f32x4 v) { _mm_store_ss(p, v); }
MC_SIMD_INLINE f32x4 f32x4_from_i32x4(i32x4 v) { return _mm_cvtepi32_ps(v); }
MC_SIMD_INLINE float f32x4_hsum(f32x4 v) {
  const f32x4 s = _mm_add_ps(v, _mm_movehl_ps(v, v));  // (0+2, 1+3, ..)
  return _mm_cvtss_f32(s) + _mm_cvtss_f32(_mm_shuffle_ps(s, s, 1));
}

MC_SIMD_INLINE i32x4 i32x4_load(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
MC_SIMD_INLINE void i32x4_store(void* p, i32x4 v) { _mm_storeu_si128(static_cast<__m128i*>(p), v); }
MC_SIMD_INLINE i32x4 i32x4_splat(int32_t x) { return _mm_set1_epi32(x); }
MC_SIMD_INLINE i32x4 i32x4_zero() { return _mm_setzero_si128(); }
MC_SIMD_INLINE i32x4 i32x4_add(i32x4 a, i32x4 b) { return _mm_add_epi32(a, b); }
MC_SIMD_INLINE i32x4 i32x4_sub(i32x4 a, i32x4 b) { return _mm_sub_epi32(a, b); }
MC_SIMD_INLINE i32x4 i32x4_sar(i32x4 v, int n) { return _mm_sra_epi32(v, _mm_cvtsi32_si128(n)); }
MC_SIMD_INLINE i16x8 i16x8_add(i16x8 a, i16x8 b) { return _mm_add_epi16(a, b); }
MC_SIMD_INLINE i16x8 i16x8_sub(i16x8 a, i16x8 b) { return _mm_sub_epi16(a, b); }
MC_SIMD_INLINE void i16x8_store(int16_t* p, i16x8 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
}
MC_SIMD_INLINE i32x4 i32x4_dot_i16x8(i16x8 a, i16x8 b) { return _mm_madd_epi16(a, b); }
template <int L>
MC_SIMD_INLINE i32x4 i32x4_broadcast_lane(i32x4 v) {
  return _mm_shuffle_epi32(v, _MM_SHUFFLE(L, L, L, L));
}
MC_SIMD_INLINE i32x4 i32x4_bits_of_f32x4(f32x4 v) { return _mm_castps_si128(v); }
MC_SIMD_INLINE f32x4 f32x4_from_bits(i32x4 v) { return _mm_castsi128_ps(v); }
#if defined(__SSE4_1__)
MC_SIMD_INLINE i32x4 i32x4_widen_lo_i16x8(i16x8 v) { return _mm_cvtepi16_epi32(v); }
MC_SIMD_INLINE i32x4 i32x4_widen_hi_i16x8(i16x8 v) {
  return _mm_cvtepi16_epi32(_mm_srli_si128(v, 8));
}
MC_SIMD_INLINE i16x8 i16x8_widen_lo_i8x16(i8x16 v) { return _mm_cvtepi8_epi16(v); }
MC_SIMD_INLINE i16x8 i16x8_widen_hi_i8x16(i8x16 v) {
  return _mm_cvtepi8_epi16(_mm_srli_si128(v, 8));
}
MC_SIMD_INLINE i8x16 i8x16_max(i8x16 a, i8x16 b) { return _mm_max_epi8(a, b); }
#else
MC_SIMD_INLINE i32x4 i32x4_widen_lo_i16x8(i16x8 v) {
  return _mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16);
}
MC_SIMD_INLINE i32x4 i32x4_widen_hi_i16x8(i16x8 v) {
  return _mm_srai_epi32(_mm_unpackhi_epi16(v, v), 16);
}
MC_SIMD_INLINE i16x8 i16x8_widen_lo_i8x16(i8x16 v) {
  return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
}
MC_SIMD_INLINE i16x8 i16x8_widen_hi_i8x16(i8x16 v) {
  return _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
}
MC_SIMD_INLINE i8x16 i8x16_max(i8x16 a, i8x16 b) {
  const __m128i gt = _mm_cmpgt_epi8(a, b);
  return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}
#endif
MC_SIMD_INLINE i16x8 i16x8_load_i8x8(const int8_t* p) {
  return i16x8_widen_lo_i8x16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
MC_SIMD_INLINE i32x4 i32x4_load_splat(const void* p) {
  int32_t x;
  std::memcpy(&x, p, 4);
  return _mm_set1_epi32(x);
}
MC_SIMD_INLINE i16x8 i16x8_narrow_i32x4(i32x4 a, i32x4 b) { return _mm_packs_epi32(a, b); }
MC_SIMD_INLINE i8x16 i8x16_narrow_i16x8(i16x8 a, i16x8 b) { return _mm_packs_epi16(a, b); }
MC_SIMD_INLINE i8x16 i8x16_load(const int8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
MC_SIMD_INLINE void i8x16_store(int8_t* p, i8x16 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
}
MC_SIMD_INLINE void i8x16_store_lo8(int8_t* p, i8x16 v) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), v);
}
MC_SIMD_INLINE void i8x16_store_lo4(int8_t* p, i8x16 v) {
  const int32_t x = _mm_cvtsi128_si32(v);
  std::memcpy(p, &x, 4);
}
MC_SIMD_INLINE i8x16 i8x16_move_hi8(i8x16 v) { return _mm_unpackhi_epi64(v, v); }
MC_SIMD_INLINE i8x16 i8x16_move_hi4(i8x16 v) {
  return _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 1, 1));
}
MC_SIMD_INLINE int32_t i32x4_lane0(i32x4 v) { return _mm_cvtsi128_si32(v); }
#endif

MC_SIMD_INLINE f32x4 f32x4_muladd(f32x4 a, f32x4 b, f32x4 c) {
  return f32x4_add(f32x4_mul(a, b), c);
}

#undef MC_SIMD_INLINE
}  // namespace simd
}  // namespace mc
#endif  // MC_HAVE_SIMD128
