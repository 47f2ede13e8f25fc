// explain.cpp -- the occlusion heat map (see explain.h).
#include "explain.h"

#include <algorithm>
#include <cstring>

#include "fail.h"
#include "preprocess.h"

namespace mc {

namespace {

bool is_cell_(const uint8_t* p) { return std::max(p[0], std::max(p[1], p[2])) > kExplainCellLevel; }

// 0, stride, 2 * stride, ... and S - patch (model/heatmap_eval.py positions())
std::vector<int> positions_(int S, int patch, int stride) {
  std::vector<int> p;
  for (int v = 0; v <= S - patch; v += stride) p.push_back(v);
  if (p.back() != S - patch) p.push_back(S - patch);
  return p;
}

}  // namespace

void explain_peak(const float* map, const uint8_t* rgb, int S, float* peak_x, float* peak_y) {
  const int n = S * S;
  bool any = false;
  for (int i = 0; i < n && !any; ++i) any = is_cell_(rgb + 3 * i);
  auto in = [&](int i) { return !any || is_cell_(rgb + 3 * i); };
  int first = -1;
  for (int i = 0; i < n; ++i)
    if (in(i) && (first < 0 || map[i] > map[first])) first = i;
  const float top = map[first];
  // the tied pixels 4-connected to the first one
  std::vector<uint8_t> seen(n, 0);
  std::vector<int> stack{first};
  seen[first] = 1;
  double sx = 0, sy = 0;
  int count = 0;
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    const int y = i / S, x = i % S;
    sx += x;
    sy += y;
    ++count;
    const int nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
    for (const auto& q : nb) {
      if (q[0] < 0 || q[1] < 0 || q[0] >= S || q[1] >= S) continue;
      const int j = q[1] * S + q[0];
      if (seen[j] || !in(j) || map[j] != top) continue;
      seen[j] = 1;
      stack.push_back(j);
    }
  }
  *peak_x = static_cast<float>(sx / count + 0.5);
  *peak_y = static_cast<float>(sy / count + 0.5);
}

bool explain(Engine* engine, const uint8_t* pixels, int width, int height, int channels,
             Explanation* out, std::string* err, const ExplainOptions& options) {
  if (!engine || !pixels || !out) return fail(err, "null engine, pixels or result");
  const int S = engine->input_size();
  const int k = options.patch, s = options.stride;
  if (k < 1 || k > S || s < 1 || s > k)
    return fail(err, "occlusion patch must be 1..S and stride 1..patch");
  std::vector<uint8_t> x(static_cast<size_t>(S) * S * 3);
  if (!area_resize_u8(pixels, width, height, channels, S, x.data(), ImageLimits{}, err))
    return false;

  // the cell and its mean colour
  std::vector<uint8_t> cell(static_cast<size_t>(S) * S);
  int64_t sum[3] = {0, 0, 0}, n = 0;
  for (int i = 0; i < S * S; ++i) {
    cell[i] = is_cell_(&x[3 * i]);
    if (!cell[i]) continue;
    for (int c = 0; c < 3; ++c) sum[c] += x[3 * i + c];
    ++n;
  }
  if (n == 0) return fail(err, "nothing to explain: no cell in the image (all pixels near black)");
  uint8_t fill[3];
  for (int c = 0; c < 3; ++c) fill[c] = static_cast<uint8_t>((2 * sum[c] + n) / (2 * n));

  // the positions whose patch touches the cell
  const std::vector<int> pos = positions_(S, k, s);
  std::vector<std::pair<int, int>> todo;  // (py, px)
  for (int py : pos)
    for (int px : pos) {
      bool touches = false;
      for (int y = py; y < py + k && !touches; ++y)
        for (int xx = px; xx < px + k && !touches; ++xx) touches = cell[y * S + xx] != 0;
      if (touches) todo.emplace_back(py, px);
    }

  // image 0 is the unoccluded one; then the occluded copies, batch_capacity() per pass
  const int cap = std::max(1, engine->batch_capacity());
  const int total = 1 + static_cast<int>(todo.size());
  std::vector<float> drop(todo.size());
  std::vector<std::vector<uint8_t>> buf(cap, std::vector<uint8_t>(x.size()));
  std::vector<const uint8_t*> ptr(cap);
  std::vector<int> ws(cap, S), hs(cap, S);
  std::vector<Prediction> pred(cap);
  std::vector<std::string> errs(cap);
  float z1 = 0;
  for (int b = 0; b < total; b += cap) {
    const int m = std::min(cap, total - b);
    for (int j = 0; j < m; ++j) {
      const int idx = b + j;
      std::vector<uint8_t>& o = buf[j];
      std::memcpy(o.data(), x.data(), x.size());
      if (idx > 0) {
        const int py = todo[idx - 1].first, px = todo[idx - 1].second;
        for (int y = py; y < py + k; ++y)
          for (int xx = px; xx < px + k; ++xx)
            if (cell[y * S + xx]) std::memcpy(&o[3 * (y * S + xx)], fill, 3);
      }
      ptr[j] = o.data();
    }
    const int got = engine->classify_batch(m, ptr.data(), ws.data(), hs.data(), 3, pred.data(),
                                           errs.data(), err);
    if (got < 0) return false;  // err says why
    if (got != m) return fail(err, errs[0]);
    for (int j = 0; j < m; ++j) {
      const int idx = b + j;
      if (idx == 0) {
        out->base = pred[0];
        z1 = pred[0].logits[1];
      } else {
        drop[idx - 1] = z1 - pred[j].logits[1];
      }
    }
  }

  // mean drop over the patches covering each pixel (untouched positions count with drop 0)
  std::vector<double> acc(static_cast<size_t>(S) * S, 0.0);
  std::vector<int> cnt(static_cast<size_t>(S) * S, 0);
  size_t t = 0;
  for (int py : pos)
    for (int px : pos) {
      double d = 0;
      if (t < todo.size() && todo[t].first == py && todo[t].second == px) d = drop[t++];
      for (int y = py; y < py + k; ++y)
        for (int xx = px; xx < px + k; ++xx) {
          acc[y * S + xx] += d;
          ++cnt[y * S + xx];
        }
    }
  out->size = S;
  out->patch = k;
  out->stride = s;
  out->passes = total;
  out->map.assign(static_cast<size_t>(S) * S, 0.0f);
  for (int i = 0; i < S * S; ++i) out->map[i] = static_cast<float>(acc[i] / std::max(1, cnt[i]));
  explain_peak(out->map.data(), x.data(), S, &out->peak_x, &out->peak_y);
  if (err) err->clear();
  return true;
}

}  // namespace mc
