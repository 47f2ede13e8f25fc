// malaria-classify -- classify cell images (files or folders) with the native engine.
//
//   malaria-classify [--model BLOB] [--format jsonl|csv] [--cam DIR] PATH...
//
// One result per image, in the order given (folders: recursive, sorted by path). A file that
// cannot be read (FIFOs and other non-regular files, broken links included) gives an error
// record and the batch goes on; files in a folder that are not looked at are named on stderr.
// Exit status: 0 every file was classified, 1 some were not, 2 usage or model error.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "image.h"

#ifndef MC_DEFAULT_MODEL
#define MC_DEFAULT_MODEL "model/malaria_resnet18.mcb"
#endif

namespace fs = std::filesystem;

namespace {

const char* const kDisclaimer =
    "Screening aid for research and education only, not a diagnosis. Uncertain cells must be "
    "referred to a microscopist.";

constexpr size_t kMaxModelBytes = (size_t{1} << 30) + (size_t{8} << 20);   // data + header

void usage_(std::FILE* f) {
  std::fprintf(f,
               "usage: malaria-classify [--model BLOB] [--format jsonl|csv] [--cam DIR] PATH...\n"
               "\n"
               "Classifies thin-smear cell images (PNG, JPEG or BMP; the type is read from the\n"
               "content, not the name) as Parasitized or Uninfected. PATH is an image or a\n"
               "folder, searched recursively and sorted by path. In a folder:\n"
               "  - *.png, *.jpg, *.jpeg, *.bmp (any case) are read;\n"
               "  - other files are skipped and named in one summary line on stderr;\n"
               "  - hidden files and folders (name starting with '.') are skipped silently;\n"
               "  - broken symbolic links (dangling or looping) get an error record;\n"
               "  - symbolic links to folders are not followed (named on stderr).\n"
               "A FIFO, device or socket (named, or found under an image name) is refused\n"
               "without being opened: error record \"not a regular file (fifo)\" etc.\n"
               "\n"
               "  --model BLOB    model blob (.mcb); default %s\n"
               "  --format F      jsonl (default): one JSON object per line,\n"
               "                    {\"file\",\"label\",\"p_parasitized\",\"band\",\"ms\"} or {\"file\",\"error\"}\n"
               "                  csv: header row file,label,p_parasitized,band,ms,error\n"
               "  --cam DIR       also write each cell with its class activation map overlay\n"
               "                  (red: evidence for Parasitized, blue: for Uninfected) as PNG\n"
               "  -h, --help      this help\n"
               "\n"
               "band: parasitized / uninfected outside the model's calibrated uncertainty band,\n"
               "uncertain inside it. ms: preprocessing + network time of that image.\n"
               "Exit status: 0 all files classified, 1 some could not be read, 2 usage/model error.\n"
               "\n"
               "%s\n",
               MC_DEFAULT_MODEL, kDisclaimer);
}

bool has_image_ext_(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp";
}

const char* file_type_name_(mode_t mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISDIR(mode)) return "directory";
  return "unknown type";
}

// Why `path` cannot be read as an image, found with stat() alone (opening a FIFO would block
// until a writer comes): "" for a regular file or a link to one, and for errors the read names
// itself (missing file, permission). mc::read_file_bytes refuses non-regular files too
// (O_NONBLOCK), in case the path changes between this check and the read.
std::string not_readable_(const std::string& path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) {
    const int e = errno;
    if (e == ELOOP) return "symbolic link loop (" + std::string(std::strerror(e)) + ")";
    struct stat lb;
    if (e == ENOENT && ::lstat(path.c_str(), &lb) == 0 && S_ISLNK(lb.st_mode)) {
      std::error_code ec;
      const std::string target = fs::read_symlink(path, ec).string();
      return "dangling symbolic link (its target " + (ec ? std::string("") : "'" + target + "' ") +
             "does not exist)";
    }
    return "";
  }
  if (!S_ISREG(sb.st_mode)) return std::string("not a regular file (") + file_type_name_(sb.st_mode) + ")";
  return "";
}

// "a, b, c" with at most `most` names, then "and N more".
std::string name_list_(const std::vector<std::string>& names, size_t most = 20) {
  std::string r;
  for (size_t i = 0; i < names.size() && i < most; ++i) r += (i ? ", " : "") + names[i];
  if (names.size() > most) r += ", and " + std::to_string(names.size() - most) + " more";
  return r;
}

