// Image loading: the content decides the type, malformed files are refused with clear messages.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "image.h"

// Under AddressSanitizer (MC_SANITIZE=ON, or clang's -fsanitize=address) the leak regression
// below also asks LeakSanitizer right away, so that the test itself fails, not only the exit.
#if defined(__SANITIZE_ADDRESS__)
#define MC_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MC_TEST_LSAN 1
#endif
#endif
#ifdef MC_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace {

const std::string kImgDir_ = std::string(MC_REPO_ROOT) + "/tests/fixtures/images/";
const std::string kCellDir_ = std::string(MC_REPO_ROOT) + "/tests/fixtures/cells/";
const std::string kSmallCell_ =
    kCellDir_ + "Uninfected_C94P55ThinF_IMG_20150821_170249_cell_97.png";

bool contains_(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("image: PNG cells decode to RGB", "[image]") {
  mc::Image img;
  std::string err;
  REQUIRE(mc::load_image_file(kSmallCell_, mc::ImageLimits{}, &img, &err));
  CHECK(img.width == 64);
  CHECK(img.height == 70);
  CHECK(img.pixels.size() == size_t(64) * 70 * 3);
}

TEST_CASE("image: type comes from the content, not the extension", "[image]") {
  mc::Image png, named_jpg, bmp;
  std::string err;
  REQUIRE(mc::load_image_file(kSmallCell_, mc::ImageLimits{}, &png, &err));
  // a PNG named .jpg still works and gives the same pixels
  REQUIRE(mc::load_image_file(kImgDir_ + "png_named.jpg", mc::ImageLimits{}, &named_jpg, &err));
  CHECK(named_jpg.pixels == png.pixels);
  // BMP is lossless: identical pixels
  REQUIRE(mc::load_image_file(kImgDir_ + "cell.bmp", mc::ImageLimits{}, &bmp, &err));
  CHECK(bmp.width == png.width);
  CHECK(bmp.pixels == png.pixels);
  // a text file named .png fails
  mc::Image t;
  CHECK_FALSE(mc::load_image_file(kImgDir_ + "text.png", mc::ImageLimits{}, &t, &err));
  CHECK(contains_(err, "a text file, not an image"));
}

TEST_CASE("image: JPEG decodes close to the source", "[image]") {
  mc::Image png, jpg;
  std::string err;
  REQUIRE(mc::load_image_file(kSmallCell_, mc::ImageLimits{}, &png, &err));
  REQUIRE(mc::load_image_file(kImgDir_ + "cell.jpg", mc::ImageLimits{}, &jpg, &err));
  REQUIRE(jpg.pixels.size() == png.pixels.size());
  double sum = 0;
  for (size_t i = 0; i < png.pixels.size(); ++i)
    sum += std::abs(int(png.pixels[i]) - int(jpg.pixels[i]));
  CHECK(sum / png.pixels.size() < 4.0);  // quality 95
}

TEST_CASE("image: alpha is dropped, gray is replicated", "[image]") {
  mc::Image png, rgba, gray;
  std::string err;
  REQUIRE(mc::load_image_file(kSmallCell_, mc::ImageLimits{}, &png, &err));
  REQUIRE(mc::load_image_file(kImgDir_ + "cell_rgba.png", mc::ImageLimits{}, &rgba, &err));
  CHECK(rgba.pixels == png.pixels);
  REQUIRE(mc::load_image_file(kImgDir_ + "cell_gray.png", mc::ImageLimits{}, &gray, &err));
  bool replicated = true;
  for (size_t i = 0; i < gray.pixels.size(); i += 3)
    replicated &= gray.pixels[i] == gray.pixels[i + 1] && gray.pixels[i] == gray.pixels[i + 2];
  CHECK(replicated);
}

TEST_CASE("image: malformed files are rejected cleanly", "[image]") {
  mc::Image img;
  std::string err;
  SECTION("zero bytes") {
    CHECK_FALSE(mc::load_image_file(kImgDir_ + "empty.png", mc::ImageLimits{}, &img, &err));
    CHECK(contains_(err, "empty file"));
  }
  SECTION("truncated PNG") {
    CHECK_FALSE(mc::load_image_file(kImgDir_ + "truncated.png", mc::ImageLimits{}, &img, &err));
    CHECK(contains_(err, "corrupt or truncated"));
  }
  SECTION("30000 x 30000 header is refused before decoding") {
    CHECK_FALSE(
        mc::load_image_file(kImgDir_ + "huge_30000x30000.png", mc::ImageLimits{}, &img, &err));
    CHECK(contains_(err, "too large"));
    CHECK(contains_(err, "30000 x 30000"));
  }
  SECTION("crafted JPEGs that overflowed stb 2.27's Huffman table (found by fuzz_image)") {
    for (const char* f : {"jpeg_huffman_overflow.jpg", "jpeg_huffman_overflow_2.jpg",
                          "jpeg_huffman_overflow_3.jpg"}) {
      CHECK_FALSE(mc::load_image_file(kImgDir_ + f, mc::ImageLimits{}, &img, &err));
      CHECK(contains_(err, "JPEG"));  // refused by libjpeg-turbo with its own reason
    }
  }
  SECTION("PNG with an empty first IDAT (stb 2.27 memcpy(NULL, p, 0), found by fuzz_image)") {
    CHECK_FALSE(
        mc::load_image_file(kImgDir_ + "png_empty_first_idat.png", mc::ImageLimits{}, &img, &err));
    CHECK(contains_(err, "empty IDAT"));
  }
  SECTION(
      "PNG whose IDAT declares more bytes than the file has (stb grew its buffer to 2 GB; found by "
      "the fuzz campaign)") {
    CHECK_FALSE(
        mc::load_image_file(kImgDir_ + "png_huge_chunk.png", mc::ImageLimits{}, &img, &err));
    CHECK(contains_(err, "a chunk runs past the end of the file"));
  }
  SECTION("missing file") {
    CHECK_FALSE(
        mc::load_image_file(kImgDir_ + "does-not-exist.png", mc::ImageLimits{}, &img, &err));
    CHECK(contains_(err, "cannot open"));
  }
  SECTION("a folder") {
    CHECK_FALSE(mc::load_image_file(kImgDir_, mc::ImageLimits{}, &img, &err));
    CHECK(err == "not a regular file (directory)");
  }
  SECTION("a FIFO is refused without waiting for a writer") {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() / ("mc_image_fifo_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path fifo = dir / "cell.png";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_FALSE(
        mc::load_image_file(fifo.string(), mc::ImageLimits{}, &img, &err));  // returns at once
    CHECK(err == "not a regular file (fifo)");
    std::vector<uint8_t> bytes;
    CHECK_FALSE(mc::read_file_bytes(fifo.string(), 1000, &bytes, &err));
    CHECK(err == "not a regular file (fifo)");
    fs::remove_all(dir);
  }
  SECTION("pixel cap") {
    mc::ImageLimits lim;
    lim.max_pixels = 1000;  // the 64 x 70 cell has 4480
    CHECK_FALSE(mc::load_image_file(kSmallCell_, lim, &img, &err));
    CHECK(contains_(err, "too large"));
  }
  SECTION("every prefix of a PNG fails or succeeds without crashing") {
    std::vector<uint8_t> bytes;
    REQUIRE(mc::read_file_bytes(kSmallCell_, mc::kMaxImageFileBytes, &bytes, &err));
    int ok = 0;
    for (size_t n = 0; n < bytes.size(); n += 7)
      ok += mc::decode_image(bytes.data(), n, mc::ImageLimits{}, &img, &err);
    CHECK(ok == 0);
  }
}

TEST_CASE("image: a JPEG that fails in its scan data is refused and frees its pixels", "[image]") {
  // Header fine, pixel buffer allocated, then "Unsupported marker type 0x7f" longjmps out of
  // libjpeg-turbo. Before the fix the buffer pointer (set after setjmp, not volatile) came back
  // as nullptr: w x h x 3 bytes leaked (LeakSanitizer, fuzz_image) and the message said "not a
  // readable JPEG" (the stage variable came back as 0 too).
  mc::Image img;
  std::string err;
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(mc::load_image_file(kImgDir_ + "jpeg_unsupported_marker.jpg", mc::ImageLimits{},
                                    &img, &err));
    INFO(err);
    CHECK(contains_(err, "corrupt or truncated JPEG"));
    CHECK(contains_(err, "Unsupported marker type 0x7f"));
  }
#ifdef MC_TEST_LSAN
  CHECK(__lsan_do_recoverable_leak_check() == 0);  // the leaked buffers, if any, are listed above
#endif
}

