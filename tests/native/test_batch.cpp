// Batched convolutions (ConvShape::n): a run over n images must give, bit for bit, what n runs of
// one image give, for every conv family the engine uses (f32 direct and row form, int8 direct,
// int16-activation direct with int8 and widened weights, its row form, exact int8 Winograd), SIMD
// and scalar, at awkward shapes and batch sizes; and a setup for n images must serve a run over
// its first k < n images unchanged (the engine sets up its largest batch once and runs any
// smaller one).
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "ops/conv_winograd_f32.h"
#include "ops/conv_winograd_qs8.h"
#include "ops/ops.h"
#include "ops/ops_qs8.h"

namespace {

mc::ConvShape batched(mc::ConvShape s, int n) {
  s.n = n;
  return s;
}

size_t in_count(const mc::ConvShape& s) { return size_t(s.n) * s.in_h * s.in_w * s.in_c; }
size_t out_count(const mc::ConvShape& s) { return s.out_pixels() * size_t(s.out_c); }

// ---- f32 ---------------------------------------------------------------------------------------

struct F32Case {
  std::vector<float> in, res, packed;
};

F32Case f32_case(const mc::ConvShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  F32Case c;
  c.in.resize(in_count(s));
  c.res.resize(out_count(s));
  for (auto& v : c.in) v = d(rng);
  for (auto& v : c.res) v = d(rng);
  std::vector<float> w(size_t(s.out_c) * s.kh * s.kw * s.in_c), b(size_t(s.out_c));
  for (auto& v : w) v = d(rng);
  for (auto& v : b) v = d(rng);
  c.packed.resize(mc::conv_packed_f32_size(s));
  mc::conv_pack_f32(s, w.data(), b.data(), c.packed.data());
  return c;
}

// images [first, first + s.n) of the case's tensors (laid out for `all` images)
std::vector<float> run_f32(const mc::ConvShape& s, const F32Case& c, size_t first, bool rows,
                           mc::Isa isa, const mc::ConvShape* setup_for = nullptr) {
  const mc::ConvShape& su = setup_for ? *setup_for : s;  // the indirection's shape
  const size_t img_in = size_t(s.in_h) * s.in_w * s.in_c,
               img_out = size_t(s.out_h()) * s.out_w() * s.out_c;
  std::vector<float> out(out_count(su), -7.f);
  const float* res = c.res.data() + first * img_out;
  if (rows) {
    std::vector<float> xp(mc::conv_padded_input_size(su), 0.f);
    const size_t wp = size_t(s.in_w) + 2 * s.pad;
    for (int b = 0; b < s.n; b++)
      for (int y = 0; y < s.in_h; y++)
        std::memcpy(xp.data() + b * mc::conv_padded_image_stride(su) +
                        mc::conv_padded_input_offset(su) + size_t(y) * wp * s.in_c,
                    c.in.data() + (first + b) * img_in + size_t(y) * s.in_w * s.in_c,
                    size_t(s.in_w) * s.in_c * sizeof(float));
    std::vector<const float*> ind(mc::conv_rows_indirection_size(su));
    mc::conv_rows_setup_indirection(su, xp.data(), ind.data());
    mc::conv_rows_run_f32(s, ind.data(), c.packed.data(), out.data(), res, true, isa);
  } else {
    std::vector<float> zero(size_t(s.in_c), 0.f);
    std::vector<const float*> ind(mc::conv_indirection_size(su));
    mc::conv_setup_indirection(su, c.in.data() + first * img_in, zero.data(), ind.data());
    mc::conv_run_f32(s, ind.data(), c.packed.data(), out.data(), res, true, isa);
  }
  out.resize(out_count(s));
  return out;
}

// ---- int8 --------------------------------------------------------------------------------------

struct Qs8Case {
  mc::QuantParams qin{0.05f, 3}, qres{0.07f, -5};
  std::vector<int8_t> in, res;
  std::vector<uint8_t> packed;
};

Qs8Case qs8_case(const mc::ConvShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d8(-128, 127), dw(-127, 127);
  Qs8Case c;
  c.in.resize(in_count(s));
  c.res.resize(out_count(s));
  for (auto& v : c.in) v = int8_t(d8(rng));
  for (auto& v : c.res) v = int8_t(d8(rng));
  std::vector<int8_t> w(size_t(s.out_c) * s.kh * s.kw * s.in_c);
  for (auto& v : w) v = int8_t(dw(rng));
  std::vector<float> ws(size_t(s.out_c));
  std::vector<int32_t> bq(size_t(s.out_c));
  for (auto& v : ws) v = 0.001f * float(1 + rng() % 40);
  for (auto& v : bq) v = int32_t(rng() % 20001) - 10000;
  const float acc = 40.f * 128 * float(std::sqrt(double(s.kh) * s.kw * s.in_c));
  c.packed.resize(mc::conv_packed_qs8_size(s));
  mc::conv_pack_qs8(s, w.data(), ws.data(), bq.data(), c.qin, {acc * c.qin.scale * 0.02f / 50.f, 4},
                    c.packed.data());
  return c;
}

enum class Q { A16, A16W16, RowsA16, Winograd };

std::vector<int8_t> run_qs8(const mc::ConvShape& s, const Qs8Case& c, size_t first, Q kind,
                            mc::Isa isa, const mc::ConvShape* setup_for = nullptr) {
  const mc::ConvShape& su = setup_for ? *setup_for : s;
  const size_t img_in = size_t(s.in_h) * s.in_w * s.in_c,
               img_out = size_t(s.out_h()) * s.out_w() * s.out_c;
  const int8_t* in = c.in.data() + first * img_in;
  const int8_t* res = c.res.data() + first * img_out;
  const int8_t zp = int8_t(c.qin.zero_point);
  std::vector<int8_t> out(out_count(su), 99);
  switch (kind) {
    case Q::A16:
    case Q::A16W16: {
      std::vector<int16_t> x16(in_count(su)), zero(size_t(s.in_c), zp);
      mc::widen_qs8_a16(in_count(s), in, x16.data());
      std::vector<const int16_t*> ind(mc::conv_indirection_size(su));
      mc::conv_setup_indirection_qs8_a16(su, x16.data(), zero.data(), ind.data());
      std::vector<uint8_t> w = c.packed;
      if (kind == Q::A16W16) {
        w.assign(mc::conv_packed_qs8_w16_size(s), 0);
        mc::conv_widen_packed_qs8_w16(s, c.packed.data(), w.data());
      }
      mc::conv_run_qs8_a16(s, ind.data(), w.data(), kind == Q::A16W16, out.data(), res, c.qres,
                           true, isa);
      break;
    }
    case Q::RowsA16: {
      std::vector<int16_t> xp(mc::conv_padded_input_size(su), zp);
      const size_t wp = size_t(s.in_w) + 2 * s.pad;
      for (int b = 0; b < s.n; b++)
        for (int y = 0; y < s.in_h; y++)
          for (int x = 0; x < s.in_w * s.in_c; x++)
            xp[b * mc::conv_padded_image_stride(su) + mc::conv_padded_input_offset(su) +
               size_t(y) * wp * s.in_c + size_t(x)] =
                in[b * img_in + size_t(y) * s.in_w * s.in_c + size_t(x)];
      std::vector<uint8_t> rp(mc::conv_rows_packed_qs8_size(s));
      mc::conv_rows_repack_qs8(s, c.packed.data(), rp.data());
      std::vector<const int16_t*> ind(mc::conv_rows_indirection_size(su));
      mc::conv_rows_setup_indirection_qs8_a16(su, xp.data(), ind.data());
      mc::conv_rows_run_qs8_a16(s, ind.data(), rp.data(), false, out.data(), res, c.qres, true,
                                isa);
      break;
    }
    case Q::Winograd: {
      std::vector<uint8_t> wg(mc::conv_winograd_qs8_packed_size(s));
      REQUIRE(mc::conv_winograd_qs8_pack_from_igemm(s, c.packed.data(), wg.data()));
      std::vector<uint8_t> scratch(mc::conv_winograd_qs8_scratch_size(su), 0xA5);
      std::vector<int8_t> zero(size_t(s.in_c), zp);
      std::vector<const int8_t*> ind(mc::conv_winograd_qs8_indirection_size(su));
      mc::conv_winograd_qs8_setup(su, in, zero.data(), ind.data());
      mc::conv_winograd_qs8_run(s, ind.data(), wg.data(), scratch.data(), out.data(), res, c.qres,
                                true, isa);
      break;
    }
  }
  out.resize(out_count(s));
  return out;
}

const mc::ConvShape kShapes[] = {
    // in_h, in_w, in_c, out_c, kh, kw, stride, pad
    {5, 7, 3, 13, 3, 3, 1, 1},   // odd everything
    {1, 1, 8, 9, 1, 1, 1, 0},    // one pixel
    {9, 6, 17, 8, 3, 3, 2, 1},   // stride 2
    {4, 4, 24, 16, 1, 1, 2, 0},  // downsample-like
    {2, 2, 64, 24, 3, 3, 1, 1},  // layer4-like: one tile per image
    {13, 11, 5, 7, 7, 7, 2, 3},  // stem-like
};

}  // namespace