// Expand PATH arguments into the list of files (folders recursive and sorted). A path that
// does not exist stays in the list and fails when it is read. In a folder every entry is either
// listed (image extensions; broken links, which then fail with their own error record) or
// named on stderr (other extensions; links to folders), except hidden ones.
std::vector<std::string> collect_(const std::vector<std::string>& paths) {
  std::vector<std::string> files, skipped, dir_links;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        const fs::path& fp = it->path();
        const std::string name = fp.filename().string();
        std::error_code lec, sec;   // per entry: one bad entry (a link loop) must not end the listing
        const fs::file_status ls = it->symlink_status(lec);
        if (!name.empty() && name[0] == '.') {   // hidden files and folders: skipped silently
          if (fs::is_directory(ls)) it.disable_recursion_pending();
          continue;
        }
        const fs::file_status st = it->status(sec);   // through links
        if (fs::is_directory(st)) {   // real folders are walked; links to folders are not (loops)
          if (fs::is_symlink(ls)) dir_links.push_back(fp.string());
          continue;
        }
        const bool broken_link = fs::is_symlink(ls) && !fs::exists(st);   // dangling or a loop
        if (broken_link || has_image_ext_(fp))
          found.push_back(fp.string());
        else
          skipped.push_back(fp.string());
      }
      if (ec) std::fprintf(stderr, "malaria-classify: warning: %s: %s\n", p.c_str(), ec.message().c_str());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  if (!skipped.empty()) {
    std::sort(skipped.begin(), skipped.end());
    std::fprintf(stderr, "malaria-classify: skipped %zu %s not PNG/JPEG/BMP: %s\n", skipped.size(),
                 skipped.size() == 1 ? "file that is" : "files that are", name_list_(skipped).c_str());
  }
  if (!dir_links.empty()) {
    std::sort(dir_links.begin(), dir_links.end());
    std::fprintf(stderr, "malaria-classify: did not follow %zu symbolic %s to a folder (name %s to include it): %s\n",
                 dir_links.size(), dir_links.size() == 1 ? "link" : "links",
                 dir_links.size() == 1 ? "it" : "them", name_list_(dir_links).c_str());
  }
  return files;
}

std::string csv_field_(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) {
    if (c == '"') r += '"';
    r += c;
  }
  return r + "\"";
}

