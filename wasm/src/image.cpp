// image.cpp -- PNG/JPEG/BMP decoding through stb_image, PNG writing through stb_image_write.
// Native only (see image.h).
#ifndef __EMSCRIPTEN__
#include "image.h"

#include <cerrno>
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

// stb, private to this translation unit (static linkage: no clash with other users of stb).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO          // we read files ourselves, with a size cap
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace mc {

namespace {

struct StbiFree_ {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

struct FileClose_ {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

void set_err_(std::string* err, const std::string& msg) {
  if (err) *err = msg;
}

uint32_t be32_(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint32_t le32_(const uint8_t* p) {
  return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0];
}

// The dimensions a PNG / BMP / JPEG header announces, without decoding anything. Used only
// to explain why stb refused a file (stb's own info call refuses oversized images without
// saying so). Returns false if no dimensions could be found.
bool peek_dimensions_(const uint8_t* d, size_t n, int64_t* w, int64_t* h) {
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 24 && std::memcmp(d, png_sig, 8) == 0 && std::memcmp(d + 12, "IHDR", 4) == 0) {
    *w = be32_(d + 16);
    *h = be32_(d + 20);
    return true;
  }
  if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
    *w = static_cast<int32_t>(le32_(d + 18));
    const int32_t hh = static_cast<int32_t>(le32_(d + 22));   // negative: top-down rows
    *h = hh < 0 ? -static_cast<int64_t>(hh) : hh;
    return true;
  }
  if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {   // JPEG: walk the segments to a SOFn
    size_t i = 2;
    while (i + 9 < n) {
      if (d[i] != 0xFF) return false;
      const uint8_t m = d[i + 1];
      if (m == 0xFF) { ++i; continue; }
      const size_t len = (size_t(d[i + 2]) << 8) | d[i + 3];
      if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
        *h = (int64_t(d[i + 5]) << 8) | d[i + 6];
        *w = (int64_t(d[i + 7]) << 8) | d[i + 8];
        return true;
      }
      if (len < 2) return false;
      i += 2 + len;
    }
  }
  return false;
}

// stb_image 2.27 (the Debian package) has known memory-safety bugs on crafted JPEGs, fixed
// upstream in 2.28 (nothings/stb #1289, #1291, #1178): a Huffman table whose code counts add up
// to more than 256 (out-of-bounds write), a scan using a Huffman table never defined
// (uninitialised table), and sampling factors that do not divide the maximum (heap overflow in
// upsampling). Our own fuzzing hit the first one. This walk refuses such files before stb sees
// them. It follows the segments the way stb does (fill bytes, entropy-coded data up to the next
// non-RST marker); missing bytes of a truncated segment count as 0, as in stb.
bool jpeg_structure_ok_(const uint8_t* d, size_t n, std::string* why) {
  auto at = [&](size_t i) -> unsigned { return i < n ? d[i] : 0u; };
  bool dc_def[4] = {false, false, false, false}, ac_def[4] = {false, false, false, false};
  size_t i = 2;   // after SOI
  while (i < n) {
    if (d[i] != 0xFF) {   // stray bytes between segments: stb skips them to the next marker
      ++i;
      continue;
    }
    while (i < n && d[i] == 0xFF) ++i;   // fill bytes
    if (i >= n) return true;
    const unsigned m = d[i++];
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;   // no length
    if (m == 0xD9) return true;                                          // EOI
    const size_t L = (size_t(at(i)) << 8) | at(i + 1);
    if (L < 2) return true;   // stb: bad length
    const size_t s = i + 2, e = i + L;   // segment payload [s, e), may extend past n
    if (m == 0xC4) {   // DHT
      size_t p = s;
      while (p < e && p < n) {
        const unsigned tc = at(p) >> 4, th = at(p) & 15;
        if (tc > 1 || th > 3) {
          *why = "corrupt JPEG (bad Huffman table header)";
          return false;
        }
        size_t sum = 0;
        for (int k = 0; k < 16; ++k) sum += at(p + 1 + k);
        if (sum > 256) {
          *why = "corrupt JPEG (Huffman table with more than 256 codes)";
          return false;
        }
        (tc == 0 ? dc_def : ac_def)[th] = true;
        p += 17 + sum;
      }
    } else if (m == 0xC0 || m == 0xC1 || m == 0xC2) {   // SOF (the ones stb decodes)
      const unsigned nc = at(s + 5);
      unsigned hmax = 1, vmax = 1;
      for (unsigned k = 0; k < nc; ++k) {
        const unsigned hv = at(s + 6 + 3 * k + 1);
        hmax = std::max(hmax, hv >> 4);
        vmax = std::max(vmax, hv & 15);
      }
      for (unsigned k = 0; k < nc; ++k) {
        const unsigned hv = at(s + 6 + 3 * k + 1), h = hv >> 4, v = hv & 15;
        if (h == 0 || v == 0 || hmax % h != 0 || vmax % v != 0) {
          *why = "unsupported JPEG (chroma sampling factors)";
          return false;
        }
      }
    } else if (m == 0xDA) {   // SOS, then entropy-coded data
      const unsigned ns = at(s);
      const unsigned ss = at(s + 1 + 2 * ns), se = at(s + 2 + 2 * ns);
      for (unsigned k = 0; k < ns; ++k) {
        const unsigned t = at(s + 1 + 2 * k + 1), td = t >> 4, ta = t & 15;
        if ((ss == 0 && (td > 3 || !dc_def[td])) || (se != 0 && (ta > 3 || !ac_def[ta]))) {
          *why = "corrupt JPEG (scan uses an undefined Huffman table)";
          return false;
        }
      }
      size_t j = e;
      while (j + 1 < n && !(d[j] == 0xFF && d[j + 1] != 0 && !(d[j + 1] >= 0xD0 && d[j + 1] <= 0xD7)))
        ++j;
      i = j;
      continue;
    }
    i = e;
  }
  return true;
}

// stb 2.27 copies a zero-length first IDAT chunk with memcpy(NULL, p, 0) (undefined
// behaviour, flagged by UBSan in fuzz_image; harmless in practice). No encoder writes an empty
// IDAT before the image data, so such files are refused as corrupt.
bool png_structure_ok_(const uint8_t* d, size_t n, std::string* why) {
  size_t i = 8;   // after the signature
  while (i + 8 <= n) {
    const size_t len = be32_(d + i);
    if (std::memcmp(d + i + 4, "IDAT", 4) == 0) {
      if (len == 0) {
        *why = "corrupt PNG (empty IDAT chunk before the image data)";
        return false;
      }
      return true;   // first non-empty IDAT: stb has its buffer from here on
    }
    if (len > n) return true;   // stb refuses the file itself
    i += 12 + len;
  }
  return true;
}

}  // namespace

