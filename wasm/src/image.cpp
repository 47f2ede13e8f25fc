// image.cpp -- PNG/JPEG/BMP decoding through stb_image, PNG writing through stb_image_write.
// Native only (see image.h).
#ifndef __EMSCRIPTEN__
#include "image.h"

#include <cerrno>
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
#define STBI_MAX_DIMENSIONS 16384   // backstop; ImageLimits is the real check
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
  const int n = static_cast<int>(len);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, n, &w, &h, &comp)) {
    const char* why = stbi_failure_reason();
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
