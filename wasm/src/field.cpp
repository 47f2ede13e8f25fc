// field.cpp -- the cell finder of field.h: downscale, Otsu, distance transform, markers,
// watershed, region rules; crops; the crop / field / neither decision.
#include "field.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "fail.h"

namespace mc {

namespace {

constexpr float kInf = 1e20f;

// The least gap between Otsu's two classes of green (the cells' and the plasma's means) that
// makes a foreground: green levels, and a share of the brighter class's mean (foreground_).
constexpr float kMinGreenGap_ = 8.0f;
constexpr float kMinGreenGapShare_ = 0.07f;

// Area downscale of RGB/RGBA to ow x oh RGB: output (y, x) is the mean of the input box rows
// [floor(y*H/oh), ceil((y+1)*H/oh)) x cols [floor(x*W/ow), ceil((x+1)*W/ow)), as preprocess's
// area resize; where it enlarges, each output pixel is the mean of the 1-2 input pixels it
// overlaps. Works one output row at a time over column sums (no full-size copy).
void area_downscale_(const uint8_t* px, int W, int H, int C, int ow, int oh,
                     std::vector<uint8_t>* out, std::vector<uint32_t>* colsum) {
  out->resize(static_cast<size_t>(ow) * oh * 3);
  colsum->resize(static_cast<size_t>(W) * 3);
  for (int y = 0; y < oh; ++y) {
    const int y0 = static_cast<int>(static_cast<int64_t>(y) * H / oh);
    const int y1 = static_cast<int>((static_cast<int64_t>(y + 1) * H + oh - 1) / oh);
    std::fill(colsum->begin(), colsum->end(), 0u);
    for (int yy = y0; yy < y1; ++yy) {
      const uint8_t* row = px + static_cast<size_t>(yy) * W * C;
      uint32_t* cs = colsum->data();
      for (int x = 0; x < W; ++x) {
        cs[3 * x] += row[C * x];
        cs[3 * x + 1] += row[C * x + 1];
        cs[3 * x + 2] += row[C * x + 2];
      }
    }
    for (int x = 0; x < ow; ++x) {
      const int x0 = static_cast<int>(static_cast<int64_t>(x) * W / ow);
      const int x1 = static_cast<int>((static_cast<int64_t>(x + 1) * W + ow - 1) / ow);
      uint64_t s[3] = {0, 0, 0};
      for (int xx = x0; xx < x1; ++xx)
        for (int c = 0; c < 3; ++c) s[c] += (*colsum)[3 * xx + c];
      const uint64_t n = static_cast<uint64_t>(y1 - y0) * (x1 - x0);
      for (int c = 0; c < 3; ++c)
        (*out)[(static_cast<size_t>(y) * ow + x) * 3 + c] =
            static_cast<uint8_t>((2 * s[c] + n) / (2 * n));
    }
  }
}

// 3x3 box blur (edges replicated), src -> dst: vertical sums of three rows, then horizontal.
void box3_(const float* src, int W, int H, float* dst) {
  std::vector<float> col(W);
  for (int y = 0; y < H; ++y) {
    const float* a = src + size_t(std::max(y - 1, 0)) * W;
    const float* b = src + size_t(y) * W;
    const float* c = src + size_t(std::min(y + 1, H - 1)) * W;
    for (int x = 0; x < W; ++x) col[x] = a[x] + b[x] + c[x];
    float* o = dst + size_t(y) * W;
    if (W == 1) {
      o[0] = col[0] / 3.0f;
      continue;
    }
    o[0] = (2 * col[0] + col[1]) / 9.0f;
    for (int x = 1; x + 1 < W; ++x) o[x] = (col[x - 1] + col[x] + col[x + 1]) / 9.0f;
    o[W - 1] = (col[W - 2] + 2 * col[W - 1]) / 9.0f;
  }
}

// Otsu's threshold of values in [0, 255]: the t maximising the between-class variance of
// {v <= t} and {v > t}, over the values whose mask is set (all without a mask). *gap: the
// difference of the two classes' means at t; *upper: the brighter class's mean.
int otsu_(const float* v, size_t n, float* gap, const uint8_t* mask = nullptr,
          float* upper = nullptr) {
  double hist[256] = {};
  for (size_t i = 0; i < n; ++i)
    if (!mask || mask[i]) hist[std::min(255, std::max(0, static_cast<int>(v[i] + 0.5f)))] += 1;
  double total = 0, sum = 0;
  for (int i = 0; i < 256; ++i) {
    total += hist[i];
    sum += i * hist[i];
  }
  double wb = 0, sb = 0, best = -1;
  int t = 127;
  for (int i = 0; i < 256; ++i) {
    wb += hist[i];
    if (wb == 0) continue;
    const double wf = total - wb;
    if (wf == 0) break;
    sb += i * hist[i];
    const double mb = sb / wb, mf = (sum - sb) / wf;
    const double between = wb * wf * (mb - mf) * (mb - mf) / (total * total);
    if (between > best) {
      best = between;
      t = i;
      if (gap) *gap = static_cast<float>(mf - mb);
      if (upper) *upper = static_cast<float>(mf);
    }
  }
  return t;
}

// Exact squared Euclidean distance transform of one line (Felzenszwalb & Huttenlocher 2012).
// The parabolas' intersections in double: q * q is not exact in float beyond q = 4096.
void edt1d_(const float* f, int n, float* d, int* v, double* z) {
  int k = 0;
  v[0] = 0;
  z[0] = -kInf;
  z[1] = kInf;
  for (int q = 1; q < n; ++q) {
    double s;
    for (;;) {
      s = ((double(f[q]) + double(q) * q) - (double(f[v[k]]) + double(v[k]) * v[k])) /
          (2.0 * (q - v[k]));
      if (s <= z[k] && k > 0)
        --k;
      else
        break;
    }
    if (s <= z[k]) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
      continue;
    }
    ++k;
    v[k] = q;
    z[k] = s;
    z[k + 1] = kInf;
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < q) ++k;
    d[q] = float(double(q - v[k]) * (q - v[k]) + f[v[k]]);
  }
}

// Distance of each foreground pixel to the nearest background pixel (outside the image counts
// as foreground, so cells cut by the border keep their depth there).
void distance_transform_(const uint8_t* fg, int W, int H, float* out) {
  const int n = std::max(W, H);
  std::vector<float> f(n), d(n);
  std::vector<double> z(n + 1);
  std::vector<int> v(n);
  for (size_t i = 0; i < size_t(W) * H; ++i) out[i] = fg[i] ? kInf : 0.0f;
  for (int x = 0; x < W; ++x) {
    for (int y = 0; y < H; ++y) f[y] = out[y * W + x];
    edt1d_(f.data(), H, d.data(), v.data(), z.data());
    for (int y = 0; y < H; ++y) out[y * W + x] = d[y];
  }
  for (int y = 0; y < H; ++y) {
    edt1d_(out + size_t(y) * W, W, d.data(), v.data(), z.data());
    for (int x = 0; x < W; ++x) out[size_t(y) * W + x] = std::sqrt(std::min(d[x], 1e12f));
  }
}

// Labels 4-connected components of pixels with mask[i] == value; calls fn(pixel list,
// touches_border) for each. stack and comp are scratch.
template <class Fn>
void components_(const uint8_t* mask, uint8_t value, int W, int H, std::vector<int32_t>* seen_buf,
                 std::vector<int32_t>* stack, std::vector<int32_t>* comp, Fn fn) {
  std::vector<int32_t>& seen = *seen_buf;
  seen.assign(size_t(W) * H, 0);
  for (int start = 0; start < W * H; ++start) {
    if (mask[start] != value || seen[start]) continue;
    stack->clear();
    comp->clear();
    stack->push_back(start);
    seen[start] = 1;
    bool border = false;
    while (!stack->empty()) {
      const int p = stack->back();
      stack->pop_back();
      comp->push_back(p);
      const int x = p % W, y = p / W;
      if (x == 0 || y == 0 || x == W - 1 || y == H - 1) border = true;
      const int nb[4] = {x > 0 ? p - 1 : -1, x < W - 1 ? p + 1 : -1, y > 0 ? p - W : -1,
                         y < H - 1 ? p + W : -1};
      for (int q : nb)
        if (q >= 0 && !seen[q] && mask[q] == value) {
          seen[q] = 1;
          stack->push_back(q);
        }
    }
    fn(*comp, border);
  }
}

