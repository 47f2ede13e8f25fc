// image.cpp -- PNG/BMP decoding through stb_image, JPEG through libjpeg-turbo, PNG writing
// through stb_image_write.
// Native only (see image.h).
#ifndef __EMSCRIPTEN__
#include "image.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#include "fail.h"

// stb, private to this translation unit (static linkage: no clash with other users of stb).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO  // we read files ourselves, with a size cap
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

uint32_t be32_(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint32_t le32_(const uint8_t* p) {
  return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0];
}

// The dimensions a PNG / BMP header announces, without decoding anything. Used only
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
    const int32_t hh = static_cast<int32_t>(le32_(d + 22));  // negative: top-down rows
    *h = hh < 0 ? -static_cast<int64_t>(hh) : hh;
    return true;
  }
  return false;
}

// JPEG goes to libjpeg-turbo, not to stb_image: stb 2.27 (the Debian package) has known
// memory-safety bugs on crafted JPEGs (nothings/stb #1289, #1291, #1178; our fuzz_image hit an
// out-of-bounds Huffman write and an over-wide shift in its bitstream reader), while
// libjpeg-turbo is fuzzed continuously (OSS-Fuzz) and is the decoder PIL uses, so JPEG cells
// decode exactly as in the Python pipeline. Errors longjmp back here, never exit().
struct JpegErr_ {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
};

void jpeg_error_exit_(j_common_ptr cinfo) {
  JpegErr_* e = reinterpret_cast<JpegErr_*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->msg);
  std::longjmp(e->jump, 1);
}
void jpeg_quiet_(j_common_ptr, int) {}  // warnings (corrupt data recovered) are not printed

// Decodes a JPEG to RGB. Kept free of C++ objects with destructors between setjmp and longjmp.
// Every local that is changed after setjmp and read after a longjmp back to it is volatile: a
// non-volatile one has an indeterminate value there (C11 7.13.2.1; it may live in a register
// that longjmp restores). Without it, buf came back as nullptr after an error in the scan data
// (e.g. "Unsupported marker type 0x7f") and the w x h x 3 bytes leaked (fuzz_image under
// LeakSanitizer; regression: tests/fixtures/images/jpeg_unsupported_marker.jpg), and stage came
// back as 0 (the wrong message).
bool decode_jpeg_(const uint8_t* data, size_t len, const ImageLimits& lim, Image* out,
                  std::string* err) {
  jpeg_decompress_struct cinfo;
  JpegErr_ jerr;
  cinfo.err = jpeg_std_error(&jerr.mgr);
  jerr.mgr.error_exit = jpeg_error_exit_;
  jerr.mgr.emit_message = jpeg_quiet_;
  jerr.msg[0] = 0;
  unsigned char* volatile buf = nullptr;  // volatile: see above
  volatile int stage = 0;                 // 0 header, 1 decoding
  if (setjmp(jerr.jump)) {
    std::free(buf);
    jpeg_destroy_decompress(&cinfo);
    return fail(err, [&] {
      return std::string(stage == 0 ? "not a readable JPEG image ("
                                    : "corrupt or truncated JPEG (") +
             jerr.msg + ")";
    });
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(len));
  jpeg_read_header(&cinfo, TRUE);
  {
    std::string size_err;
    if (!check_image_size(static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height),
                          3, lim, &size_err)) {
      jpeg_destroy_decompress(&cinfo);
      return fail(err, size_err);
    }
  }
  cinfo.out_color_space = JCS_RGB;
  stage = 1;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3) {
    jpeg_destroy_decompress(&cinfo);
    return fail(err, "unsupported JPEG colour space");
  }
  const size_t w = cinfo.output_width, h = cinfo.output_height;
  buf = static_cast<unsigned char*>(std::malloc(w * h * 3));  // w, h checked against the limits
  unsigned char* const px = buf;  // the same pointer, non-volatile, for the reads below
  if (!px) {
    jpeg_destroy_decompress(&cinfo);
    return fail(err, "out of memory decoding JPEG");
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = px + static_cast<size_t>(cinfo.output_scanline) * w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  out->width = static_cast<int>(w);
  out->height = static_cast<int>(h);
  out->pixels.assign(px, px + w * h * 3);
  std::free(px);
  return true;
}

// Every chunk must fit in the file (length + type + data + CRC): stb 2.27 grows its IDAT
// buffer to a chunk's declared length before reading it, so a 1 KB file declaring a 1 GB chunk
// made it allocate 2 GB (found by the fuzz campaign, docs/FUZZ.md). And stb copies a zero-length
// first IDAT chunk with memcpy(NULL, p, 0) (undefined behaviour, flagged by UBSan); no encoder
// writes an empty IDAT before the image data, so such files are refused as corrupt too.
bool png_structure_ok_(const uint8_t* d, size_t n, std::string* why) {
  size_t i = 8;  // after the signature
  bool idat = false;
  while (i + 8 <= n) {
    const size_t len = be32_(d + i);
    if (len > n - i - 8 || n - i - 8 - len < 4)
      return fail(why, "corrupt or truncated PNG (a chunk runs past the end of the file)");
    if (std::memcmp(d + i + 4, "IDAT", 4) == 0) {
      if (len == 0 && !idat)
        return fail(why, "corrupt PNG (empty IDAT chunk before the image data)");
      idat = true;
    }
    if (std::memcmp(d + i + 4, "IEND", 4) == 0) return true;
    i += 12 + len;
  }
  return true;
}

}  // namespace

