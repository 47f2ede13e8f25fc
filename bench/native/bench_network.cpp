// bench_network -- whole-network latency of the engine on one model blob (1 thread).
//
// Usage: bench_network model.mcb [runs=200] [warmup=20] [batch=1 | batches, e.g. 1,4,8]
// Runs Engine::classify on a fixed synthetic S x S RGBA cell (the same work as the page's
// classify: preprocessing, the network, the CAM), or Engine::classify_batch on `batch` copies of
// it, and prints the median, p10 and p90 in ms per cell and the network's GFLOP/s. Built natively
// (SSE/NEON path of the portable SIMD layer) or with em++ -msimd128 for Node, the same way
// bench/run.sh builds the per-layer benchmark:
//   em++ -std=c++17 -O3 -msimd128 -DNDEBUG -Iwasm/src -Iwasm/include bench/native/bench_network.cpp
//   \
//     wasm/src/*.cpp wasm/src/ops/*.cpp wasm/src/kernels/*.cpp -ljpeg?  (see bench/run.sh)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.mcb [runs=200] [warmup=20] [batch=1 | 1,4,8]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  const int warmup = argc > 3 ? std::max(0, std::atoi(argv[3])) : 20;
  const char* batch_arg = argc > 4 ? argv[4] : "1";
  std::ifstream f(argv[1], std::ios::binary);
  std::vector<uint8_t> blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string err;
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  if (!e) {
    std::fprintf(stderr, "model rejected: %s\n", err.c_str());
    return 2;
  }
  const int S = e->input_size();
  std::vector<uint8_t> px(size_t(S) * S * 4);
  uint32_t h = 12345;  // a reproducible cell-like pattern: a bright disc on black
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      h = h * 1664525u + 1013904223u;
      const int dx = x - S / 2, dy = y - S / 2;
      const bool in = dx * dx + dy * dy < S * S / 5;
      uint8_t* p = &px[(size_t(y) * S + x) * 4];
      p[0] = uint8_t(in ? 180 + (h >> 28) : 0);
      p[1] = uint8_t(in ? 120 + ((h >> 20) & 15) : 0);
      p[2] = uint8_t(in ? 150 + ((h >> 12) & 15) : 0);
      p[3] = 255;
    }
  // one or more batch sizes ("1,8"): with several, rounds alternate between them (one run of
  // each per round) so that a machine whose speed drifts affects all alike
  std::vector<int> sizes;
  for (const char* q = batch_arg; *q;) {
    const int v = std::atoi(q);
    if (v < 1 || v > e->batch_capacity()) {
      std::fprintf(stderr, "batch %d: this engine takes 1 to %d\n", v, e->batch_capacity());
      return 2;
    }
    sizes.push_back(v);
    while (*q && *q != ',') q++;
    if (*q == ',') q++;
  }
  const size_t nmax = static_cast<size_t>(*std::max_element(sizes.begin(), sizes.end()));
  std::vector<const uint8_t*> pxs(nmax, px.data());
  std::vector<int> ws(nmax, S), hs(nmax, S);
  std::vector<mc::Prediction> rs(nmax);
  auto run = [&](int n) {
    if (n == 1) return e->classify(px.data(), S, S, 4, &rs[0], &err);
    return e->classify_batch(n, pxs.data(), ws.data(), hs.data(), 4, rs.data(), nullptr, &err) == n;
  };
  for (int i = 0; i < warmup; i++)
    for (int n : sizes) run(n);
  std::vector<std::vector<double>> t(sizes.size(), std::vector<double>(size_t(runs)));
  for (int i = 0; i < runs; i++)
    for (size_t k = 0; k < sizes.size(); k++) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!run(sizes[k])) {
        std::fprintf(stderr, "classify failed: %s\n", err.c_str());
        return 1;
      }
      t[k][size_t(i)] =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
          sizes[k];
    }
  const mc::Prediction& r = rs[0];
  const double gflop = 0.296;  // ResNet18 at S=64 (2 flops per multiply-add); scaled below
  const double g = gflop * (double(S) * S) / (64.0 * 64.0);
  for (size_t k = 0; k < sizes.size(); k++) {
    std::vector<double>& tk = t[k];
    std::sort(tk.begin(), tk.end());
    std::printf(
        "%s S=%d dtype=%s batch=%d runs=%d median %.3f ms/cell p10 %.3f p90 %.3f  %.1f G(FL)OP/s  "
        "logits %.5f %.5f\n",
        argv[1], S, e->weight_dtype(), sizes[k], runs, tk[size_t(runs) / 2], tk[size_t(runs) / 10],
        tk[size_t(runs) * 9 / 10], g / (tk[size_t(runs) / 2] * 1e-3), r.logits[0], r.logits[1]);
  }
  return 0;
}