TEST_CASE("image: file size cap", "[image]") {
  std::vector<uint8_t> bytes;
  std::string err;
  CHECK_FALSE(mc::read_file_bytes(kSmallCell_, 100, &bytes, &err));
  CHECK(contains_(err, "too large"));
  CHECK(mc::read_file_bytes(kSmallCell_, 2161, &bytes, &err));
  CHECK(bytes.size() == 2161);
}

// ---- The input policy (docs/INPUT.md): the CLI refuses what the page refuses, in its words ----

namespace {
const std::string kPolicyDir_ = std::string(MC_REPO_ROOT) + "/tests/fixtures/policy/";

std::string load_error_(const std::string& path) {
  mc::Image img;
  std::string err;
  if (mc::load_image_file(path, mc::ImageLimits{}, &img, &err)) return "";
  return err;
}

mc::Image rot90cw_(const mc::Image& a) {  // independent of image.cpp's orientation code
  mc::Image b;
  b.width = a.height;
  b.height = a.width;
  b.pixels.resize(a.pixels.size());
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x)
      for (int c = 0; c < 3; ++c)
        b.pixels[(size_t(x) * b.width + (a.height - 1 - y)) * 3 + c] =
            a.pixels[(size_t(y) * a.width + x) * 3 + c];
  return b;
}
mc::Image flip_h_(const mc::Image& a) {
  mc::Image b = a;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x)
      for (int c = 0; c < 3; ++c)
        b.pixels[(size_t(y) * a.width + x) * 3 + c] =
            a.pixels[(size_t(y) * a.width + (a.width - 1 - x)) * 3 + c];
  return b;
}
}  // namespace

