// image.cpp -- PNG/BMP decoding through stb_image, JPEG through libjpeg-turbo, PNG writing
// through stb_image_write.
// Native only (see image.h).
#ifndef __EMSCRIPTEN__
#include "image.h"

#include <algorithm>
#include <cctype>
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

#include <jerror.h>  // JWRN_JPEG_EOF
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

// ---- What a file is, when it is not an image this reader decodes --------------------------
// The same signature table and words as web/image-input.js (sniffImage / policyProblem), so that
// the CLI and the page refuse a file with the same message (docs/INPUT.md).

constexpr const char* kAccepted_ = "PNG, JPEG or BMP; the page also reads WebP";

bool starts_(const uint8_t* d, size_t n, const char* sig, size_t k, size_t at = 0) {
  return n >= at + k && std::memcmp(d + at, sig, k) == 0;
}

// ISO base media (ftyp box): AVIF, HEIC/HEIF, CR3, QuickTime, MP4; "" when not one.
std::string iso_media_(const uint8_t* d, size_t n, bool* image) {
  if (!starts_(d, n, "ftyp", 4, 4) || n < 12) return "";
  const size_t size = std::min<size_t>(be32_(d), n);
  std::vector<std::string> brands{std::string(reinterpret_cast<const char*>(d + 8), 4)};
  for (size_t i = 16; i + 4 <= size; i += 4)
    brands.emplace_back(reinterpret_cast<const char*>(d + i), 4);
  auto any = [&](std::initializer_list<const char*> set) {
    for (const auto& b : brands)
      for (const char* s : set)
        if (b == s) return true;
    return false;
  };
  *image = true;
  if (any({"avif", "avis"})) return "an AVIF image";
  if (any({"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"}))
    return "a HEIC/HEIF image";
  if (brands[0] == "crx ") return "a Canon raw (CR3) photo";
  *image = false;
  if (brands[0] == "qt  ") return "a QuickTime video";
  std::string b0;
  for (char c : brands[0]) b0 += (c >= 32 && c < 127 && c != '"' && c != '\\') ? c : '?';
  return "an MP4 or other ISO media file (brand \"" + b0 + "\")";
}

// A text-like head: SVG, HTML, XML or plain text; "" otherwise.
std::string text_kind_(const uint8_t* d, size_t n, bool* image) {
  const size_t m = std::min<size_t>(n, 1024);
  size_t bad = 0;
  for (size_t i = 0; i < m; ++i) {
    const uint8_t c = d[i];
    if (c == 0) return "";
    if (c < 9 || (c > 13 && c < 32) || c == 127) ++bad;
  }
  if (m == 0 || bad * 50 > m) return "";
  size_t i = starts_(d, m, "\xEF\xBB\xBF", 3) ? 3 : 0;
  while (i < m && (d[i] == ' ' || (d[i] >= 9 && d[i] <= 13))) ++i;
  std::string head(reinterpret_cast<const char*>(d + i), m - i);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto begins = [&](const char* s) { return head.rfind(s, 0) == 0; };
  *image = false;
  if (begins("<svg") || (begins("<?xml") && head.find("<svg") != std::string::npos)) {
    *image = true;
    return "an SVG drawing";
  }
  if (begins("<!doctype html") || begins("<html")) return "an HTML page";
  if (begins("<?xml")) return "an XML file";
  return "a text file";
}

