// image.h -- native image file loading (PNG / BMP through stb_image, JPEG through libjpeg-turbo)
// and PNG writing.
// Not part of the wasm build (the browser decodes images itself): everything here is compiled
// only when __EMSCRIPTEN__ is not defined.
//
// Usage:
//   mc::Image img;
//   std::string err;
//   if (!mc::load_image_file("cell.png", mc::ImageLimits{}, &img, &err)) {
//     fprintf(stderr, "%s\n", err.c_str());            // e.g. "not a PNG, JPEG or BMP image"
//   }
//   // img.pixels: img.width * img.height * 3 bytes, RGB, rows tightly packed
//   mc::write_png("out.png", img.width, img.height, 3, img.pixels.data(), &err);
//
// The file type is taken from its content, never from its name. Before decoding, the file size
// (<= kMaxImageFileBytes) and the dimensions from the header (ImageLimits) are checked, so a
// small file that announces a huge image is refused without allocating for it.
#pragma once
#ifndef __EMSCRIPTEN__
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preprocess.h"  // ImageLimits

namespace mc {

constexpr size_t kMaxImageFileBytes = 64u << 20;  // 64 MiB

struct Image {
  int width = 0, height = 0;    // pixels
  std::vector<uint8_t> pixels;  // RGB, width*height*3
};

// Decode an in-memory PNG/JPEG/BMP to 8-bit RGB (alpha dropped, gray replicated).
bool decode_image(const uint8_t* data, size_t len, const ImageLimits& lim, Image* out,
                  std::string* err);
// Read a whole file (<= max_bytes) into out.
bool read_file_bytes(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out,
                     std::string* err);
// read_file_bytes + decode_image.
bool load_image_file(const std::string& path, const ImageLimits& lim, Image* out, std::string* err);
// "fifo", "socket", "character device", "block device", "directory", "symbolic link",
// "regular file" or "unknown type" for a stat() st_mode (the refusal messages of non-regular
// files, here and in the CLI).
const char* file_type_name(unsigned mode);
// Write 8-bit pixels (channels 1..4) as a PNG file.
bool write_png(const std::string& path, int width, int height, int channels, const uint8_t* pixels,
               std::string* err);

}  // namespace mc
#endif  // __EMSCRIPTEN__