float median_(std::vector<float> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// The microscope's field of view in a downscaled RGB image (*inside: 1 in it, 0 outside). A
// photo taken through the eyepiece (a phone held to it) shows the field stop: a round bright
// field in a black surround; a screen grab may carry black bars. Outside: the regions of dark
// pixels (the brightest channel below 30 % of the image's bright level, its 90th percentile)
// that touch the image's edge and hold at least min_dark pixels, and the stop's blurred edge
// along them. A red cell's brightest channel is 65-85 % of the plasma's on the IML and Chula
// fields, also under vignetting; a white cell's nucleus is dark but small and inside. Returns the
// number of pixels inside.
size_t field_of_view_(const uint8_t* rgb, int W, int H, size_t min_dark,
                      std::vector<uint8_t>* inside, std::vector<uint8_t>* dark_px,
                      std::vector<float>* dist, std::vector<int32_t>* seen,
                      std::vector<int32_t>* stack, std::vector<int32_t>* comp) {
  const size_t N = size_t(W) * H;
  inside->assign(N, 1);
  auto bright = [&](size_t i) {
    return std::max(rgb[3 * i], std::max(rgb[3 * i + 1], rgb[3 * i + 2]));
  };
  size_t hist[256] = {};
  for (size_t i = 0; i < N; ++i) ++hist[bright(i)];
  int p90 = 255;
  for (size_t v = 0, acc = 0; v < 256; ++v)
    if ((acc += hist[v]) * 10 >= N * 9) {
      p90 = int(v);
      break;
    }
  const int dark = p90 * 30 / 100;
  bool any = false;  // a dark pixel on the edge at all (most fields: none)
  for (int x = 0; x < W && !any; ++x)
    any = bright(x) < dark || bright(size_t(H - 1) * W + x) < dark;
  for (int y = 0; y < H && !any; ++y)
    any = bright(size_t(y) * W) < dark || bright(size_t(y) * W + W - 1) < dark;
  if (!any) return N;
  dark_px->resize(N);
  for (size_t i = 0; i < N; ++i) (*dark_px)[i] = bright(i) < dark;
  size_t out = 0;
  components_(dark_px->data(), 1, W, H, seen, stack, comp,
              [&](const std::vector<int32_t>& c, bool edge) {
                if (!edge || c.size() < min_dark) return;
                for (int p : c) (*inside)[p] = 0;
                out += c.size();
              });
  if (!out) return N;
  // the rest of the stop's blurred edge: the pixels dimmer than 80 % of the bright level that
  // join the dark outside within `band` px of it (a closed ring of them would enclose the
  // plasma, and the cells along it would join), and a 1.5 px band whatever their brightness
  const float band = std::max(2.0f, std::min(W, H) / 150.0f);
  const int dim = p90 * 80 / 100;
  dist->resize(N);
  distance_transform_(inside->data(), W, H, dist->data());
  stack->clear();
  for (size_t i = 0; i < N; ++i)
    if (!(*inside)[i]) stack->push_back(int32_t(i));
  while (!stack->empty()) {
    const int32_t p = stack->back();
    stack->pop_back();
    const int x = p % W, y = p / W;
    const int32_t nb[4] = {x > 0 ? p - 1 : -1, x < W - 1 ? p + 1 : -1, y > 0 ? p - W : -1,
                           y < H - 1 ? p + W : -1};
    for (int32_t q : nb)
      if (q >= 0 && (*inside)[q] && (*dist)[q] <= band && bright(size_t(q)) < dim) {
        (*inside)[q] = 0;
        stack->push_back(q);
      }
  }
  out = 0;
  for (size_t i = 0; i < N; ++i) {
    if ((*dist)[i] <= 1.5f) (*inside)[i] = 0;
    out += !(*inside)[i];
  }
  return N - out;
}

// Uneven illumination (vignetting, a lamp off centre). The plasma's brightness is fitted by a
// quadratic surface in (x, y) to each tile's bright level (the 97th percentile of green over the
// tile's pixels inside the field of view; tiles `tile` px a side), by least squares reweighted
// over four rounds so that dense tiles (no plasma: far below the fit) hardly count. When the
// surface varies by more than 8 % over the field of view, every pixel is scaled by max / surface
// (its three channels alike: colours keep their ratios). Returns whether it was.
bool flatten_(uint8_t* rgb, const uint8_t* inside, int W, int H, int tile) {
  tile = std::max(8, tile);
  const int nx = std::max(1, W / tile), ny = std::max(1, H / tile);
  if (nx * ny < 9) return false;  // too few tiles for a quadratic
  std::vector<double> tx, ty, tv;
  std::vector<uint32_t> hist(256);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const int x0 = i * W / nx, x1 = (i + 1) * W / nx, y0 = j * H / ny, y1 = (j + 1) * H / ny;
      std::fill(hist.begin(), hist.end(), 0u);
      size_t n = 0;
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
          const size_t p = size_t(y) * W + x;
          if (!inside[p]) continue;
          ++hist[rgb[3 * p + 1]];
          ++n;
        }
      if (n * 4 < size_t(x1 - x0) * (y1 - y0)) continue;  // mostly outside the field of view
      size_t acc = 0;
      int v = 255;
      for (int k = 0; k < 256; ++k)
        if ((acc += hist[k]) * 100 >= n * 97) {
          v = k;
          break;
        }
      tx.push_back(2.0 * (x0 + x1) / (2.0 * W) - 1);
      ty.push_back(2.0 * (y0 + y1) / (2.0 * H) - 1);
      tv.push_back(v);
    }
  const size_t T = tv.size();
  if (T < 9) return false;
  auto basis = [](double x, double y, double* b) {
    b[0] = 1;
    b[1] = x;
    b[2] = y;
    b[3] = x * x;
    b[4] = x * y;
    b[5] = y * y;
  };
  double coef[6] = {0, 0, 0, 0, 0, 0};
  std::vector<double> w(T, 1.0), fit(T);
  std::vector<double> sorted(tv);
  std::sort(sorted.begin(), sorted.end());
  const double level = sorted[T / 2];
  for (int round = 0; round < 4; ++round) {
    double A[6][7] = {};
    for (size_t t = 0; t < T; ++t) {
      double b[6];
      basis(tx[t], ty[t], b);
      for (int r = 0; r < 6; ++r) {
        for (int c = 0; c < 6; ++c) A[r][c] += w[t] * b[r] * b[c];
        A[r][6] += w[t] * b[r] * tv[t];
      }
    }
    for (int r = 0; r < 6; ++r) A[r][r] += 1e-6 * (A[0][0] + 1);  // ridge: never singular
    for (int c = 0; c < 6; ++c) {  // Gaussian elimination with partial pivoting
      int piv = c;
      for (int r = c + 1; r < 6; ++r)
        if (std::fabs(A[r][c]) > std::fabs(A[piv][c])) piv = r;
      for (int k = 0; k < 7; ++k) std::swap(A[c][k], A[piv][k]);
      for (int r = 0; r < 6; ++r) {
        if (r == c) continue;
        const double m = A[r][c] / A[c][c];
        for (int k = c; k < 7; ++k) A[r][k] -= m * A[c][k];
      }
    }
    for (int r = 0; r < 6; ++r) coef[r] = A[r][6] / A[r][r];
    for (size_t t = 0; t < T; ++t) {
      double b[6];
      basis(tx[t], ty[t], b);
      fit[t] = 0;
      for (int k = 0; k < 6; ++k) fit[t] += coef[k] * b[k];
      w[t] = tv[t] >= fit[t] - 0.05 * level ? 1.0 : 0.05;
    }
  }
  const double hi = *std::max_element(fit.begin(), fit.end());
  const double lo = *std::min_element(fit.begin(), fit.end());
  // (a degenerate fit, e.g. tiles in one row, may not be finite: then no evening out)
  if (!std::isfinite(hi) || !std::isfinite(lo) || !(hi > 16) || (hi - lo) <= 0.08 * hi)
    return false;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t p = size_t(y) * W + x;
      if (!inside[p]) continue;
      double b[6], z = 0;
      basis(2.0 * (x + 0.5) / W - 1, 2.0 * (y + 0.5) / H - 1, b);
      for (int k = 0; k < 6; ++k) z += coef[k] * b[k];
      const double gain = hi / std::max(z, 0.3 * hi);
      for (int c = 0; c < 3; ++c)
        rgb[3 * p + c] = uint8_t(std::min(255.0, std::round(rgb[3 * p + c] * gain)));
    }
  return true;
}

