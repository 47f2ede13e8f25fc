// XXH64 (wasm/src/xxh64.h) and mc_checksum64 against the reference implementation: the values
// below were computed with Debian's libxxhash0 (0.8.1, XXH64) through ctypes. [checksum]
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "malaria.h"
#include "xxh64.h"

TEST_CASE("xxh64 matches the reference on the published strings", "[checksum]") {
  CHECK(mc::xxh64("", 0) == 0xEF46DB3751D8E999ULL);
  CHECK(mc::xxh64(nullptr, 0) == 0xEF46DB3751D8E999ULL);
  CHECK(mc::xxh64("a", 1) == 0xD24EC4F1A98C6E5BULL);
  CHECK(mc::xxh64("abc", 3) == 0x44BC2CF5AD770999ULL);
  const std::string s = "Nobody inspects the spammish repetition";
  CHECK(mc::xxh64(s.data(), s.size()) == 0xFBCEA83C8A378BF1ULL);
}

TEST_CASE("xxh64 matches the reference at every tail length", "[checksum]") {
  // buf[i] = (i * 131 + 7) & 0xFF; lengths cover the stripe loop and each tail step
  std::vector<uint8_t> buf(1000 + 1);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>((i * 131 + 7) & 0xFF);
  const struct {
    size_t n;
    uint64_t h;
  } want[] = {
      {1, 0xa96c7f0ce858bbb7ULL},   {3, 0xbed43740ee6332bbULL},   {4, 0xfa212ae44b3bb23dULL},
      {7, 0x2744460dd675d2c0ULL},   {8, 0x994b676b71ce94ddULL},   {13, 0xdadc8a6255b4829bULL},
      {31, 0x6711d55e306b5d8fULL},  {32, 0x07f7b8e3bc5d6e25ULL},  {33, 0x09f85eeb4e1cbe9fULL},
      {40, 0xd25150177ba46490ULL},  {63, 0xb7c9968c066cb6a5ULL},  {64, 0x50d4159a0411632eULL},
      {100, 0x9ddada11d3dc2d8fULL}, {127, 0x54cf771b5423f6a7ULL}, {1000, 0x0bf0bdbcc82eb373ULL}};
  for (const auto& w : want) {
    INFO("length " << w.n);
    CHECK(mc::xxh64(buf.data(), w.n) == w.h);
    // the same bytes at an odd address (reads are bytewise: no alignment assumed)
    std::vector<uint8_t> shifted(w.n + 1);
    std::memcpy(shifted.data() + 1, buf.data(), w.n);
    CHECK(mc::xxh64(shifted.data() + 1, w.n) == w.h);
  }
  CHECK(mc::xxh64(buf.data(), 100, 0x9E3779B97F4A7C15ULL) == 0x35546bd9a4779ae4ULL);
}

TEST_CASE("mc_checksum64 writes XXH64 little-endian and tells one changed bit", "[checksum]") {
  std::vector<uint8_t> buf(4096);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 7);
  uint8_t out[8];
  mc_checksum64(buf.data(), buf.size(), out);
  const uint64_t h = mc::xxh64(buf.data(), buf.size());
  for (int i = 0; i < 8; ++i) CHECK(out[i] == static_cast<uint8_t>(h >> (8 * i)));
  buf[2049] ^= 0x10;
  uint8_t out2[8];
  mc_checksum64(buf.data(), buf.size(), out2);
  CHECK(std::memcmp(out, out2, 8) != 0);
  mc_checksum64(nullptr, 5, out2);  // no data: the checksum of nothing
  CHECK(mc::xxh64("", 0) ==
        (uint64_t(out2[0]) | uint64_t(out2[7]) << 56 | uint64_t(out2[1]) << 8 |
         uint64_t(out2[2]) << 16 | uint64_t(out2[3]) << 24 | uint64_t(out2[4]) << 32 |
         uint64_t(out2[5]) << 40 | uint64_t(out2[6]) << 48));
}
