// xxh64.h -- XXH64 (Yann Collet's xxHash, 64-bit variant), a fast non-cryptographic checksum.
// Used where bytes already proven by SHA-256 only need to be shown unchanged since: the page's
// local copy of the model (web/model-copy.js) carries the XXH64 of its bytes, checked at every
// read in ~2-3 ms of wasm instead of ~20 ms of synchronous WebCrypto SHA-256 (BENCHMARKS.md).
// Not a defence against a deliberate change; the SHA-256 checks stay where bytes arrive.
//
// Usage:
//   uint64_t h = mc::xxh64(data, len);        // seed 0: XXH64("") = 0xEF46DB3751D8E999
#pragma once
#include <cstddef>
#include <cstdint>

namespace mc {

uint64_t xxh64(const void* data, size_t len, uint64_t seed = 0);

}  // namespace mc