bool decode_image(const uint8_t* data, size_t len, const ImageLimits& lim, Image* out,
                  std::string* err) {
  if (!out) {
    set_err_(err, "null output image");
    return false;
  }
  if (!data || len == 0) {
    set_err_(err, "empty file (0 bytes)");
    return false;
  }
  if (len > kMaxImageFileBytes || len > static_cast<size_t>(INT_MAX)) {
    set_err_(err, "file too large (limit " + std::to_string(kMaxImageFileBytes >> 20) + " MiB)");
    return false;
  }
  // before stb reads anything (its header parsing already builds the Huffman tables)
  if (len >= 2 && data[0] == 0xFF && data[1] == 0xD8) {
    std::string why;
    if (!jpeg_structure_ok_(data, len, &why)) {
      set_err_(err, why);
      return false;
    }
  }
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (len >= 8 && std::memcmp(data, png_sig, 8) == 0) {
    std::string why;
    if (!png_structure_ok_(data, len, &why)) {
      set_err_(err, why);
      return false;
    }
  }
  const int n = static_cast<int>(len);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, n, &w, &h, &comp)) {
    const char* why = stbi_failure_reason();
    int64_t pw = 0, ph = 0;
    if (peek_dimensions_(data, len, &pw, &ph) &&
        (pw > lim.max_side || ph > lim.max_side || pw * ph > lim.max_pixels)) {
      set_err_(err, "image too large: " + std::to_string(pw) + " x " + std::to_string(ph) +
                        " (limits " + std::to_string(lim.max_side) + " pixels per side, " +
                        std::to_string(lim.max_pixels) + " pixels)");
      return false;
    }
    set_err_(err, std::string("not a readable PNG, JPEG or BMP image (") +
                      (why ? why : "unknown") + ")");
    return false;
  }
  std::string size_err;
  if (!check_image_size(w, h, 3, lim, &size_err)) {
    set_err_(err, size_err);
    return false;
  }
  int w2 = 0, h2 = 0, comp2 = 0;
  std::unique_ptr<unsigned char, StbiFree_> px(stbi_load_from_memory(data, n, &w2, &h2, &comp2, 3));
  if (!px) {
    const char* why = stbi_failure_reason();
    set_err_(err, std::string("corrupt or truncated image (") + (why ? why : "unknown") + ")");
    return false;
  }
  if (w2 != w || h2 != h) {   // header and decoder disagree: refuse rather than guess
    set_err_(err, "corrupt image (inconsistent dimensions)");
    return false;
  }
  const size_t bytes = static_cast<size_t>(w) * static_cast<size_t>(h) * 3;   // checked above
  out->width = w;
  out->height = h;
  out->pixels.assign(px.get(), px.get() + bytes);
  return true;
}

