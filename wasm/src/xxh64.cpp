// xxh64.cpp -- XXH64 as specified by the xxHash project (doc/xxhash_spec.md): 32-byte stripes
// into four 64-bit lanes, then the 8-, 4- and 1-byte tail, then the avalanche. Input words are
// read byte by byte as little-endian, whatever the host's byte order or the data's alignment.
#include "xxh64.h"

namespace mc {
namespace {

constexpr uint64_t kP1_ = 0x9E3779B185EBCA87ULL, kP2_ = 0xC2B2AE3D27D4EB4FULL,
                   kP3_ = 0x165667B19E3779F9ULL, kP4_ = 0x85EBCA77C2B2AE63ULL,
                   kP5_ = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl_(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t read64_(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // compilers turn this into one load
  return v;
}

inline uint32_t read32_(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

inline uint64_t round_(uint64_t acc, uint64_t lane) {
  acc += lane * kP2_;
  return rotl_(acc, 31) * kP1_;
}

inline uint64_t merge_(uint64_t acc, uint64_t v) {
  acc ^= round_(0, v);
  return acc * kP1_ + kP4_;
}

}  // namespace

uint64_t xxh64(const void* data, size_t len, uint64_t seed) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const uint8_t* const end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + kP1_ + kP2_, v2 = seed + kP2_, v3 = seed, v4 = seed - kP1_;
    const uint8_t* const last = end - 32;
    do {
      v1 = round_(v1, read64_(p));
      v2 = round_(v2, read64_(p + 8));
      v3 = round_(v3, read64_(p + 16));
      v4 = round_(v4, read64_(p + 24));
      p += 32;
    } while (p <= last);
    h = rotl_(v1, 1) + rotl_(v2, 7) + rotl_(v3, 12) + rotl_(v4, 18);
    h = merge_(h, v1);
    h = merge_(h, v2);
    h = merge_(h, v3);
    h = merge_(h, v4);
  } else {
    h = seed + kP5_;
  }
  h += static_cast<uint64_t>(len);
  for (; end - p >= 8; p += 8) h = rotl_(h ^ round_(0, read64_(p)), 27) * kP1_ + kP4_;
  if (end - p >= 4) {
    h = rotl_(h ^ (uint64_t(read32_(p)) * kP1_), 23) * kP2_ + kP3_;
    p += 4;
  }
  for (; p < end; ++p) h = rotl_(h ^ (uint64_t(*p) * kP5_), 11) * kP1_;
  h ^= h >> 33;
  h *= kP2_;
  h ^= h >> 29;
  h *= kP3_;
  h ^= h >> 32;
  return h;
}

}  // namespace mc