TEST_CASE("batched conv: ConvShape::n and the sizes that scale with it", "[batch]") {
  mc::ConvShape s{8, 8, 16, 16, 3, 3, 1, 1};
  const size_t ind1 = mc::conv_indirection_size(s), pad1 = mc::conv_padded_input_size(s);
  CHECK(s.out_pixels() == 64);
  s.n = 5;
  CHECK(s.out_pixels() == 320);
  CHECK(mc::conv_indirection_size(s) == 5 * ind1);
  CHECK(mc::conv_padded_input_size(s) == 5 * (pad1 - 8) + 8);
  CHECK(mc::conv_padded_image_stride(s) == pad1 - 8);
  CHECK(mc::conv_winograd_qs8_indirection_size(s) ==
        5 * mc::conv_winograd_qs8_indirection_size(batched(s, 1)));
  CHECK_FALSE(mc::conv_winograd_f32_applicable(s, 2));  // f32 Winograd: one image only
  s.n = 0;
  CHECK_FALSE(mc::conv_shape_valid(s));
  CHECK(mc::conv_indirection_size(s) == 0);
  s.n = 65537;  // each field <= 65536
  CHECK_FALSE(mc::conv_shape_valid(s));
  mc::ConvShape big{256, 256, 16, 16, 3, 3, 1, 1};
  big.n = 3000;  // 3000 x 256 x 256 x 16 > 2^31 elements
  CHECK_FALSE(mc::conv_shape_valid(big));
  big.n = 100;
  CHECK(mc::conv_shape_valid(big));
}