std::string json_line_(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// v printed with `decimals` digits and read back, so that JSON shows e.g. 0.236662, not
// 0.23666199999999998
double rounded_(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return std::strtod(buf, nullptr);
}

// The original image with the CAM overlaid (bilinear sample of the S x S map at each pixel).
bool write_cam_(const std::string& path, const mc::Image& img, const float* cam, int S,
                std::string* err) {
  float m = 0;
  for (int i = 0; i < S * S; ++i) m = std::max(m, std::fabs(cam[i]));
  if (!(m > 0)) m = 1;
  std::vector<uint8_t> out(img.pixels.size());
  const int W = img.width, H = img.height;
  for (int y = 0; y < H; ++y) {
    double sy = (y + 0.5) * S / H - 0.5;
    sy = std::min(std::max(sy, 0.0), static_cast<double>(S - 1));
    const int y0 = static_cast<int>(sy), y1 = std::min(y0 + 1, S - 1);
    const float fy = static_cast<float>(sy - y0);
    for (int x = 0; x < W; ++x) {
      double sx = (x + 0.5) * S / W - 0.5;
      sx = std::min(std::max(sx, 0.0), static_cast<double>(S - 1));
      const int x0 = static_cast<int>(sx), x1 = std::min(x0 + 1, S - 1);
      const float fx = static_cast<float>(sx - x0);
      const float a = cam[y0 * S + x0], b = cam[y0 * S + x1];
      const float c = cam[y1 * S + x0], d = cam[y1 * S + x1];
      const float top = a + (b - a) * fx, bot = c + (d - c) * fx;
      const float t = (top + (bot - top) * fy) / m;   // -1 .. 1
      const float alpha = 0.6f * std::min(1.0f, std::fabs(t));
      const float col[3] = {t > 0 ? 255.0f : 0.0f, 0.0f, t > 0 ? 0.0f : 255.0f};
      const size_t o = (static_cast<size_t>(y) * W + x) * 3;
      for (int k = 0; k < 3; ++k) {
        const float v = img.pixels[o + k] * (1 - alpha) + col[k] * alpha;
        out[o + k] = static_cast<uint8_t>(std::lround(std::min(255.0f, std::max(0.0f, v))));
      }
    }
  }
  return mc::write_png(path, W, H, 3, out.data(), err);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = MC_DEFAULT_MODEL, format = "jsonl", cam_dir;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* opt) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "malaria-classify: %s needs a value\n", opt);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage_(stdout);
      return 0;
    } else if (a == "--model") {
      const char* v = value("--model");
      if (!v) return 2;
      model = v;
    } else if (a == "--format") {
      const char* v = value("--format");
      if (!v) return 2;
      format = v;
      if (format != "jsonl" && format != "csv") {
        std::fprintf(stderr, "malaria-classify: unknown format '%s' (jsonl or csv)\n", v);
        return 2;
      }
    } else if (a == "--cam") {
      const char* v = value("--cam");
      if (!v) return 2;
      cam_dir = v;
    } else if (a == "--") {
      for (++i; i < argc; ++i) paths.push_back(argv[i]);
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "malaria-classify: unknown option '%s'\n", a.c_str());
      usage_(stderr);
      return 2;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) {
    usage_(stderr);
    return 2;
  }

  // the model
  std::vector<uint8_t> blob;
  std::string err;
  if (!mc::read_file_bytes(model, kMaxModelBytes, &blob, &err)) {
    std::fprintf(stderr, "malaria-classify: model %s: %s\n", model.c_str(), err.c_str());
    return 2;
  }
  std::unique_ptr<mc::Engine> engine = mc::Engine::create(blob.data(), blob.size(), &err);
  if (!engine) {
    std::fprintf(stderr, "malaria-classify: model %s rejected: %s\n", model.c_str(), err.c_str());
    return 2;
  }
  blob.clear();
  blob.shrink_to_fit();
  if (!cam_dir.empty()) {
    std::error_code ec;
    fs::create_directories(cam_dir, ec);
    if (!fs::is_directory(cam_dir, ec)) {
      std::fprintf(stderr, "malaria-classify: cannot create --cam folder %s\n", cam_dir.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "malaria-classify: %s\n", kDisclaimer);

  const std::vector<std::string> files = collect_(paths);
  if (files.empty()) std::fprintf(stderr, "malaria-classify: no images found\n");
  const bool csv = format == "csv";
  if (csv) {
    std::printf("# %s\n", kDisclaimer);
    std::printf("file,label,p_parasitized,band,ms,error\n");
  }

  const int S = engine->input_size();
  std::map<std::string, int> cam_names;
  int failed = 0;
  mc::Image img;
  for (const std::string& f : files) {
    std::string ferr = not_readable_(f);   // FIFOs, devices, broken links: refused unopened
    mc::Prediction r;
    bool ok = ferr.empty() && mc::load_image_file(f, mc::ImageLimits{}, &img, &ferr);
    double ms = 0;
    if (ok) {
      const auto t0 = std::chrono::steady_clock::now();
      ok = engine->classify(img.pixels.data(), img.width, img.height, 3, &r, &ferr);
      ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    if (ok && !cam_dir.empty()) {
      std::string stem = fs::path(f).stem().string();
      if (stem.empty()) stem = "cell";
      const int k = cam_names[stem]++;
      const std::string out =
          (fs::path(cam_dir) / (stem + (k ? "-" + std::to_string(k + 1) : "") + ".cam.png")).string();
      std::string werr;
      if (!write_cam_(out, img, engine->cam(), S, &werr))
        std::fprintf(stderr, "malaria-classify: %s: %s\n", f.c_str(), werr.c_str());
    }
    if (!ok) ++failed;
    if (csv) {
      if (ok)
        std::printf("%s,%s,%.6f,%s,%.3f,\n", csv_field_(f).c_str(), mc::label_name(r.label),
                    r.p_parasitized, mc::band_name(r.band), ms);
      else
        std::printf("%s,,,,,%s\n", csv_field_(f).c_str(), csv_field_(ferr).c_str());
    } else {
      nlohmann::ordered_json j;
      j["file"] = f;
      if (ok) {
        j["label"] = mc::label_name(r.label);
        j["p_parasitized"] = rounded_(r.p_parasitized, 6);
        j["band"] = mc::band_name(r.band);
        j["ms"] = rounded_(ms, 3);
      } else {
        j["error"] = ferr;
      }
      std::printf("%s\n", json_line_(j).c_str());
    }
    std::fflush(stdout);
  }
  if (failed)
    std::fprintf(stderr, "malaria-classify: %d of %zu files could not be classified\n", failed,
                 files.size());
  return failed ? 1 : 0;
}