// The refusal of a file that is not a PNG, JPEG or BMP, named by its signature.
std::string unsupported_file_(const uint8_t* d, size_t n) {
  struct Sig {
    const char* sig;
    size_t len;
    const char* what;
    bool image;
  };
  static const Sig kSigs[] = {
      {"GIF8", 4, "a GIF image", true},
      {"II*\0", 4, "a TIFF image (or a camera raw file)", true},
      {"MM\0*", 4, "a TIFF image (or a camera raw file)", true},
      {"%PDF-", 5, "a PDF document", true},
      {"\0\0\1\0", 4, "an ICO icon", true},
      {"\0\0\2\0", 4, "a CUR cursor", true},
      {"\xFF\x0A", 2, "a JPEG XL image", true},
      {"\0\0\0\x0CJXL ", 8, "a JPEG XL image", true},
      {"\0\0\0\x0CjP  ", 8, "a JPEG 2000 image", true},
      {"\xFF\x4F\xFF\x51", 4, "a JPEG 2000 image", true},
      {"8BPS", 4, "a Photoshop (PSD) document", true},
      {"PK\3\4", 4, "a ZIP archive (or an office document)", false},
      {"\x1F\x8B", 2, "a gzip archive", false},
      {"7z\xBC\xAF\x27\x1C", 6, "a 7-Zip archive", false},
      {"Rar!", 4, "a RAR archive", false},
      {"\x1A\x45\xDF\xA3", 4, "a WebM/Matroska video", false},
  };
  auto refuse = [](const std::string& what, bool image) {
    return image ? what + ": not supported (" + kAccepted_ + ")" : what + ", not an image";
  };
  if (starts_(d, n, "RIFF", 4) && starts_(d, n, "WEBP", 4, 8)) {
    if (n >= 21 && starts_(d, n, "VP8X", 4, 12) && (d[20] & 0x02)) {
      return "an animated WebP: multi-frame images are not supported; save one frame as a PNG";
    }
    return "a WebP image: not read by the command-line tool (PNG, JPEG or BMP; the page reads "
           "WebP)";
  }
  for (const Sig& s : kSigs) {
    if (!starts_(d, n, s.sig, s.len)) continue;
    if (std::strcmp(s.what, "a GIF image") == 0) {
      static const char kLoop[] = "NETSCAPE2.0";
      if (std::search(d, d + n, kLoop, kLoop + 11) != d + n) return refuse("an animated GIF", true);
    }
    return refuse(s.what, s.image);
  }
  bool image = false;
  std::string what = iso_media_(d, n, &image);
  if (what.empty() && n >= 132 && starts_(d, n, "DICM", 4, 128)) {
    what = "a DICOM file";
    image = true;
  }
  if (what.empty()) what = text_kind_(d, n, &image);
  if (!what.empty()) return refuse(what, image);
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) {
    char b[4];
    std::snprintf(b, sizeof b, "%02x", d[i]);
    hex += (i ? " " : "") + std::string(b);
  }
  return "not a PNG, JPEG or BMP image (unknown type; first bytes " + hex + ")";
}

// EXIF orientation (1..8) from a JPEG's APP1 "Exif\0\0" segment (its TIFF header, IFD0's tag
// 0x0112); 0 when absent or unreadable. seg: the segment's data, n bytes.
int exif_orientation_(const uint8_t* seg, size_t n) {
  if (n < 6 + 8 || std::memcmp(seg, "Exif\0\0", 6) != 0) return 0;
  const uint8_t* t = seg + 6;
  const size_t tn = n - 6;
  const bool le = t[0] == 'I' && t[1] == 'I';
  if (!le && !(t[0] == 'M' && t[1] == 'M')) return 0;
  auto u16 = [&](size_t i) {
    return le ? unsigned(t[i] | t[i + 1] << 8) : unsigned(t[i] << 8 | t[i + 1]);
  };
  auto u32 = [&](size_t i) { return le ? le32_(t + i) : be32_(t + i); };
  const size_t ifd = u32(4);
  if (ifd > tn || tn - ifd < 2) return 0;
  const unsigned count = u16(ifd);
  for (unsigned k = 0; k < count; ++k) {
    const size_t e = ifd + 2 + 12 * size_t(k);
    if (e + 12 > tn) break;
    if (u16(e) == 0x0112) {
      const unsigned v = u16(e + 8);
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 0;
    }
  }
  return 0;
}

