// malaria-convert: torchvision ResNet18 weights (.safetensors) + metadata (.json) -> .mcb blob.
//
//   malaria-convert --weights W.safetensors --meta W.json --dtype f32|f16|int8
//                   [--calib DIR_OR_FILE ...] -o out.mcb
//
// Exit status 0 on success, 1 on a conversion error (message on stderr), 2 on a usage error.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "blob.h"
#include "convert.h"
#include "sha256.h"

namespace {

const char* kUsage =
    "usage: malaria-convert --weights W.safetensors --meta W.json --dtype f32|f16|int8\n"
    "                       [--calib DIR_OR_FILE ...] -o out.mcb\n";

bool read_file_(const std::string& path, std::vector<uint8_t>* out, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *err = "cannot open " + path;
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  if (f.bad()) {
    *err = "cannot read " + path;
    return false;
  }
  return true;
}

int usage_(const std::string& why) {
  std::fprintf(stderr, "malaria-convert: %s\n%s", why.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string weights, meta_path, out_path;
  mc::convert::Options opt;
  bool have_dtype = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= argc) return false;
      *dst = argv[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--weights") {
      if (!value(&weights)) return usage_("--weights needs a file");
    } else if (a == "--meta") {
      if (!value(&meta_path)) return usage_("--meta needs a file");
    } else if (a == "-o" || a == "--out") {
      if (!value(&out_path)) return usage_("-o needs a file");
    } else if (a == "--dtype") {
      if (!value(&opt.dtype)) return usage_("--dtype needs a value");
      have_dtype = true;
    } else if (a == "--calib") {
      while (i + 1 < argc && argv[i + 1][0] != '-') opt.calib_files.push_back(argv[++i]);
      if (opt.calib_files.empty()) return usage_("--calib needs a folder or files");
    } else {
      return usage_("unknown argument '" + a + "'");
    }
  }
  if (weights.empty() || meta_path.empty() || out_path.empty())
    return usage_("--weights, --meta and -o are required");
  if (!have_dtype) opt.dtype = "f32";

  std::vector<uint8_t> st, meta_bytes;
  std::string err;
  if (!read_file_(weights, &st, &err) || !read_file_(meta_path, &meta_bytes, &err)) {
    std::fprintf(stderr, "malaria-convert: %s\n", err.c_str());
    return 1;
  }
  nlohmann::json meta = nlohmann::json::parse(meta_bytes.begin(), meta_bytes.end(), nullptr, false);
  if (meta.is_discarded()) {
    std::fprintf(stderr, "malaria-convert: %s: metadata is not valid JSON\n", meta_path.c_str());
    return 1;
  }
  std::vector<uint8_t> blob;
  if (!mc::convert::convert(st.data(), st.size(), meta, opt, &blob, &err)) {
    std::fprintf(stderr, "malaria-convert: %s\n", err.c_str());
    return 1;
  }
  const std::string tmp = out_path + ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(blob.data()), std::streamsize(blob.size()));
    if (!o.good()) {
      std::fprintf(stderr, "malaria-convert: cannot write %s\n", tmp.c_str());
      std::remove(tmp.c_str());
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
    std::fprintf(stderr, "malaria-convert: cannot rename %s to %s\n", tmp.c_str(),
                 out_path.c_str());
    std::remove(tmp.c_str());
    return 1;
  }
  std::printf("wrote %s: %zu bytes, %s weights, sha256 %s\n", out_path.c_str(), blob.size(),
              opt.dtype.c_str(), mc::sha256_hex(blob.data(), blob.size()).c_str());
  return 0;
}