TEST_CASE("batched conv: n images at once equal n runs of one, f32", "[batch]") {
  uint32_t seed = 1;
  for (const mc::ConvShape& s1 : kShapes)
    for (int n : {2, 3, 5})
      for (bool rows : {false, true})
        for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
          const mc::ConvShape sn = batched(s1, n);
          const F32Case c = f32_case(sn, seed++);
          INFO("shape " << s1.in_h << "x" << s1.in_w << "x" << s1.in_c << " k" << s1.kh << " s"
                        << s1.stride << " -> " << s1.out_c << ", n " << n << " rows " << rows);
          std::vector<float> want;
          for (int b = 0; b < n; b++) {
            const std::vector<float> one = run_f32(s1, c, size_t(b), rows, isa);
            want.insert(want.end(), one.begin(), one.end());
          }
          CHECK(run_f32(sn, c, 0, rows, isa) == want);
          // a setup for n images, run on its first 2
          const mc::ConvShape s2 = batched(s1, 2);
          const std::vector<float> first2(want.begin(), want.begin() + long(out_count(s2)));
          CHECK(run_f32(s2, c, 0, rows, isa, &sn) == first2);
        }
}

TEST_CASE("batched conv: n images at once equal n runs of one, int8", "[batch][qs8]") {
  uint32_t seed = 100;
  for (const mc::ConvShape& s1 : kShapes)
    for (Q kind : {Q::A16, Q::A16W16, Q::RowsA16, Q::Winograd}) {
      if (kind == Q::Winograd && !mc::conv_winograd_qs8_applicable(s1)) continue;
      for (int n : {2, 3, 5})
        for (mc::Isa isa : {mc::Isa::Scalar, mc::Isa::Simd}) {
          const mc::ConvShape sn = batched(s1, n);
          const Qs8Case c = qs8_case(sn, seed++);
          INFO("shape " << s1.in_h << "x" << s1.in_w << "x" << s1.in_c << " k" << s1.kh << " s"
                        << s1.stride << " -> " << s1.out_c << ", n " << n << " kind " << int(kind));
          std::vector<int8_t> want;
          for (int b = 0; b < n; b++) {
            const std::vector<int8_t> one = run_qs8(s1, c, size_t(b), kind, isa);
            want.insert(want.end(), one.begin(), one.end());
          }
          CHECK(run_qs8(sn, c, 0, kind, isa) == want);
          const mc::ConvShape s2 = batched(s1, 2);
          const std::vector<int8_t> first2(want.begin(), want.begin() + long(out_count(s2)));
          CHECK(run_qs8(s2, c, 0, kind, isa, &sn) == first2);
        }
    }
}
