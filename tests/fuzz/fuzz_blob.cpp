// libFuzzer target: the model blob reader (blob.h). Every input is parsed as it is (preamble and
// magic checks) and, if it is long enough, again with its checksum made valid, so the fuzzer
// gets past the SHA-256 into the header JSON and the tensor table. Each successful parse is
// walked to touch every tensor byte (ASan catches a view outside the input).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "blob.h"

namespace {

volatile uint8_t g_sink_;

void walk_(const mc::blob::Blob& b) {
  uint8_t acc = 0;
  for (const mc::blob::Tensor& t : b.tensors())
    if (t.bytes) acc ^= t.data[0] ^ t.data[t.bytes - 1];
  acc ^= uint8_t(b.input().size) ^ uint8_t(b.labels().size());
  g_sink_ = acc;
}

void parse_all_(const uint8_t* data, size_t size) {
  static const mc::blob::ParseOptions opts[] = {{true, true}, {false, false}};
  for (const mc::blob::ParseOptions& o : opts) {
    mc::blob::Blob b;
    std::string err;
    if (mc::blob::Blob::parse(data, size, &b, &err, o))
      walk_(b);
    else if (err.empty())
      __builtin_trap();  // every rejection must say why
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse_all_(data, size);
  if (size >= mc::blob::kPreambleSize) {
    std::vector<uint8_t> f(data, data + size);
    mc::blob::reseal(f);
    parse_all_(f.data(), f.size());
  }
  return 0;
}