TEST_CASE("image: files the policy refuses are named as the page names them", "[image]") {
  const std::pair<const char*, const char*> cases[] = {
      {"cell.gif", "a GIF image: not supported (PNG, JPEG or BMP"},
      {"cell_animated.gif", "an animated GIF: not supported"},
      {"cell.tiff", "a TIFF image (or a camera raw file): not supported"},
      {"cell.pdf", "a PDF document: not supported"},
      {"cell.svg", "an SVG drawing: not supported"},
      {"cell.heic", "a HEIC/HEIF image: not supported"},
      {"cell.avif", "an AVIF image: not supported"},
      {"cell.ico", "an ICO icon: not supported"},
      {"notes.png", "a text file, not an image"},
      {"cell.webp", "a WebP image: not read by the command-line tool"},
      {"cell_animated.webp",
       "an animated WebP: multi-frame images are not supported; save one frame as a PNG"},
      {"cell_apng.png",
       "an animated PNG (APNG, 2 frames): multi-frame images are not supported; save one frame as "
       "a PNG"},
      {"cell_cmyk.jpg",
       "a CMYK JPEG: not supported (the model needs RGB; save it as an RGB JPEG or PNG)"},
      {"cell_truncated.jpg",
       "corrupt or truncated JPEG image: could not be decoded (no end-of-image marker)"},
      {"cell_truncated.png",
       "corrupt or truncated PNG image: could not be decoded (a chunk runs past the end"},
      {"empty.png", "empty file (0 bytes)"},
  };
  for (const auto& [file, want] : cases) {
    const std::string err = load_error_(kPolicyDir_ + file);
    INFO(file << ": " << err);
    CHECK(err.rfind(want, 0) == 0);
  }
  // an unknown binary file: its first bytes are shown
  const std::vector<uint8_t> junk = {0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x10, 0x20, 0x30};
  mc::Image img;
  std::string err;
  CHECK_FALSE(mc::decode_image(junk.data(), junk.size(), mc::ImageLimits{}, &img, &err));
  CHECK(err == "not a PNG, JPEG or BMP image (unknown type; first bytes 00 01 02 03 fe ff 10 20)");
}

TEST_CASE("image: EXIF orientation 1-8 is applied as browsers apply it", "[image]") {
  // the Chula field stored 480 x 640 with orientation 6; the same bytes with the tag's value
  // rewritten give each orientation
  std::vector<uint8_t> bytes;
  std::string err;
  REQUIRE(mc::read_file_bytes(kPolicyDir_ + "field_exif_rot90.jpg", mc::kMaxImageFileBytes, &bytes,
                              &err));
  size_t at = 0;  // the orientation entry (tag 0x0112, type SHORT, count 1) in IFD0
  for (size_t i = 0; i + 10 <= bytes.size() && !at; ++i) {
    const bool mm =
        bytes[i] == 0x01 && bytes[i + 1] == 0x12 && bytes[i + 2] == 0 && bytes[i + 3] == 3;
    const bool ii =
        bytes[i] == 0x12 && bytes[i + 1] == 0x01 && bytes[i + 2] == 3 && bytes[i + 3] == 0;
    if (mm || ii) at = i;
  }
  REQUIRE(at != 0);
  const bool big_endian = bytes[at] == 0x01;
  auto decode_as = [&](int o) {
    std::vector<uint8_t> b = bytes;
    b[at + 8] = big_endian ? 0 : uint8_t(o);
    b[at + 9] = big_endian ? uint8_t(o) : 0;
    mc::Image img;
    std::string e;
    REQUIRE(mc::decode_image(b.data(), b.size(), mc::ImageLimits{}, &img, &e));
    return img;
  };
  const mc::Image stored = decode_as(1);
  CHECK(stored.width == 480);
  CHECK(stored.height == 640);
  const mc::Image r90 = rot90cw_(stored), r180 = rot90cw_(r90), r270 = rot90cw_(r180);
  const mc::Image want[9] = {stored,       stored, flip_h_(stored), r180, flip_h_(r180),
                             flip_h_(r90), r90,    flip_h_(r270),   r270};
  for (int o = 1; o <= 8; ++o) {
    INFO("orientation " << o);
    const mc::Image got = decode_as(o);
    CHECK(got.width == want[o].width);
    CHECK(got.height == want[o].height);
    CHECK(got.pixels == want[o].pixels);
  }
  // the file as it is: shown upright, 640 x 480
  mc::Image img;
  REQUIRE(mc::load_image_file(kPolicyDir_ + "field_exif_rot90.jpg", mc::ImageLimits{}, &img, &err));
  CHECK(img.width == 640);
  CHECK(img.height == 480);
}
