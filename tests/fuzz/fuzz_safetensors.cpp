// libFuzzer target: the converter's safetensors reader (converter/safetensors.h). Successful
// parses are walked and every tensor converted to floats (ASan catches a view outside the input).
#include <cstddef>
#include <cstdint>
#include <string>

#include "safetensors.h"

namespace {
volatile float g_sink_;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mc::safetensors::File f;
  std::string err;
  if (!mc::safetensors::File::parse(data, size, &f, &err)) {
    if (err.empty()) __builtin_trap();
    return 0;
  }
  float acc = 0;
  for (const mc::safetensors::Tensor& t : f.tensors()) {
    if (t.elements > (1u << 20)) continue;  // keep each run fast; the bounds are checked below
    for (float v : mc::safetensors::to_f32(t)) acc += v;
    if (t.bytes) acc += float(t.data[t.bytes - 1]);
  }
  g_sink_ = acc;
  return 0;
}
