/* SIMD128 peak microbenchmark (bench/web/peak.html runs it in Chromium, 1 and 2 Workers).
 *
 *   (and f32_mem / dot_mem below: the same fed from memory)
 *   f32_chains(n, m, a): 12 independent chains of acc = acc * m + a (f32x4.mul + f32x4.add),
 *                  n rounds; ops = n * 12 * 8 flops (4 lanes x (mul + add)).
 *   dot_chains(n, y): 12 independent chains of acc = acc + i32x4.dot_i16x8_s(acc, y) (the
 *                  accumulator read as i16x8); ops = n * 12 * 16 (8 multiplies + 8 additions
 *                  per dot; the accumulating i32x4.add is what an int8 GEMM needs too).
 * Twelve chains cover the mul/add (and dot/add) latencies with two SIMD ports; 14 live vectors
 * fit the 16 xmm registers V8 allocates on x86-64. The return value keeps the work alive.
 * Build: emcc -O3 -msimd128 --no-entry -sSTANDALONE_WASM peak.c -o peak.wasm
 */
#include <wasm_simd128.h>
#include <stdint.h>

#define EXPORT __attribute__((used, visibility("default")))

EXPORT float f32_chains(int32_t n, float mv, float av) {
  /* m and a come in as arguments so they live in registers (V8 rematerializes v128 constants) */
  const v128_t m = wasm_f32x4_splat(mv);
  const v128_t a = wasm_f32x4_splat(av);
  v128_t c0 = wasm_f32x4_splat(1.0f), c1 = wasm_f32x4_splat(1.1f), c2 = wasm_f32x4_splat(1.2f),
         c3 = wasm_f32x4_splat(1.3f), c4 = wasm_f32x4_splat(1.4f), c5 = wasm_f32x4_splat(1.5f),
         c6 = wasm_f32x4_splat(1.6f), c7 = wasm_f32x4_splat(1.7f), c8 = wasm_f32x4_splat(1.8f),
         c9 = wasm_f32x4_splat(1.9f), c10 = wasm_f32x4_splat(2.0f), c11 = wasm_f32x4_splat(2.1f);
  for (int32_t i = 0; i < n; i++) {
#define STEP(c) c = wasm_f32x4_add(wasm_f32x4_mul(c, m), a)
    STEP(c0); STEP(c1); STEP(c2); STEP(c3); STEP(c4); STEP(c5);
    STEP(c6); STEP(c7); STEP(c8); STEP(c9); STEP(c10); STEP(c11);
#undef STEP
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)),
                            wasm_f32x4_add(wasm_f32x4_add(c4, c5), wasm_f32x4_add(c6, c7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(c8, c9), wasm_f32x4_add(c10, c11)));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}

EXPORT int32_t dot_chains(int32_t n, int32_t yv) {
  /* each chain multiplies its own accumulator (read as i16x8) by y: nothing to hoist or share;
     integer wrap-around is harmless */
  const v128_t y = wasm_i16x8_splat((int16_t)yv);
  v128_t c0 = wasm_i32x4_splat(1), c1 = wasm_i32x4_splat(2), c2 = wasm_i32x4_splat(3),
         c3 = wasm_i32x4_splat(4), c4 = wasm_i32x4_splat(5), c5 = wasm_i32x4_splat(6),
         c6 = wasm_i32x4_splat(7), c7 = wasm_i32x4_splat(8), c8 = wasm_i32x4_splat(9),
         c9 = wasm_i32x4_splat(10), c10 = wasm_i32x4_splat(11), c11 = wasm_i32x4_splat(12);
  for (int32_t i = 0; i < n; i++) {
#define STEP(c) c = wasm_i32x4_add(c, wasm_i32x4_dot_i16x8(c, y))
    STEP(c0); STEP(c1); STEP(c2); STEP(c3); STEP(c4); STEP(c5);
    STEP(c6); STEP(c7); STEP(c8); STEP(c9); STEP(c10); STEP(c11);
#undef STEP
  }
  v128_t s = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_add(c0, c1), wasm_i32x4_add(c2, c3)),
                            wasm_i32x4_add(wasm_i32x4_add(c4, c5), wasm_i32x4_add(c6, c7)));
  s = wasm_i32x4_add(s, wasm_i32x4_add(wasm_i32x4_add(c8, c9), wasm_i32x4_add(c10, c11)));
  return wasm_i32x4_extract_lane(s, 0) ^ wasm_i32x4_extract_lane(s, 3);
}

/* The same work fed from memory, the way a GEMM microkernel runs: only the accumulating add is
 * on each chain's critical path (the multiply / dot reads a 4 KiB L1-resident buffer through
 * v128.load, which uses the load ports, not the SIMD ALUs). */
static v128_t g_buf[192] __attribute__((aligned(16)));    /* i16x8 operands */
static v128_t g_fbuf[192] __attribute__((aligned(16)));   /* f32x4 operands (normal numbers) */

EXPORT void init_buf(void) {
  for (int i = 0; i < 192; i++) {
    g_buf[i] = wasm_i16x8_make(i, -i, 3 * i, 7, -5, i >> 1, 1, -1);
    g_fbuf[i] = wasm_f32x4_splat(1.0f + 0.001f * i);
  }
}

EXPORT float f32_mem(int32_t n, float yv) {
  const v128_t y = wasm_f32x4_splat(yv);
  v128_t c0 = wasm_f32x4_splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
         c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (int32_t i = 0; i < n; i++) {
    const v128_t* p = g_fbuf + (i & 15) * 12;
#define STEP(c, k) c = wasm_f32x4_add(c, wasm_f32x4_mul(wasm_v128_load(p + k), y))
    STEP(c0, 0); STEP(c1, 1); STEP(c2, 2); STEP(c3, 3); STEP(c4, 4); STEP(c5, 5);
    STEP(c6, 6); STEP(c7, 7); STEP(c8, 8); STEP(c9, 9); STEP(c10, 10); STEP(c11, 11);
#undef STEP
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)),
                            wasm_f32x4_add(wasm_f32x4_add(c4, c5), wasm_f32x4_add(c6, c7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(c8, c9), wasm_f32x4_add(c10, c11)));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}

EXPORT int32_t dot_mem(int32_t n, int32_t yv) {
  const v128_t y = wasm_i16x8_splat((int16_t)yv);
  v128_t c0 = wasm_i32x4_splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
         c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (int32_t i = 0; i < n; i++) {
    const v128_t* p = g_buf + (i & 15) * 12;
#define STEP(c, k) c = wasm_i32x4_add(c, wasm_i32x4_dot_i16x8(wasm_v128_load(p + k), y))
    STEP(c0, 0); STEP(c1, 1); STEP(c2, 2); STEP(c3, 3); STEP(c4, 4); STEP(c5, 5);
    STEP(c6, 6); STEP(c7, 7); STEP(c8, 8); STEP(c9, 9); STEP(c10, 10); STEP(c11, 11);
#undef STEP
  }
  v128_t s = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_add(c0, c1), wasm_i32x4_add(c2, c3)),
                            wasm_i32x4_add(wasm_i32x4_add(c4, c5), wasm_i32x4_add(c6, c7)));
  s = wasm_i32x4_add(s, wasm_i32x4_add(wasm_i32x4_add(c8, c9), wasm_i32x4_add(c10, c11)));
  return wasm_i32x4_extract_lane(s, 0) ^ wasm_i32x4_extract_lane(s, 3);
}
