// sha256.h -- SHA-256 (FIPS 180-4), self-contained (no OpenSSL; also used in the wasm build).
//
// Usage:
//   std::string hex = mc::sha256_hex(data, len);          // one shot, lowercase hex
//   mc::Sha256 h; h.update(a, na); h.update(b, nb);
//   uint8_t digest[32]; h.final(digest);                  // h must not be reused after final
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mc {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t len);
  void final(uint8_t digest[32]);

 private:
  void block_(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

void sha256(const void* data, size_t len, uint8_t digest[32]);
std::string sha256_hex(const void* data, size_t len);
std::string to_hex(const uint8_t* bytes, size_t len);

}  // namespace mc