// Foreground of a working-scale image: Otsu on the (blurred) green channel; then holes below
// max_hole px are filled when tiny (< tiny_hole px), when their colour is not the background's
// (a tinted centre), or when they are a cell's pale centre: with R > 0 (the cells' radius), rays
// from the hole's centroid leave the ring of foreground around it within ~1.3 R in most
// directions. A gap between packed cells is plasma and its rays cross whole neighbouring cells:
// it stays open, so that the cells around it stay apart. Components below min_area px dropped.
// Only pixels inside the field of view take part (inside: field_of_view_'s mask).
void foreground_(const float* g, const uint8_t* rgb, const uint8_t* inside, int W, int H,
                 float tiny_hole, float max_hole, float min_area, float R, const FieldOptions& opt,
                 std::vector<uint8_t>* fg, std::vector<int32_t>* seen, std::vector<int32_t>* stack,
                 std::vector<int32_t>* comp) {
  const size_t N = size_t(W) * H;
  float gap = 0, upper = 0;
  const int t = otsu_(g, N, &gap, inside, &upper);
  fg->resize(N);
  // Cells and plasma differ by 19-36 % of the plasma's green in the IML and Chula fields (after
  // the 3x3 blur; 24-77 green levels), also under-exposed. An over-exposed camera (the plasma
  // clipped white: IML fields x1.35, 8-10 %, 20-26 levels) or a washed-out one (contrast
  // halved: ~10 %) gives less, and still shows its cells. Below 7 % of it (and 8 levels) the
  // image has no cells, only noise or shading (docs/FIELD.md, step 3).
  const bool cells = gap >= std::max(kMinGreenGap_, kMinGreenGapShare_ * upper);
  for (size_t i = 0; i < N; ++i) (*fg)[i] = cells && inside[i] && g[i] <= t ? 1 : 0;
  std::vector<float> bgc[3], fgc[3];
  for (size_t i = 0; i < N; i += 5)
    for (int c = 0; c < 3 && inside[i]; ++c) ((*fg)[i] ? fgc : bgc)[c].push_back(rgb[3 * i + c]);
  float bg[3], D2 = 0;
  for (int c = 0; c < 3; ++c) {
    bg[c] = median_(bgc[c]);
    const float d = median_(fgc[c]) - bg[c];
    D2 += d * d;
  }
  std::vector<int32_t> fill_list;
  components_(
      fg->data(), 0, W, H, seen, stack, comp, [&](const std::vector<int32_t>& hole, bool border) {
        if (border || hole.size() >= max_hole) return;
        bool fill = hole.size() < tiny_hole || R <= 0;
        double m[3] = {0, 0, 0}, sx = 0, sy = 0;
        for (int p : hole) {
          for (int c = 0; c < 3; ++c) m[c] += rgb[3 * p + c];
          sx += p % W;
          sy += p / W;
        }
        if (!fill) {
          float d2 = 0;
          for (int c = 0; c < 3; ++c) {
            const float d = float(m[c] / hole.size()) - bg[c];
            d2 += d * d;
          }
          fill = d2 > 0.35f * 0.35f * D2;
        }
        if (!fill) {
          const float cx = float(sx / hole.size()), cy = float(sy / hole.size());
          constexpr int kRays = 16;
          float out[kRays];
          for (int k = 0; k < kRays; ++k) {
            const float a = 2.0f * float(M_PI) * k / kRays, dx = std::cos(a), dy = std::sin(a);
            bool in_ring = false;
            out[k] = 3 * R;
            for (float r = 0; r < 3 * R; r += 0.5f) {
              const int x = int(std::lround(cx + dx * r)), y = int(std::lround(cy + dy * r));
              if (x < 0 || y < 0 || x >= W || y >= H) {
                out[k] = r;
                break;
              }
              const bool f = (*fg)[size_t(y) * W + x];
              if (f)
                in_ring = true;
              else if (in_ring) {
                out[k] = r;
                break;
              }
            }
          }
          std::sort(out, out + kRays);
          fill =
              out[kRays / 2] <= opt.pallor_median * R && out[kRays * 4 / 5] <= opt.pallor_p80 * R;
        }
        if (fill) fill_list.insert(fill_list.end(), hole.begin(), hole.end());
      });
  for (int p : fill_list) (*fg)[p] = 1;
  components_(fg->data(), 1, W, H, seen, stack, comp, [&](const std::vector<int32_t>& c, bool) {
    if (c.size() < min_area)
      for (int p : c) (*fg)[p] = 0;
  });
}

// Elongation of a region: the ratio of its principal axes (square root of the ratio of the
// eigenvalues of its pixel positions' covariance). A disc is 1, a red cell seen at an angle up to
// ~1.3; two like discs of radius r with centres d apart about sqrt(1 + d^2/r^2): >= 1.4 once
// d >= r.
float elongation_(const std::vector<int32_t>& pix, int W) {
  if (pix.size() < 2) return 1;
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (int32_t p : pix) {
    const double x = p % W, y = p / W;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  const double n = double(pix.size()), mx = sx / n, my = sy / n;
  const double a = sxx / n - mx * mx, b = sxy / n - mx * my, c = syy / n - my * my;
  const double mid = 0.5 * (a + c), d = std::sqrt(0.25 * (a - c) * (a - c) + b * b);
  const double lo = mid - d, hi = mid + d;
  return lo > 1e-9 ? float(std::sqrt(hi / lo)) : 1e3f;
}

// area / convex hull area of a region (pixels as unit squares; Andrew's monotone chain over
// each row's two outer pixel corners).
float solidity_(const std::vector<int32_t>& pix, int W) {
  std::vector<std::pair<float, float>> pts;
  std::vector<int> lo, hi;
  int y0 = 1 << 30, y1 = -1;
  for (int32_t p : pix) {
    y0 = std::min(y0, p / W);
    y1 = std::max(y1, p / W);
  }
  if (y1 < y0) return 1;
  lo.assign(y1 - y0 + 1, 1 << 30);
  hi.assign(y1 - y0 + 1, -1);
  for (int32_t p : pix) {
    const int y = p / W - y0, x = p % W;
    lo[y] = std::min(lo[y], x);
    hi[y] = std::max(hi[y], x);
  }
  for (size_t y = 0; y < lo.size(); ++y) {
    if (hi[y] < 0) continue;
    const float yy = float(y + y0);
    pts.emplace_back(float(lo[y]), yy);
    pts.emplace_back(float(lo[y]), yy + 1);
    pts.emplace_back(float(hi[y] + 1), yy);
    pts.emplace_back(float(hi[y] + 1), yy + 1);
  }
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  if (pts.size() < 3) return 1;
  auto cross = [](const std::pair<float, float>& o, const std::pair<float, float>& a,
                  const std::pair<float, float>& b) {
    return (a.first - o.first) * (b.second - o.second) -
           (a.second - o.second) * (b.first - o.first);
  };
  std::vector<std::pair<float, float>> h(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], pts[i]) <= 0) --k;
    h[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(h[k - 2], h[k - 1], pts[i - 1]) <= 0) --k;
    h[k++] = pts[i - 1];
  }
  double area = 0;
  for (size_t i = 0; i + 1 < k; ++i)
    area += double(h[i].first) * h[i + 1].second - double(h[i + 1].first) * h[i].second;
  area = std::fabs(area) / 2;
  return area > 0 ? float(pix.size() / area) : 1.0f;
}