bool decode_image(const uint8_t* data, size_t len, const ImageLimits& lim, Image* out,
                  std::string* err) {
  if (!out) {
    return fail(err, "null output image");
  }
  if (!data || len == 0) {
    return fail(err, "empty file (0 bytes)");
  }
  if (len > kMaxImageFileBytes || len > static_cast<size_t>(INT_MAX)) {
    return fail(err, [&] {
      return "file too large (limit " + std::to_string(kMaxImageFileBytes >> 20) + " MiB)";
    });
  }
  if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    return decode_jpeg_(data, len, lim, out, err);
  }
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (len >= 8 && std::memcmp(data, png_sig, 8) == 0) {
    std::string why;
    if (!png_structure_ok_(data, len, &why)) return fail(err, why);
  }
  const int n = static_cast<int>(len);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, n, &w, &h, &comp)) {
    const char* why = stbi_failure_reason();
    int64_t pw = 0, ph = 0;
    if (peek_dimensions_(data, len, &pw, &ph) &&
        (pw > lim.max_side || ph > lim.max_side || pw * ph > lim.max_pixels)) {
      return fail(err, [&] {
        return "image too large: " + std::to_string(pw) + " x " + std::to_string(ph) + " (limits " +
               std::to_string(lim.max_side) + " pixels per side, " +
               std::to_string(lim.max_pixels) + " pixels)";
      });
    }
    return fail(err, [&] {
      return std::string("not a readable PNG, JPEG or BMP image (") + (why ? why : "unknown") + ")";
    });
  }
  std::string size_err;
  if (!check_image_size(w, h, 3, lim, &size_err)) return fail(err, size_err);
  int w2 = 0, h2 = 0, comp2 = 0;
  std::unique_ptr<unsigned char, StbiFree_> px(stbi_load_from_memory(data, n, &w2, &h2, &comp2, 3));
  if (!px) {
    const char* why = stbi_failure_reason();
    return fail(err, [&] {
      return std::string("corrupt or truncated image (") + (why ? why : "unknown") + ")";
    });
  }
  if (w2 != w || h2 != h) {  // header and decoder disagree: refuse rather than guess
    return fail(err, "corrupt image (inconsistent dimensions)");
  }
  const size_t bytes = static_cast<size_t>(w) * static_cast<size_t>(h) * 3;  // checked above
  out->width = w;
  out->height = h;
  out->pixels.assign(px.get(), px.get() + bytes);
  return true;
}

const char* file_type_name(unsigned mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symbolic link";
  if (S_ISREG(mode)) return "regular file";
  return "unknown type";
}

bool read_file_bytes(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out,
                     std::string* err) {
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; anything but a regular
  // file is refused before a byte is read. Regular files ignore the flag; it is cleared anyway.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return fail(err, [&] { return std::string("cannot open file: ") + std::strerror(errno); });
  }
  struct stat sb;
  if (::fstat(fd, &sb) != 0) {
    fail(err, [&] { return std::string("cannot read file: ") + std::strerror(errno); });
    ::close(fd);
    return false;
  }
  if (!S_ISREG(sb.st_mode)) {
    fail(err,
         [&] { return std::string("not a regular file (") + file_type_name(sb.st_mode) + ")"; });
    ::close(fd);
    return false;
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl != -1) ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  std::unique_ptr<std::FILE, FileClose_> f(::fdopen(fd, "rb"));
  if (!f) {
    fail(err, [&] { return std::string("cannot open file: ") + std::strerror(errno); });
    ::close(fd);
    return false;
  }
  out->clear();
  // read in chunks up to max_bytes + 1, so that an oversized (or growing) file is caught
  // without trusting a size reported up front
  size_t cap = 1u << 16;
  for (;;) {
    const size_t have = out->size();
    if (have > max_bytes) {
      out->clear();
      return fail(err,
                  [&] { return "file too large (limit " + std::to_string(max_bytes) + " bytes)"; });
    }
    const size_t want = cap < max_bytes + 1 - have ? cap : max_bytes + 1 - have;
    out->resize(have + want);
    const size_t got = std::fread(out->data() + have, 1, want, f.get());
    out->resize(have + got);
    if (got < want) {
      if (std::ferror(f.get())) {
        fail(err, [&] { return std::string("cannot read file: ") + std::strerror(errno); });
        out->clear();
        return false;
      }
      break;  // EOF
    }
    if (cap < (16u << 20)) cap *= 2;
  }
  if (out->size() > max_bytes) {
    out->clear();
    return fail(err,
                [&] { return "file too large (limit " + std::to_string(max_bytes) + " bytes)"; });
  }
  return true;
}

bool load_image_file(const std::string& path, const ImageLimits& lim, Image* out,
                     std::string* err) {
  std::vector<uint8_t> bytes;
  if (!read_file_bytes(path, kMaxImageFileBytes, &bytes, err)) return false;
  return decode_image(bytes.data(), bytes.size(), lim, out, err);
}

bool write_png(const std::string& path, int width, int height, int channels, const uint8_t* pixels,
               std::string* err) {
  if (!pixels || width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
      width > INT_MAX / channels) {
    return fail(err, "bad image for PNG writing");
  }
  if (!stbi_write_png(path.c_str(), width, height, channels, pixels, width * channels)) {
    return fail(err, [&] { return "cannot write PNG: " + path; });
  }
  return true;
}

}  // namespace mc
#endif  // __EMSCRIPTEN__