// Turns RGB pixels stored with EXIF orientation o into the upright image (o = 5..8 swap width
// and height), as browsers show it (createImageBitmap's imageOrientation 'from-image').
void apply_orientation_(Image* img, int o) {
  if (o <= 1 || o > 8) return;
  const size_t w = static_cast<size_t>(img->width), h = static_cast<size_t>(img->height);
  const bool swap = o >= 5;
  const size_t ow = swap ? h : w, oh = swap ? w : h;
  std::vector<uint8_t> out(ow * oh * 3);
  for (size_t y = 0; y < oh; ++y) {
    for (size_t x = 0; x < ow; ++x) {
      size_t sx = x, sy = y;
      switch (o) {
        case 2: sx = w - 1 - x; break;  // mirrored
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;                        // rotated 180
        case 4: sy = h - 1 - y; break;  // mirrored vertically
        case 5:
          sx = y;
          sy = x;
          break;  // transposed
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;  // rotate 90 clockwise to view
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;  // transversed
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;  // rotate 90 counter-clockwise
      }
      std::memcpy(&out[(y * ow + x) * 3], &img->pixels[(sy * w + sx) * 3], 3);
    }
  }
  img->width = static_cast<int>(ow);
  img->height = static_cast<int>(oh);
  img->pixels.swap(out);
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
// Warnings (corrupt data recovered) are not printed, except the one that means the file ends
// before its image does: libjpeg-turbo would fill the rest with grey and the cell would be
// classified from part of it, where the page (Chromium) refuses the file. That one is an error.
void jpeg_warning_(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    JpegErr_* e = reinterpret_cast<JpegErr_*>(cinfo->err);
    std::snprintf(e->msg, sizeof e->msg, "no end-of-image marker");
    std::longjmp(e->jump, 1);
  }
}

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
  jerr.mgr.emit_message = jpeg_warning_;
  jerr.msg[0] = 0;
  unsigned char* volatile buf = nullptr;  // volatile: see above
  volatile int stage = 0;                 // 0 header, 1 decoding
  if (setjmp(jerr.jump)) {
    std::free(buf);
    jpeg_destroy_decompress(&cinfo);
    return fail(err, [&] {
      return std::string(stage == 0 ? "corrupt JPEG image: could not be decoded ("
                                    : "corrupt or truncated JPEG image: could not be decoded (") +
             jerr.msg + ")";
    });
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(len));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);  // APP1: EXIF orientation
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    const bool ycck = cinfo.jpeg_color_space == JCS_YCCK;
    jpeg_destroy_decompress(&cinfo);
    return fail(err, ycck ? "a YCCK JPEG: not supported (the model needs RGB; save it as an RGB "
                            "JPEG or PNG)"
                          : "a CMYK JPEG: not supported (the model needs RGB; save it as an RGB "
                            "JPEG or PNG)");
  }
  if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    const int nc = cinfo.num_components;
    jpeg_destroy_decompress(&cinfo);
    return fail(err, [&] {
      return "a JPEG with " + std::to_string(nc) +
             " colour components: not supported (RGB or greyscale only)";
    });
  }
  int orientation = 0;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && !orientation) {
      orientation = exif_orientation_(m->data, m->data_length);
    }
  }
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
  apply_orientation_(out, orientation);
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
      return fail(why,
                  "corrupt or truncated PNG image: could not be decoded (a chunk runs past the "
                  "end of the file)");
    if (std::memcmp(d + i + 4, "IDAT", 4) == 0) {
      if (len == 0 && !idat)
        return fail(
            why,
            "corrupt PNG image: could not be decoded (empty IDAT chunk before the image data)");
      idat = true;
    }
    // APNG: an acTL chunk before the first IDAT announces its frames; stb would read the first
    // one only, which the page refuses (multi-frame images are not taken)
    if (!idat && len >= 8 && std::memcmp(d + i + 4, "acTL", 4) == 0 && be32_(d + i + 8) > 1) {
      return fail(why, [&] {
        return "an animated PNG (APNG, " + std::to_string(be32_(d + i + 8)) +
               " frames): multi-frame images are not supported; save one frame as a PNG";
      });
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
  const bool png = len >= 8 && std::memcmp(data, png_sig, 8) == 0;
  if (png) {
    std::string why;
    if (!png_structure_ok_(data, len, &why)) return fail(err, why);
  }
  const bool bmp = len >= 18 && data[0] == 'B' && data[1] == 'M';
  if (!png && !bmp) return fail(err, [&] { return unsupported_file_(data, len); });
  const char* kind = png ? "PNG" : "BMP";
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
      return std::string("corrupt ") + kind + " image: could not be decoded (" +
             (why ? why : "unknown") + ")";
    });
  }
  std::string size_err;
  if (!check_image_size(w, h, 3, lim, &size_err)) return fail(err, size_err);
  int w2 = 0, h2 = 0, comp2 = 0;
  std::unique_ptr<unsigned char, StbiFree_> px(stbi_load_from_memory(data, n, &w2, &h2, &comp2, 3));
  if (!px) {
    const char* why = stbi_failure_reason();
    return fail(err, [&] {
      return std::string("corrupt or truncated ") + kind + " image: could not be decoded (" +
             (why ? why : "unknown") + ")";
    });
  }
  if (w2 != w || h2 != h) {  // header and decoder disagree: refuse rather than guess
    return fail(err, std::string("corrupt ") + kind +
                         " image: could not be decoded (inconsistent dimensions)");
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