// True when (nearly) every pixel is grey (max - min channel <= 6): a greyscale image, or a
// colour one converted to grey. Sampled on a grid of about 64k pixels.
bool greyscale_(const uint8_t* px, int W, int H, int C) {
  const size_t n = size_t(W) * H, step = std::max<size_t>(1, n / 65536);
  size_t seen = 0, grey = 0;
  for (size_t i = 0; i < n; i += step) {
    const uint8_t* p = px + i * C;
    ++seen;
    grey += std::max(p[0], std::max(p[1], p[2])) - std::min(p[0], std::min(p[1], p[2])) <= 6;
  }
  return grey >= 0.95 * seen;
}

const char* const kGreyField =
    "a greyscale image: the model needs a colour (Giemsa-stained) field or cell image";

}  // namespace

const char* cell_status_name(int s) {
  switch (s) {
    case kCellCounted: return "counted";
    case kCellBorder: return "border";
    case kCellWhite: return "white";
    case kCellDebris: return "debris";
    case kCellClump: return "clump";
    default: return "unknown";
  }
}

const char* image_kind_name(int k) {
  return k == kKindCrop ? "cell" : k == kKindField ? "field" : "none";
}

void wilson95(int k, int n, double* lo, double* hi) {
  if (n <= 0) {  // nothing counted: nothing known
    *lo = 0;
    *hi = 1;
    return;
  }
  const double z = 1.959963984540054, p = double(k) / n, z2 = z * z;
  const double den = 1 + z2 / n;
  const double c = (p + z2 / (2 * n)) / den;
  const double h = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / den;
  *lo = std::max(0.0, c - h);
  *hi = std::min(1.0, c + h);
  if (k == 0) *lo = 0;
  if (k == n) *hi = 1;
}