bool read_file_bytes(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out,
                     std::string* err) {
  std::unique_ptr<std::FILE, FileClose_> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    set_err_(err, std::string("cannot open file: ") + std::strerror(errno));
    return false;
  }
  out->clear();
  // read in chunks up to max_bytes + 1, so that an oversized (or growing) file is caught
  // without trusting a size reported up front
  size_t cap = 1u << 16;
  for (;;) {
    const size_t have = out->size();
    if (have > max_bytes) {
      set_err_(err, "file too large (limit " + std::to_string(max_bytes) + " bytes)");
      out->clear();
      return false;
    }
    const size_t want = cap < max_bytes + 1 - have ? cap : max_bytes + 1 - have;
    out->resize(have + want);
    const size_t got = std::fread(out->data() + have, 1, want, f.get());
    out->resize(have + got);
    if (got < want) {
      if (std::ferror(f.get())) {
        set_err_(err, std::string("cannot read file: ") + std::strerror(errno));
        out->clear();
        return false;
      }
      break;   // EOF
    }
    if (cap < (16u << 20)) cap *= 2;
  }
  if (out->size() > max_bytes) {
    set_err_(err, "file too large (limit " + std::to_string(max_bytes) + " bytes)");
    out->clear();
    return false;
  }
  return true;
}

bool load_image_file(const std::string& path, const ImageLimits& lim, Image* out,
                     std::string* err) {
  std::vector<uint8_t> bytes;
  if (!read_file_bytes(path, kMaxImageFileBytes, &bytes, err)) return false;
  return decode_image(bytes.data(), bytes.size(), lim, out, err);
}

bool write_png(const std::string& path, int width, int height, int channels,
               const uint8_t* pixels, std::string* err) {
  if (!pixels || width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
      width > INT_MAX / channels) {
    set_err_(err, "bad image for PNG writing");
    return false;
  }
  if (!stbi_write_png(path.c_str(), width, height, channels, pixels, width * channels)) {
    set_err_(err, "cannot write PNG: " + path);
    return false;
  }
  return true;
}

}  // namespace mc
#endif  // __EMSCRIPTEN__