bool CellFinder::find(const uint8_t* px, int W, int H, int C, const ImageLimits& lim, Field* f,
                      std::string* err, const FieldOptions& opt) {
  *f = Field{};
  f->width = W;
  f->height = H;
  if (!check_image_size(W, H, C, lim, err)) return false;
  if (W < 32 || H < 32) {
    return fail(err, [&] {
      return "image too small for a field: " + std::to_string(W) + "x" + std::to_string(H) +
             " (a field needs at least 32x32 pixels)";
    });
  }
  std::vector<uint32_t> colsum;
  std::vector<int32_t> seen, comp;

  // 1. the cells' radius, from a first pass at <= kEstimateSide a side; where that finds no cell
  // or only small ones (radius < 4 px there: a large image of small cells), once more at the
  // scale that shows a kMinCellDiameter cell 5 px across (the least radius measured is 2.5)
  float diameter = opt.cell_diameter;
  if (!(diameter > 0)) {
    float r0 = 0, s0 = std::min(1.0f, float(kEstimateSide) / std::max(W, H));
    size_t cells_seen = 0, view = 0;  // the discs or peaks r0 was measured on; pixels in view
    const float s_fine = std::min(1.0f, 5.0f / kMinCellDiameter);
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1) {
        if (r0 >= 4 || s0 >= s_fine) break;
        s0 = s_fine;
      }
      const int ew = std::max(1, int(std::lround(W * s0))),
                eh = std::max(1, int(std::lround(H * s0)));
      area_downscale_(px, W, H, C, ew, eh, &rgb_, &colsum);
      view = field_of_view_(rgb_.data(), ew, eh, size_t(ew) * eh / 200, &inside_, &fg_, &tmp_,
                            &seen, &stack_, &comp);
      flatten_(rgb_.data(), inside_.data(), ew, eh, std::max(ew, eh) / 6);
      g_.resize(size_t(ew) * eh);
      tmp_.resize(g_.size());
      dist_.resize(g_.size());
      for (size_t i = 0; i < g_.size(); ++i) tmp_[i] = rgb_[3 * i + 1];
      box3_(tmp_.data(), ew, eh, g_.data());
      foreground_(g_.data(), rgb_.data(), inside_.data(), ew, eh, 6.0f, 0.01f * ew * eh, 12.0f,
                  0.0f, opt, &fg_, &seen, &stack_, &comp);
      distance_transform_(fg_.data(), ew, eh, dist_.data());
      // components that are one disc (area <= 1.5 pi r^2, r their deepest distance) give the
      // radius sqrt(area / pi); dense fields still hold enough of them. Without any, the median
      // of the deeper half of the distance maxima.
      std::vector<float> discs, maxima;
      components_(fg_.data(), 1, ew, eh, &seen, &stack_, &comp,
                  [&](const std::vector<int32_t>& c, bool border) {
                    float r = 0;
                    for (int p : c) {
                      r = std::max(r, dist_[p]);
                      // cut by the field stop: next to a pixel outside the view
                      border = border || !inside_[p - 1] || !inside_[p + 1] || !inside_[p - ew] ||
                               !inside_[p + ew];
                    }
                    if (r >= 2.5f) maxima.push_back(r);
                    if (!border && r >= 2.5f && c.size() <= 1.5f * float(M_PI) * r * r)
                      discs.push_back(std::sqrt(c.size() / float(M_PI)));
                  });
      std::sort(maxima.begin(), maxima.end());
      r0 = 0;
      if (discs.size() >= 3)
        r0 = median_(discs), cells_seen = discs.size();
      else if (!maxima.empty()) {
        // a dense field (cells touching in large clumps): the distance transform's peaks, each
        // kept when no deeper one lies within 0.9x its depth (one per cell, as the markers below)
        std::vector<std::pair<float, int32_t>> peaks;
        for (int y = 1; y + 1 < eh; ++y)
          for (int x = 1; x + 1 < ew; ++x) {
            const size_t p = size_t(y) * ew + x;
            const float d = dist_[p];
            if (d < 2.5f) continue;
            bool peak = true;
            for (int dy = -1; dy <= 1 && peak; ++dy)
              for (int dx = -1; dx <= 1; ++dx)
                if ((dx || dy) && dist_[p + dy * ew + dx] > d) peak = false;
            if (peak) peaks.emplace_back(d, int32_t(p));
          }
        std::sort(peaks.begin(), peaks.end(), [](auto& a, auto& b) {
          return a.first > b.first || (a.first == b.first && a.second < b.second);
        });
        std::vector<float> kept;
        std::vector<int32_t> at;
        for (auto& pk : peaks) {
          const float r = 0.9f * pk.first;
          bool keep = true;
          for (int32_t q : at) {
            const float dx = float(q % ew - pk.second % ew), dy = float(q / ew - pk.second / ew);
            if (dx * dx + dy * dy < r * r) {
              keep = false;
              break;
            }
          }
          if (keep) {
            kept.push_back(pk.first);
            at.push_back(pk.second);
          }
        }
        r0 = kept.size() >= 3
                 ? median_(kept)
                 : median_(std::vector<float>(maxima.begin() + maxima.size() / 2, maxima.end()));
        cells_seen = kept.size();
      }
      diameter = r0 > 0 ? 2 * r0 / s0 : 0;
    }
    // nothing cell-like of kMinCellDiameter px or more: no cells (not a full-resolution search
    // of a blank or unrelated image); so too small blobs that are not a field of small cells
    // (fewer than kMinFieldCells, or covering under 10% of the view: a cut-out cell's texture,
    // specks), as classify_image_kind asks of a field
    const double covered = double(cells_seen) * M_PI * r0 * r0;  // estimate's pixels
    if (!(diameter > 0) || (diameter < kMinCellDiameter && (cells_seen < size_t(kMinFieldCells) ||
                                                            covered < 0.10 * double(view)))) {
      f->scale = s0;
      f->view_area = float(W) * float(H);
      return true;
    }
  }
  if (!(diameter >= kMinCellDiameter)) {
    return fail(err, [&] {
      return "the red cells are too small to classify: about " + std::to_string(int(diameter)) +
             " px across (at least " + std::to_string(int(kMinCellDiameter)) +
             " px are needed: a higher magnification or camera resolution)";
    });
  }

  // 2. the working scale: a cell ~2*kWorkRadius px across (cells smaller than that are enlarged,
  // so that every rule below sees cells of one size), the working image at most kMaxWorkPixels
  const float s = 2.0f * kWorkRadius / diameter;
  const int ww = std::max(1, int(std::lround(W * s))), wh = std::max(1, int(std::lround(H * s)));
  if (double(ww) * wh > double(kMaxWorkPixels)) {
    return fail(err, [&] {
      return "the field is too large to search at its cells' size: " + std::to_string(W) + "x" +
             std::to_string(H) + " px with red cells about " +
             std::to_string(int(std::lround(diameter))) + " px across (at most " +
             std::to_string(kMaxWorkPixels / 1000000) + " megapixels at " +
             std::to_string(2 * kWorkRadius) + " px a cell: crop the image)";
    });
  }
  f->scale = s;
  f->work_w = ww;
  f->work_h = wh;
  const size_t N = size_t(ww) * wh;
  area_downscale_(px, W, H, C, ww, wh, &rgb_, &colsum);
  const size_t in_view =
      field_of_view_(rgb_.data(), ww, wh, N / 200, &inside_, &fg_, &tmp_, &seen, &stack_, &comp);
  f->view_area = float(in_view) / (s * s);
  f->flattened = flatten_(rgb_.data(), inside_.data(), ww, wh,
                          std::min(6 * kWorkRadius, std::min(ww, wh) / 4));
  g_.resize(N);
  tmp_.resize(N);
  dist_.resize(N);
  for (size_t i = 0; i < N; ++i) tmp_[i] = rgb_[3 * i + 1];
  box3_(tmp_.data(), ww, wh, g_.data());
  const float R = kWorkRadius, cell_area = float(M_PI) * R * R;
  foreground_(g_.data(), rgb_.data(), inside_.data(), ww, wh, 0.03f * cell_area, 0.6f * cell_area,
              0.15f * cell_area, R, opt, &fg_, &seen, &stack_, &comp);
  const int t = otsu_(g_.data(), N, nullptr, inside_.data());

  // 3. markers
  distance_transform_(fg_.data(), ww, wh, tmp_.data());
  box3_(tmp_.data(), ww, wh, dist_.data());
  box3_(dist_.data(), ww, wh, tmp_.data());
  std::swap(dist_, tmp_);  // dist_: the twice-blurred distance
  std::vector<std::pair<float, int32_t>> cand;
  for (int y = 0; y < wh; ++y)
    for (int x = 0; x < ww; ++x) {
      const size_t p = size_t(y) * ww + x;
      const float d = dist_[p];
      if (!fg_[p] || d < 0.3f * R) continue;
      bool peak = true;
      for (int dy = -1; dy <= 1 && peak; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if ((dx || dy) && yy >= 0 && xx >= 0 && yy < wh && xx < ww &&
              dist_[size_t(yy) * ww + xx] > d) {
            peak = false;
            break;
          }
        }
      if (peak) cand.emplace_back(d, int32_t(p));
    }
  std::sort(cand.begin(), cand.end(), [](auto& a, auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  std::vector<int32_t> markers;
  for (auto& c : cand) {
    const float cx = float(c.second % ww), cy = float(c.second / ww);
    const float r = opt.marker_suppress * c.first;
    bool keep = true;
    for (int32_t m : markers) {
      const float dx = float(m % ww) - cx, dy = float(m / ww) - cy;
      if (dx * dx + dy * dy < r * r) {
        keep = false;
        break;
      }
    }
    if (keep) markers.push_back(c.second);
  }

  // 4. watershed by priority flood from the markers over the foreground: a bucket queue on
  // the distance quantised to 1/4 px (first in, first out within a bucket)
  std::vector<int32_t>& lab = f->labels;
  lab.assign(N, 0);
  constexpr int kLevels = 1024;
  auto level = [&](int32_t p) { return std::min(kLevels - 1, int(dist_[p] * 4.0f)); };
  std::vector<std::vector<int32_t>> bucket(kLevels);
  std::vector<size_t> head(kLevels, 0);
  int cur = -1, nlab = 0;
  auto push = [&](int32_t p) {
    const int l = level(p);
    bucket[l].push_back(p);
    cur = std::max(cur, l);
  };
  for (int32_t m : markers) {
    lab[m] = ++nlab;
    push(m);
  }
  while (cur >= 0) {
    if (head[cur] == bucket[cur].size()) {
      --cur;
      continue;
    }
    const int32_t p = bucket[cur][head[cur]++];
    const int x = p % ww, y = p / ww;
    const int32_t nb[4] = {x > 0 ? p - 1 : -1, x < ww - 1 ? p + 1 : -1, y > 0 ? p - ww : -1,
                           y < wh - 1 ? p + ww : -1};
    for (int32_t q : nb)
      if (q >= 0 && fg_[q] && !lab[q]) {
        lab[q] = lab[p];
        push(q);
      }
  }
  // foreground components that held no marker (thin or small) become regions of their own
  {
    std::vector<uint8_t> un(N);
    for (size_t i = 0; i < N; ++i) un[i] = fg_[i] && !lab[i];
    components_(un.data(), 1, ww, wh, &seen, &stack_, &comp,
                [&](const std::vector<int32_t>& c, bool) {
                  ++nlab;
                  for (int p : c) lab[p] = nlab;
                });
  }

  // 5. regions
  struct Acc {
    int64_t n = 0, sx = 0, sy = 0, dark = 0;
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
    bool border = false;
  };
  std::vector<Acc> acc;
  // dark purple (nucleus) pixels: green well below the foreground's typical green, and blue
  // above green (Giemsa's chromatin stain)
  std::vector<float> fg_green;
  for (size_t i = 0; i < N; i += 3)
    if (fg_[i]) fg_green.push_back(g_[i]);
  const float gmed = median_(fg_green);
  const float dark_g = std::max(0.0f, gmed - 0.55f * (float(t) - gmed) - 0.22f * gmed);
  auto accumulate = [&]() {
    acc.assign(nlab + 1, Acc{});
    for (int y = 0; y < wh; ++y)
      for (int x = 0; x < ww; ++x) {
        const size_t p = size_t(y) * ww + x;
        const int l = lab[p];
        if (!l) continue;
        Acc& a = acc[l];
        ++a.n;
        a.sx += x;
        a.sy += y;
        a.x0 = std::min(a.x0, x);
        a.y0 = std::min(a.y0, y);
        a.x1 = std::max(a.x1, x);
        a.y1 = std::max(a.y1, y);
        // cut by the image's edge, or by the field stop's (next to a pixel outside the view)
        if (x == 0 || y == 0 || x == ww - 1 || y == wh - 1 || !inside_[p - 1] || !inside_[p + 1] ||
            !inside_[p - ww] || !inside_[p + ww])
          a.border = true;
        if (g_[p] < dark_g && rgb_[3 * p + 2] > rgb_[3 * p + 1] + 8) ++a.dark;
      }
  };
  auto median_area = [&]() {
    std::vector<float> areas;
    for (int l = 1; l <= nlab; ++l)
      if (acc[l].n > 0.35f * cell_area && acc[l].n < 3.0f * cell_area && !acc[l].border)
        areas.push_back(float(acc[l].n));
    return areas.empty() ? cell_area : median_(areas);
  };
  accumulate();
  float amed = median_area();
  // 5a. clumps of overlapping cells that the watershed left whole (no neck between them): a
  // region of >= 1.5 median cells that is not convex (solidity < 0.9) or is elongated (two
  // overlapping cells, elongation >= 1.4) and mostly pale, or of >= 2.6, is split into k =
  // round(area / median) cells by k-means on its pixels' positions, seeded at its deepest points. A
  // single enlarged (infected) cell is convex and round and stays whole. Clumps cut by the border
  // or the field stop are split too: their pieces that do not touch it are whole cells.
  {
    std::vector<std::vector<int32_t>> pix(nlab + 1);
    for (size_t p = 0; p < N; ++p)
      if (lab[p]) pix[lab[p]].push_back(int32_t(p));
    const int nlab0 = nlab;
    for (int l = 1; l <= nlab0; ++l) {
      const Acc& a = acc[l];
      if (a.n < 1.5f * amed || a.dark >= 0.6f * amed) continue;
      const int k = std::max(2, int(std::lround(a.n / amed)));
      // (elongated: only without a large dark-purple area, which may be a white cell's nucleus
      // just under the white rule's 60%)
      const bool pair = a.dark < 0.2f * amed && elongation_(pix[l], ww) >= 1.4f;
      if (a.n < 2.6f * amed && solidity_(pix[l], ww) >= 0.9f && !pair) continue;
      if (k > 16) continue;  // a smear too thick to count here: left as one clump
      std::vector<float> cx, cy;
      for (int j = 0; j < k; ++j) {  // farthest-point seeds among the deep pixels
        float best = -1;
        int bp = -1;
        for (int32_t p : pix[l]) {
          const float px_ = float(p % ww), py_ = float(p / ww);
          float dmin = 1e30f;
          for (int q = 0; q < j; ++q)
            dmin = std::min(dmin, (px_ - cx[q]) * (px_ - cx[q]) + (py_ - cy[q]) * (py_ - cy[q]));
          const float score = j ? std::sqrt(dmin) * (dist_[p] > 0.4f * R ? 1.0f : 0.25f) : dist_[p];
          if (score > best) {
            best = score;
            bp = p;
          }
        }
        cx.push_back(float(bp % ww));
        cy.push_back(float(bp / ww));
      }
      std::vector<int> assign(pix[l].size());
      for (int it = 0; it < 10; ++it) {
        std::vector<double> sx(k, 0), sy(k, 0), sn(k, 0);
        for (size_t i = 0; i < pix[l].size(); ++i) {
          const float px_ = float(pix[l][i] % ww), py_ = float(pix[l][i] / ww);
          int bj = 0;
          float bd = 1e30f;
          for (int j = 0; j < k; ++j) {
            const float d = (px_ - cx[j]) * (px_ - cx[j]) + (py_ - cy[j]) * (py_ - cy[j]);
            if (d < bd) {
              bd = d;
              bj = j;
            }
          }
          assign[i] = bj;
          sx[bj] += px_;
          sy[bj] += py_;
          sn[bj] += 1;
        }
        for (int j = 0; j < k; ++j)
          if (sn[j] > 0) {
            cx[j] = float(sx[j] / sn[j]);
            cy[j] = float(sy[j] / sn[j]);
          }
      }
      const int base = nlab;
      nlab += k - 1;
      for (size_t i = 0; i < pix[l].size(); ++i) lab[pix[l][i]] = assign[i] ? base + assign[i] : l;
    }
    if (nlab != nlab0) {
      accumulate();
      amed = median_area();
    }
  }

  // 5b. a white cell's lobed nucleus may be cut into touching regions by the watershed, each under
  // the white rule's 60%: touching regions that are each mostly dark purple (>= 40% of their
  // pixels) are one nucleus, judged together. (An infected red cell next to a white cell's
  // nucleus would be taken with it: rare, and left out rather than miscounted.)
  std::vector<int> group(nlab + 1);
  for (int l = 0; l <= nlab; ++l) group[l] = l;
  auto root = [&](int l) {
    while (group[l] != l) l = group[l] = group[group[l]];
    return l;
  };
  auto nuclear = [&](int l) { return l > 0 && acc[l].dark >= 0.4f * acc[l].n; };
  for (int y = 0; y < wh; ++y)
    for (int x = 0; x < ww; ++x) {
      const int l = lab[size_t(y) * ww + x];
      if (!nuclear(l)) continue;
      const int right = x + 1 < ww ? lab[size_t(y) * ww + x + 1] : 0;
      const int down = y + 1 < wh ? lab[size_t(y + 1) * ww + x] : 0;
      for (int m : {right, down})
        if (m != l && nuclear(m)) group[root(m)] = root(l);
    }
  std::vector<int64_t> group_dark(nlab + 1, 0);
  for (int l = 1; l <= nlab; ++l)
    if (nuclear(l)) group_dark[root(l)] += acc[l].dark;
  auto white = [&](int l) {
    return acc[l].dark >= 0.6f * amed || (nuclear(l) && group_dark[root(l)] >= 0.6f * amed);
  };

  std::vector<int> index_of(nlab + 1, -1);
  const float inv = 1.0f / s;
  for (int l = 1; l <= nlab; ++l) {
    const Acc& a = acc[l];
    if (a.n == 0) continue;
    FieldCell c;
    if (a.border)
      c.status = kCellBorder;
    else if (white(l))
      c.status = kCellWhite;
    else if (a.n < 0.35f * amed)
      c.status = kCellDebris;
    else if (a.n > 2.6f * amed)
      c.status = kCellClump;
    c.x = std::max(0, int(std::floor(a.x0 * inv)));
    c.y = std::max(0, int(std::floor(a.y0 * inv)));
    c.w = std::min(W, int(std::ceil((a.x1 + 1) * inv))) - c.x;
    c.h = std::min(H, int(std::ceil((a.y1 + 1) * inv))) - c.y;
    const float mx = float(a.sx) / a.n, my = float(a.sy) / a.n;
    c.cx = (mx + 0.5f) * inv;
    c.cy = (my + 0.5f) * inv;
    c.area = a.n * inv * inv;
    for (int k = 0; k < kOutlinePoints; ++k) {
      const float ang = 2.0f * float(M_PI) * k / kOutlinePoints;
      const float dx = std::cos(ang), dy = std::sin(ang);
      float last = 0;
      for (float r = 0; r < 6 * R; r += 0.5f) {
        const int xx = int(std::lround(mx + dx * r)), yy = int(std::lround(my + dy * r));
        if (xx < 0 || yy < 0 || xx >= ww || yy >= wh) break;
        if (lab[size_t(yy) * ww + xx] == l)
          last = r;
        else if (r > last + 2)
          break;
      }
      c.outline[2 * k] = std::min(float(W), std::max(0.0f, (mx + 0.5f + dx * (last + 0.5f)) * inv));
      c.outline[2 * k + 1] =
          std::min(float(H), std::max(0.0f, (my + 0.5f + dy * (last + 0.5f)) * inv));
    }
    index_of[l] = int(f->cells.size());
    f->cells.push_back(c);
  }
  for (auto& v : lab) v = v ? index_of[v] + 1 : 0;

  // counts, the counted cells' colour, the background's
  std::vector<float> dia;
  for (const FieldCell& c : f->cells) {
    switch (c.status) {
      case kCellCounted:
        ++f->counted;
        dia.push_back(2 * std::sqrt(c.area / float(M_PI)));
        break;
      case kCellBorder: ++f->border; break;
      case kCellWhite: ++f->white; break;
      case kCellDebris: ++f->debris; break;
      default: ++f->clump; break;
    }
  }
  f->cell_diameter = dia.empty() ? diameter : median_(dia);
  double s1[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
  int64_t n = 0;
  std::vector<float> bg[3];
  for (size_t p = 0; p < N; ++p) {
    const int l = lab[p];
    if (l && f->cells[l - 1].status == kCellCounted) {
      for (int c = 0; c < 3; ++c) {
        const double v = rgb_[3 * p + c];
        s1[c] += v;
        s2[c] += v * v;
      }
      ++n;
    } else if (!fg_[p] && inside_[p] && (p % 7) == 0) {
      for (int c = 0; c < 3; ++c) bg[c].push_back(rgb_[3 * p + c]);
    }
  }
  for (int c = 0; c < 3; ++c) {
    if (n) {
      f->cell_mean[c] = float(s1[c] / n);
      f->cell_std[c] = float(std::sqrt(std::max(1.0, s2[c] / n - (s1[c] / n) * (s1[c] / n))));
    }
    f->background[c] = median_(bg[c]);
  }
  return true;
}

void CellFinder::crop(const uint8_t* px, int W, int H, int C, const Field& f, size_t i,
                      std::vector<uint8_t>* rgb, int* w, int* h, const FieldOptions& opt) const {
  const FieldCell& c = f.cells[i];
  *w = c.w;
  *h = c.h;
  rgb->assign(size_t(c.w) * c.h * 3, 0);
  float gain[3], off[3];
  for (int k = 0; k < 3; ++k) {
    if (opt.normalize_colour && f.counted > 0) {
      gain[k] = std::min(2.5f, std::max(0.4f, opt.ref_std[k] / f.cell_std[k]));
      off[k] = opt.ref_mean[k] - f.cell_mean[k] * gain[k];
    } else {
      gain[k] = 1;
      off[k] = 0;
    }
  }
  const int32_t id = int32_t(i) + 1;
  // the region at the working scale, in its box (+1 px), opened by a disk of radius r
  const int r = opt.mask_opening;
  const int bx0 = std::max(0, int(c.x * f.scale) - 1);
  const int by0 = std::max(0, int(c.y * f.scale) - 1);
  const int bx1 = std::min(f.work_w, int((c.x + c.w) * f.scale) + 2);
  const int by1 = std::min(f.work_h, int((c.y + c.h) * f.scale) + 2);
  const int bw = bx1 - bx0, bh = by1 - by0;
  std::vector<uint8_t> in(size_t(bw) * bh), opened;
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x)
      in[size_t(y) * bw + x] = f.labels[size_t(by0 + y) * f.work_w + bx0 + x] == id;
  if (r > 0) {
    std::vector<std::pair<int, int>> disk;
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx)
        if (dx * dx + dy * dy <= r * r + r) disk.push_back({dx, dy});
    std::vector<uint8_t> er(in.size(), 0);
    for (int y = 0; y < bh; ++y)
      for (int x = 0; x < bw; ++x) {
        bool all = in[size_t(y) * bw + x];
        for (size_t k = 0; all && k < disk.size(); ++k) {
          const int xx = x + disk[k].first, yy = y + disk[k].second;
          all = xx >= 0 && yy >= 0 && xx < bw && yy < bh && in[size_t(yy) * bw + xx];
        }
        er[size_t(y) * bw + x] = all;
      }
    opened.assign(in.size(), 0);
    for (int y = 0; y < bh; ++y)
      for (int x = 0; x < bw; ++x) {
        if (!er[size_t(y) * bw + x]) continue;
        for (const auto& d : disk) {
          const int xx = x + d.first, yy = y + d.second;
          if (xx >= 0 && yy >= 0 && xx < bw && yy < bh) opened[size_t(yy) * bw + xx] = 1;
        }
      }
    bool any = false;
    for (size_t k = 0; k < in.size(); ++k) any |= (opened[k] &= in[k]) != 0;
    if (!any) opened.clear();  // a region thinner than the disk: kept as it is
  }
  const std::vector<uint8_t>& keep = opened.empty() ? in : opened;
  for (int y = 0; y < c.h; ++y) {
    const int iy = c.y + y;
    const int wy = std::min(f.work_h - 1, int((iy + 0.5f) * f.scale));
    for (int x = 0; x < c.w; ++x) {
      const int ix = c.x + x;
      const int wx = std::min(f.work_w - 1, int((ix + 0.5f) * f.scale));
      if (wx < bx0 || wy < by0 || wx >= bx1 || wy >= by1) continue;
      if (!keep[size_t(wy - by0) * bw + (wx - bx0)]) continue;
      const uint8_t* p = px + (size_t(iy) * W + ix) * C;
      uint8_t* o = rgb->data() + (size_t(y) * c.w + x) * 3;
      for (int k = 0; k < 3; ++k)
        o[k] = uint8_t(std::min(255.0f, std::max(1.0f, std::round(p[k] * gain[k] + off[k]))));
    }
  }
  (void)H;
}

bool find_field(CellFinder* finder, const uint8_t* px, int W, int H, int C, const ImageLimits& lim,
                Field* out, std::string* err, const FieldOptions& opt, Field* found) {
  if (check_image_size(W, H, C, lim, nullptr) && greyscale_(px, W, H, C))
    return fail(err, kGreyField);
  // (a find that failed leaves no working scale: it is not reused)
  if (found && found->width == W && found->height == H && found->work_w > 0) {
    *out = std::move(*found);
    return true;
  }
  return finder->find(px, W, H, C, lim, out, err, opt);
}

bool classify_field(Engine* e, CellFinder* finder, const uint8_t* px, int W, int H, int C,
                    const ImageLimits& lim, FieldReport* out, std::string* err,
                    const FieldOptions& opt, Field* found) {
  *out = FieldReport{};
  if (!find_field(finder, px, W, H, C, lim, &out->field, err, opt, found)) return false;
  const Field& f = out->field;
  out->predictions.assign(f.cells.size(), Prediction{});
  std::vector<size_t> todo;
  for (size_t i = 0; i < f.cells.size(); ++i)
    if (f.cells[i].status == kCellCounted) todo.push_back(i);
  const int cap = std::max(1, e->batch_capacity());
  std::vector<std::vector<uint8_t>> crops(cap);
  std::vector<const uint8_t*> ptr(cap);
  std::vector<int> ws(cap), hs(cap);
  std::vector<Prediction> pred(cap);
  std::vector<std::string> errs(cap);
  for (size_t at = 0; at < todo.size(); at += cap) {
    const int n = int(std::min<size_t>(cap, todo.size() - at));
    for (int k = 0; k < n; ++k) {
      finder->crop(px, W, H, C, f, todo[at + k], &crops[k], &ws[k], &hs[k], opt);
      errs[k].clear();
      ptr[k] = crops[k].data();
    }
    if (e->classify_batch(n, ptr.data(), ws.data(), hs.data(), 3, pred.data(), errs.data(), err) <
        0)
      return false;
    for (int k = 0; k < n; ++k) {
      if (!errs[k].empty()) return fail(err, errs[k]);
      out->predictions[todo[at + k]] = pred[k];
      out->parasitized += pred[k].band == kBandParasitized;
      out->uncertain += pred[k].band == kBandUncertain;
    }
  }
  const int counted = f.counted;
  out->parasitemia = counted ? double(out->parasitized) / counted : 0;
  wilson95(out->parasitized, counted, &out->ci95[0], &out->ci95[1]);
  return true;
}

bool looks_like_cell_crop(const uint8_t* px, int W, int H, int C, std::string* why) {
  if (W < 24 || H < 24)
    return fail(why, [&] {
      return "too small for a cell crop (" + std::to_string(W) + "x" + std::to_string(H) +
             "; a cell crop is at least 24x24 pixels)";
    });
  const double aspect = double(std::max(W, H)) / std::min(W, H);
  if (aspect > 2.5)
    return fail(why, [&] {
      return "too elongated for a single cell (" + std::to_string(W) + "x" + std::to_string(H) +
             ")";
    });
  // statistics of the non-black pixels (the cell; the crop's surround is black)
  int64_t n = 0, grey = 0;
  double s[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
  for (size_t i = 0; i < size_t(W) * H; ++i) {
    const uint8_t* p = px + i * C;
    const int mx = std::max(p[0], std::max(p[1], p[2])), mn = std::min(p[0], std::min(p[1], p[2]));
    if (mx <= 12) continue;
    ++n;
    if (mx - mn <= 6) ++grey;
    for (int c = 0; c < 3; ++c) {
      s[c] += p[c];
      s2[c] += double(p[c]) * p[c];
    }
  }
  if (n < 0.2 * W * H) return fail(why, "mostly black: no cell in it");
  if (grey > 0.9 * n)
    return fail(why, "a greyscale image: the model needs a colour (Giemsa-stained) cell image");
  double sd = 0;
  for (int c = 0; c < 3; ++c) sd += std::sqrt(std::max(0.0, s2[c] / n - (s[c] / n) * (s[c] / n)));
  if (sd / 3 < 2.0) return fail(why, "a single flat colour, not a cell");
  // neighbouring pixels of a cell photo are alike; noise is not
  double diff = 0;
  int64_t m = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x + 1 < W; ++x) {
      const uint8_t* p = px + (size_t(y) * W + x) * C;
      const uint8_t* q = p + C;
      if (std::max(p[0], std::max(p[1], p[2])) <= 12 || std::max(q[0], std::max(q[1], q[2])) <= 12)
        continue;
      diff += std::abs(int(p[1]) - int(q[1]));
      ++m;
    }
  if (m && diff / m > 0.6 * (sd / 3) + 12) return fail(why, "looks like noise, not a cell photo");
  // the form of the training set (NIH cell_images) and of this tool's field crops: one cell
  // cut out on black, filling its box. A photo, a field or a crop of several cells has no
  // black surround; several cells on black are several components.
  int64_t edge = 0, black = 0;
  auto dark = [&](int x, int y) {
    const uint8_t* p = px + (size_t(y) * W + x) * C;
    return std::max(p[0], std::max(p[1], p[2])) <= 12;
  };
  for (int x = 0; x < W; ++x) {
    edge += 2;
    black += dark(x, 0) + dark(x, H - 1);
  }
  for (int y = 1; y + 1 < H; ++y) {
    edge += 2;
    black += dark(0, y) + dark(W - 1, y);
  }
  if (black < 0.25 * edge)
    return fail(why,
                "not a cell cut out on a black surround (the form of the NIH cell images and of "
                "this tool's field crops); for a photo of a whole field use field mode");
  std::vector<uint8_t> on(size_t(W) * H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) on[size_t(y) * W + x] = !dark(x, y);
  std::vector<int32_t> seen, stack, comp;
  size_t biggest = 0;
  int bx0 = 0, by0 = 0, bx1 = -1, by1 = -1;
  components_(on.data(), 1, W, H, &seen, &stack, &comp, [&](const std::vector<int32_t>& c, bool) {
    if (c.size() <= biggest) return;
    biggest = c.size();
    bx0 = W;
    by0 = H;
    bx1 = -1;
    by1 = -1;
    for (int p : c) {
      bx0 = std::min(bx0, p % W);
      bx1 = std::max(bx1, p % W);
      by0 = std::min(by0, p / W);
      by1 = std::max(by1, p / W);
    }
  });
  if (biggest < 0.85 * n)
    return fail(why, "several separate objects on the black surround, not one cell");
  if (bx1 - bx0 + 1 < 0.75 * W || by1 - by0 + 1 < 0.75 * H)
    return fail(why, "the object does not fill its crop as a cut-out cell does");
  // Giemsa-stained red cells are pink to purple-grey: red and blue at least as strong as green
  // (orange, yellow, green or blue objects are not), nearly every pixel so, and bright
  int64_t off = 0;
  double bright = 0;
  for (size_t i = 0; i < size_t(W) * H; ++i) {
    const uint8_t* p = px + i * C;
    const int mx = std::max(p[0], std::max(p[1], p[2]));
    if (mx <= 12) continue;
    bright += mx;
    if (p[1] > p[0] + 15 || p[1] > p[2] + 25 || p[2] > p[0] + 60) ++off;
  }
  if (bright / n < 60) return fail(why, "too dark for a cell photographed in bright field");
  if (s[1] > s[0] + 0.03 * n * 255 || s[1] > s[2] + 0.06 * n * 255 || off > 0.10 * n)
    return fail(why, "its colours are not those of a Giemsa-stained red cell");
  return true;
}

int classify_image_kind(const uint8_t* px, int W, int H, int C, const ImageLimits& lim,
                        CellFinder* finder, Field* f, std::string* why, const FieldOptions& opt) {
  if (!check_image_size(W, H, C, lim, why)) return kKindNone;
  // the black surround of a cut-out cell: share of the outermost pixels that are black
  int64_t edge = 0, black = 0;
  auto look = [&](int x, int y) {
    const uint8_t* p = px + (size_t(y) * W + x) * C;
    ++edge;
    if (std::max(p[0], std::max(p[1], p[2])) <= 12) ++black;
  };
  for (int x = 0; x < W; ++x) {
    look(x, 0);
    look(x, H - 1);
  }
  for (int y = 1; y + 1 < H; ++y) {
    look(0, y);
    look(W - 1, y);
  }
  const int side = std::max(W, H);
  if (side <= kMaxCropSide) return kKindCrop;
  // a black surround: a cut-out cell, unless it is a small photo through the eyepiece (a round
  // field of view in black) in which the finder counts a field
  const bool surround = black >= 0.4 * edge && side <= 2 * kMaxCropSide;
  if (greyscale_(px, W, H, C)) {
    if (surround) return kKindCrop;
    fail(why, kGreyField);
    return kKindNone;
  }
  std::string err;
  if (!finder->find(px, W, H, C, lim, f, &err, opt)) {
    if (surround) return kKindCrop;
    fail(why, err);
    return kKindNone;
  }
  double covered = 0;
  std::vector<float> areas;
  for (const FieldCell& c : f->cells)
    if (c.status == kCellCounted) {
      covered += c.area;
      areas.push_back(c.area);
    }
  double mean = 0, var = 0;
  for (float a : areas) mean += a;
  mean /= std::max<size_t>(1, areas.size());
  for (float a : areas) var += (a - mean) * (a - mean);
  const double cv = areas.size() > 1 ? std::sqrt(var / (areas.size() - 1)) / mean : 1e9;
  if (f->counted < kMinFieldCells || covered < 0.10 * double(f->view_area) || cv > 0.6) {
    if (surround) return kKindCrop;
    fail(why, [&] {
      return "not a blood-smear image: " + std::to_string(f->counted) +
             " red-cell-like regions (a field needs " + std::to_string(kMinFieldCells) +
             "+ cells of like size, " + std::to_string(int(kMinCellDiameter)) +
             "+ px across, covering 10%+ of the image)";
    });
    return kKindNone;
  }
  // red cells in transmitted light let most of it through: the counted cells' mean green is
  // 59-77 % of the plasma's on the IML and Chula fields (a night sky's "cells" are black)
  const float transmitted = f->background[1] > 0 ? f->cell_mean[1] / f->background[1] : 0.0f;
  if (!(transmitted >= kMinCellTransmission)) {
    if (surround) return kKindCrop;
    fail(why, [&] {
      return "not a blood-smear image: its " + std::to_string(f->counted) +
             " cell-like regions are too dark for red cells in transmitted light (green " +
             std::to_string(int(std::lround(100 * transmitted))) +
             "% of the background's; a field's red cells: >= " +
             std::to_string(int(std::lround(100 * kMinCellTransmission))) + "%)";
    });
    return kKindNone;
  }
  // the red cells of a stained smear look alike: over all counted cells' pixels each channel's
  // standard deviation is 6-20 levels on the IML and Chula fields, 27-89 in the natural photos
  // whose regions pass the rules above (model/gate_eval.py's set)
  const float sd = std::max(f->cell_std[0], std::max(f->cell_std[1], f->cell_std[2]));
  if (sd > kMaxCellColourSd) {
    if (surround) return kKindCrop;
    fail(why, [&] {
      return "not a blood-smear image: its " + std::to_string(f->counted) +
             " cell-like regions vary in colour as stained red cells do not (SD " +
             std::to_string(int(std::lround(sd))) +
             " levels; a field's red cells: <= " + std::to_string(int(kMaxCellColourSd)) + ")";
    });
    return kKindNone;
  }
  return kKindField;
}

}  // namespace mc
