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
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "explain.h"
#include "field.h"
#include "image.h"

#ifndef MC_DEFAULT_MODEL
#define MC_DEFAULT_MODEL "model/malaria_resnet18.mcb"
#endif

namespace fs = std::filesystem;

namespace {

const char* const kDisclaimer =
    "Screening aid for research and education only, not a diagnosis. Uncertain cells must be "
    "referred to a microscopist.";

constexpr size_t kMaxModelBytes = (size_t{1} << 30) + (size_t{8} << 20);  // data + header

void usage_(std::FILE* f) {
  std::fprintf(
      f,
      "usage: malaria-classify [--model BLOB] [--mode auto|cell|field] [--format jsonl|csv]\n"
      "                        [--overlay DIR] [--crops DIR] [--cam DIR] PATH...\n"
      "\n"
      "Classifies thin-smear images (PNG, JPEG or BMP; the type is read from the content,\n"
      "not the name): a cut-out red cell gets Parasitized or Uninfected; a whole\n"
      "microscope field gets every red cell found, classified and counted, with the\n"
      "field's parasitemia. PATH is an image or a\n"
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
      "  --mode M        auto (default): each image is a cell crop when its longest side\n"
      "                  is <= 300 px, or <= 600 px with a black surround; otherwise a\n"
      "                  field when 5+ red cells of like size are found in it; anything\n"
      "                  else is refused as not a blood-smear image.\n"
      "                  cell: every image is a cell crop; field: every image a field.\n"
      "                  A cell crop is refused when it does not look like a single red\n"
      "                  cell (too small, greyscale, one flat colour, noise).\n"
      "  --format F      jsonl (default): one JSON object per line:\n"
      "                    a cell crop: "
      "{\"file\",\"mode\":\"cell\",\"label\",\"p_parasitized\",\"band\",\"ms\"}\n"
      "                    a field: one line per counted red cell\n"
      "                      "
      "{\"file\",\"cell\",\"x\",\"y\",\"w\",\"h\",\"label\",\"p_parasitized\",\"band\"}\n"
      "                    then "
      "{\"file\",\"mode\":\"field\",\"cells\",\"parasitized\",\"uncertain\",\"excluded\",\n"
      "                      \"excluded_by\",\"parasitemia\",\"ci95\",\"cell_diameter\",\"ms\"}\n"
      "                    a refused image: {\"file\",\"error\"}\n"
      "                  file: the path as given (folders: as found in them), a JSON string;\n"
      "                    a path that is not UTF-8 (Linux names are bytes) has U+FFFD there\n"
      "                    for each part that is not, and \"file_hex\" right after it: the\n"
      "                    path's exact bytes as lowercase hex (two digits a byte)\n"
      "                  2+ fields: their pooled counts and parasitemia on stderr\n"
      "                  csv: the same as rows of file,mode,cell,x,y,w,h,label,p_parasitized,\n"
      "                    band,ms,cells,parasitized,uncertain,excluded,parasitemia,ci95_lo,\n"
      "                    ci95_hi,error after a first row holding the notice (file: the\n"
      "                    path's bytes as they are)\n"
      "  --crops DIR     also write each counted cell of a field as the classifier saw it\n"
      "                  (its box, outside its outline black) as DIR/NAME.cellI.png\n"
      "                  (NAME, here and below: the image's name without its extension,\n"
      "                  byte for byte; -2, -3 ... added where names repeat; shortened where\n"
      "                  the file's name would pass 255 bytes)\n"
      "  --overlay DIR   also write each field with every found cell outlined by its\n"
      "                  call (red parasitized, orange uncertain, green uninfected,\n"
      "                  grey left out) as DIR/NAME.overlay.png\n"
      "  --cam DIR       also write each cut-out cell's heat map: an occlusion map computed\n"
      "                  for that cell (a 6x6 patch of the 64x64 network input slid with\n"
      "                  stride 4; red where covering the cell lowers the evidence for\n"
      "                  Parasitized, blue where it raises it; up to 257 passes of the\n"
      "                  network, ~0.8 s a cell) as DIR/NAME.cam.png, and the map itself\n"
      "                  as DIR/NAME.cam.json {\"size\",\"patch\",\"stride\",\"passes\",\"ms\",\n"
      "                  \"peak\",\"map\"} (peak in image pixels; map: size*size logit drops,\n"
      "                  row-major over the whole image). On the test slides' parasitized\n"
      "                  cells its peak lies on a parasite (a dark purple stain blob) in\n"
      "                  95%% of cells, on the largest one in 84%% (model/REPORT.md);\n"
      "                  on a cell called Uninfected it has no parasite to point at.\n"
      "                  Fields get none.\n"
      "  --logits        jsonl, cell crops: also \"class\" (the label of the largest logit) and\n"
      "                  \"logits\" (the model's N raw logits, in the order of its labels)\n"
      "  -h, --help      this help\n"
      "\n"
      "band: parasitized / uninfected outside the model's calibrated uncertainty band,\n"
      "uncertain inside it. ms: preprocessing + network time of that image.\n"
      "Fields: cells = red cells counted (whole, inside the image); parasitized = those\n"
      "in the parasitized band; uncertain = those in the band (to review); parasitemia =\n"
      "parasitized / cells with its Wilson 95%% interval; excluded = regions left out\n"
      "(cut by the border, white cells, debris/platelets, unsplit clumps).\n"
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
  if (!S_ISREG(sb.st_mode))
    return std::string("not a regular file (") + mc::file_type_name(sb.st_mode) + ")";
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
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; !ec && it != end; it.increment(ec)) {
        const fs::path& fp = it->path();
        const std::string name = fp.filename().string();
        std::error_code lec,
            sec;  // per entry: one bad entry (a link loop) must not end the listing
        const fs::file_status ls = it->symlink_status(lec);
        if (!name.empty() && name[0] == '.') {  // hidden files and folders: skipped silently
          if (fs::is_directory(ls)) it.disable_recursion_pending();
          continue;
        }
        const fs::file_status st = it->status(sec);  // through links
        if (fs::is_directory(st)) {  // real folders are walked; links to folders are not (loops)
          if (fs::is_symlink(ls)) dir_links.push_back(fp.string());
          continue;
        }
        const bool broken_link = fs::is_symlink(ls) && !fs::exists(st);  // dangling or a loop
        if (broken_link || has_image_ext_(fp))
          found.push_back(fp.string());
        else
          skipped.push_back(fp.string());
      }
      if (ec)
        std::fprintf(stderr, "malaria-classify: warning: %s: %s\n", p.c_str(),
                     ec.message().c_str());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  if (!skipped.empty()) {
    std::sort(skipped.begin(), skipped.end());
    std::fprintf(stderr, "malaria-classify: skipped %zu %s not PNG/JPEG/BMP: %s\n", skipped.size(),
                 skipped.size() == 1 ? "file that is" : "files that are",
                 name_list_(skipped).c_str());
  }
  if (!dir_links.empty()) {
    std::sort(dir_links.begin(), dir_links.end());
    std::fprintf(stderr,
                 "malaria-classify: did not follow %zu symbolic %s to a folder (name %s to include "
                 "it): %s\n",
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

// Length of the well-formed UTF-8 sequence that starts at s[i] (Unicode table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 with *bad the length of its maximal
// ill-formed subpart (at least 1), which U+FFFD replaces as Python and the WHATWG decoder do.
size_t utf8_seq_(const std::string& s, size_t i, size_t* bad) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned c = b(0);
  size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // not overlong
    if (c == 0xED) hi = 0x9F;  // not a surrogate
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // not overlong
    if (c == 0xF4) hi = 0x8F;  // not above U+10FFFF
  } else {
    *bad = 1;  // a continuation byte, C0, C1, F5..FF
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= s.size() || b(k) < (k == 1 ? lo : 0x80) || b(k) > (k == 1 ? hi : 0xBF)) {
      *bad = k;
      return 0;
    }
  }
  return n;
}

// s with U+FFFD in place of each maximal ill-formed subpart; *exact: s was well-formed UTF-8.
std::string utf8_lossy_(const std::string& s, bool* exact) {
  std::string r;
  r.reserve(s.size());
  *exact = true;
  for (size_t i = 0; i < s.size();) {
    size_t bad = 0;
    const size_t n = utf8_seq_(s, i, &bad);
    if (n) {
      r.append(s, i, n);
      i += n;
    } else {
      r += "\xEF\xBF\xBD";
      i += bad;
      *exact = false;
    }
  }
  return r;
}

// A record's "file": the path as given when it is UTF-8 (nlohmann escapes quotes, backslashes and
// control characters), else the path with U+FFFD for what is not UTF-8 and "file_hex", its exact
// bytes in lowercase hex, right after it: a script gets the path back from it.
void put_file_(nlohmann::ordered_json& j, const std::string& path) {
  bool exact = true;
  j["file"] = utf8_lossy_(path, &exact);
  if (exact) return;
  static const char* const kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * path.size());
  for (unsigned char c : path) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  j["file_hex"] = hex;
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

// The original image with the heat map overlaid (bilinear sample of the S x S map at each
// pixel; red positive, blue negative, scaled by the largest magnitude).
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
      const float t = (top + (bot - top) * fy) / m;  // -1 .. 1
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

// The heat map as JSON: its parameters, cost, peak (image pixels) and the S*S values.
bool write_cam_json_(const std::string& path, const mc::Explanation& x, int width, int height,
                     double ms, std::string* err) {
  nlohmann::ordered_json j;
  j["size"] = x.size;
  j["patch"] = x.patch;
  j["stride"] = x.stride;
  j["passes"] = x.passes;
  j["ms"] = rounded_(ms, 3);
  j["peak"] = {rounded_(x.peak_x * width / x.size, 2), rounded_(x.peak_y * height / x.size, 2)};
  nlohmann::ordered_json m = nlohmann::ordered_json::array();
  for (float v : x.map) m.push_back(rounded_(v, 6));
  j["map"] = std::move(m);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    if (err) *err = "cannot write " + path;
    return false;
  }
  const std::string text = json_line_(j) + "\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) {
    if (err) *err = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace

// Fields pooled over a run: counts added up, the interval of the pooled proportion.
struct Pooled {
  int fields = 0, cells = 0, parasitized = 0, uncertain = 0, excluded = 0;
  void add(const mc::FieldReport& r) {
    ++fields;
    cells += r.field.counted;
    parasitized += r.parasitized;
    uncertain += r.uncertain;
    excluded += excluded_(r.field);
  }
  static int excluded_(const mc::Field& f) { return f.border + f.white + f.debris + f.clump; }
};

// The records, as JSON lines or CSV rows (one column set for every kind of record).
class Output {
 public:
  explicit Output(bool csv) : csv_(csv) {
    if (csv_) {
      std::printf("%s\n", csv_field_(std::string("# ") + kDisclaimer).c_str());
      std::printf(
          "file,mode,cell,x,y,w,h,label,p_parasitized,band,ms,cells,parasitized,uncertain,"
          "excluded,parasitemia,ci95_lo,ci95_hi,error\n");
    }
  }
  // logits_of: also the model's class (its label of the largest logit) and all its logits
  // (--logits, jsonl only)
  void cell(const std::string& f, const mc::Prediction& r, double ms,
            const mc::Engine* logits_of = nullptr) {
    if (csv_) {
      std::printf("%s,cell,,,,,,%s,%.6f,%s,%.3f,,,,,,,,\n", csv_field_(f).c_str(),
                  mc::label_name(r.label), r.p_parasitized, mc::band_name(r.band), ms);
    } else {
      nlohmann::ordered_json j;
      put_file_(j, f);
      j["mode"] = "cell";
      j["label"] = mc::label_name(r.label);
      j["p_parasitized"] = rounded_(r.p_parasitized, 6);
      j["band"] = mc::band_name(r.band);
      j["ms"] = rounded_(ms, 3);
      if (logits_of) {
        const float* z = logits_of->class_logits(0);
        const int n = logits_of->num_classes();
        int best = 0;
        for (int k = 1; k < n; ++k)
          if (z[k] > z[best]) best = k;
        j["class"] = logits_of->labels()[size_t(best)];
        j["logits"] = std::vector<float>(z, z + n);
      }
      line_(j);
    }
  }
  void field(const std::string& f, const mc::FieldReport& rep, double ms) {
    const mc::Field& fd = rep.field;
    for (size_t i = 0; i < fd.cells.size(); ++i) {
      const mc::FieldCell& c = fd.cells[i];
      if (c.status != mc::kCellCounted) continue;
      const mc::Prediction& r = rep.predictions[i];
      if (csv_) {
        std::printf("%s,field-cell,%zu,%d,%d,%d,%d,%s,%.6f,%s,,,,,,,,,\n", csv_field_(f).c_str(), i,
                    c.x, c.y, c.w, c.h, mc::label_name(r.label), r.p_parasitized,
                    mc::band_name(r.band));
      } else {
        nlohmann::ordered_json j;
        put_file_(j, f);
        j["cell"] = i;
        j["x"] = c.x;
        j["y"] = c.y;
        j["w"] = c.w;
        j["h"] = c.h;
        j["label"] = mc::label_name(r.label);
        j["p_parasitized"] = rounded_(r.p_parasitized, 6);
        j["band"] = mc::band_name(r.band);
        line_(j);
      }
    }
    summary_(f, "field", fd.counted, rep.parasitized, rep.uncertain, Pooled::excluded_(fd), ms,
             &fd);
  }
  void error(const std::string& f, const std::string& e) {
    if (csv_) {
      std::printf("%s,,,,,,,,,,,,,,,,,,%s\n", csv_field_(f).c_str(), csv_field_(e).c_str());
    } else {
      nlohmann::ordered_json j;
      put_file_(j, f);
      j["error"] = e;
      line_(j);
    }
  }

 private:
  void summary_(const std::string& f, const char* mode, int cells, int para, int unc, int excl,
                double ms, const mc::Field* fd) {
    double lo, hi;
    mc::wilson95(para, cells, &lo, &hi);
    const double p = cells ? double(para) / cells : 0;
    if (csv_) {
      std::printf("%s,%s,,,,,,,,,%s,%d,%d,%d,%d,%.6f,%.6f,%.6f,\n", csv_field_(f).c_str(), mode,
                  ms >= 0 ? std::to_string(rounded_(ms, 3)).c_str() : "", cells, para, unc, excl, p,
                  lo, hi);
      return;
    }
    nlohmann::ordered_json j;
    put_file_(j, f);
    j["mode"] = mode;
    j["cells"] = cells;
    j["parasitized"] = para;
    j["uncertain"] = unc;
    j["excluded"] = excl;
    if (fd)
      j["excluded_by"] = {{"border", fd->border},
                          {"white", fd->white},
                          {"debris", fd->debris},
                          {"clump", fd->clump}};
    j["parasitemia"] = rounded_(p, 6);
    j["ci95"] = {rounded_(lo, 6), rounded_(hi, 6)};
    if (fd) j["cell_diameter"] = rounded_(fd->cell_diameter, 1);
    if (ms >= 0) j["ms"] = rounded_(ms, 3);
    line_(j);
  }
  void line_(const nlohmann::ordered_json& j) {
    std::printf("%s\n", json_line_(j).c_str());
    std::fflush(stdout);
  }
  bool csv_;
};

// The field with every region outlined: counted cells by their call (red parasitized, orange
// uncertain, green uninfected), regions left out grey (border), blue (white cell) or yellow.
bool write_overlay_(const std::string& path, const mc::Image& img, const mc::FieldReport& rep,
                    std::string* err) {
  std::vector<uint8_t> o = img.pixels;
  const int W = img.width, H = img.height;
  const int t = std::max(1, std::min(W, H) / 400);  // line half-width
  auto dot = [&](int x, int y, const uint8_t* col) {
    for (int dy = -t; dy <= t; ++dy)
      for (int dx = -t; dx <= t; ++dx) {
        const int xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
        std::memcpy(&o[(size_t(yy) * W + xx) * 3], col, 3);
      }
  };
  const mc::Field& f = rep.field;
  for (size_t i = 0; i < f.cells.size(); ++i) {
    const mc::FieldCell& c = f.cells[i];
    static const uint8_t kRed[3] = {230, 20, 20}, kOrange[3] = {255, 150, 0},
                         kGreen[3] = {0, 190, 60}, kGrey[3] = {128, 128, 128},
                         kBlue[3] = {30, 60, 255}, kYellow[3] = {240, 220, 0};
    const uint8_t* col = kGrey;
    if (c.status == mc::kCellCounted)
      col = rep.predictions[i].band == mc::kBandParasitized ? kRed
            : rep.predictions[i].band == mc::kBandUncertain ? kOrange
                                                            : kGreen;
    else if (c.status == mc::kCellWhite)
      col = kBlue;
    else if (c.status != mc::kCellBorder)
      col = kYellow;
    for (int k = 0; k < mc::kOutlinePoints; ++k) {
      const int k1 = (k + 1) % mc::kOutlinePoints;
      const float x0 = c.outline[2 * k], y0 = c.outline[2 * k + 1];
      const float x1 = c.outline[2 * k1], y1 = c.outline[2 * k1 + 1];
      const int steps = 1 + int(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0)));
      for (int s = 0; s <= steps; ++s)
        dot(int(x0 + (x1 - x0) * s / steps), int(y0 + (y1 - y0) * s / steps), col);
    }
  }
  return mc::write_png(path, W, H, 3, o.data(), err);
}

int main(int argc, char** argv) {
  std::string model = MC_DEFAULT_MODEL, format = "jsonl", cam_dir, overlay_dir, crops_dir,
              mode = "auto";
  bool logits = false;
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
    } else if (a == "--mode") {
      const char* v = value("--mode");
      if (!v) return 2;
      mode = v;
      if (mode != "auto" && mode != "cell" && mode != "field") {
        std::fprintf(stderr, "malaria-classify: unknown mode '%s' (auto, cell or field)\n", v);
        return 2;
      }
    } else if (a == "--crops") {
      const char* v = value("--crops");
      if (!v) return 2;
      crops_dir = v;
    } else if (a == "--overlay") {
      const char* v = value("--overlay");
      if (!v) return 2;
      overlay_dir = v;
    } else if (a == "--logits") {
      logits = true;
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
  for (const std::string* dir : {&cam_dir, &overlay_dir, &crops_dir}) {
    if (dir->empty()) continue;
    std::error_code ec;
    fs::create_directories(*dir, ec);
    if (!fs::is_directory(*dir, ec)) {
      std::fprintf(stderr, "malaria-classify: cannot create folder %s\n", dir->c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "malaria-classify: %s\n", kDisclaimer);

  const std::vector<std::string> files = collect_(paths);
  if (files.empty()) std::fprintf(stderr, "malaria-classify: no images found\n");
  Output out(format == "csv");
  const int S = engine->input_size();
  // an output file's name: the input's stem, then -2, -3, ... until no earlier output has it
  // (a/x.png, b/x.png and x-2.png give x, x-2 and x-2-2). The stem keeps its bytes: a name that
  // is not UTF-8 gives an output name with the same bytes (valid where the input's is, and never
  // the same as another input's); a stem too long for a 255-byte name with all that is added
  // (reserve: bytes the caller appends after suffix) is cut short at a UTF-8 character boundary.
  std::set<std::string> out_names;
  auto out_path = [&](const std::string& dir, const std::string& f, const char* suffix,
                      size_t reserve = 0) {
    constexpr size_t kNameMax = 255;  // NAME_MAX of Linux file systems
    std::string stem = fs::path(f).stem().string();
    if (stem.empty()) stem = "image";
    auto cut = [&](const std::string& tail) {
      const size_t room = kNameMax - std::min(kNameMax - 1, tail.size() + reserve);
      if (stem.size() <= room) return stem + tail;
      size_t n = room;  // back over continuation bytes (at most 3) to a character's start
      for (int k = 0; k < 3 && n > 1 && (static_cast<unsigned char>(stem[n]) & 0xC0) == 0x80; ++k)
        --n;
      return stem.substr(0, n) + tail;
    };
    std::string name = cut(suffix);
    for (int k = 2; !out_names.insert(dir + "/" + name).second; ++k)
      name = cut("-" + std::to_string(k) + suffix);
    return (fs::path(dir) / name).string();
  };
  int failed = 0;
  Pooled pooled;
  mc::Image img;
  mc::CellFinder finder;
  mc::Field found;
  mc::FieldReport report;
  for (const std::string& f : files) {
    std::string ferr = not_readable_(f);  // FIFOs, devices, broken links: refused unopened
    bool ok = ferr.empty() && mc::load_image_file(f, mc::ImageLimits{}, &img, &ferr);
    int kind = mode == "cell" ? mc::kKindCrop : mode == "field" ? mc::kKindField : -1;
    const auto t0 = std::chrono::steady_clock::now();
    if (ok && kind < 0) {
      kind = mc::classify_image_kind(img.pixels.data(), img.width, img.height, 3, mc::ImageLimits{},
                                     &finder, &found, &ferr);
      ok = kind != mc::kKindNone;
    }
    if (ok && kind == mc::kKindCrop) {
      std::string why;
      if (!mc::looks_like_cell_crop(img.pixels.data(), img.width, img.height, 3, &why)) {
        ok = false;
        ferr = "does not look like a single red-cell image: " + why;
      }
    }
    if (ok && kind == mc::kKindField) {
      ok = mc::classify_field(engine.get(), &finder, img.pixels.data(), img.width, img.height, 3,
                              mc::ImageLimits{}, &report, &ferr, mc::FieldOptions{},
                              mode == "auto" ? &found : nullptr);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (ok) {
        out.field(f, report, ms);
        pooled.add(report);
        if (!crops_dir.empty()) {
          std::vector<uint8_t> rgb;
          int cw = 0, ch = 0;
          // unique per field; ".cellI.png" is added
          const std::string base =
              out_path(crops_dir, f, "", 9 + std::to_string(report.field.cells.size()).size());
          for (size_t i = 0; i < report.field.cells.size(); ++i) {
            if (report.field.cells[i].status != mc::kCellCounted) continue;
            finder.crop(img.pixels.data(), img.width, img.height, 3, report.field, i, &rgb, &cw,
                        &ch);
            std::string werr;
            const std::string name = base + ".cell" + std::to_string(i) + ".png";
            if (!mc::write_png(name, cw, ch, 3, rgb.data(), &werr))
              std::fprintf(stderr, "malaria-classify: %s: %s\n", f.c_str(), werr.c_str());
          }
        }
        if (!overlay_dir.empty()) {
          std::string werr;
          if (!write_overlay_(out_path(overlay_dir, f, ".overlay.png"), img, report, &werr))
            std::fprintf(stderr, "malaria-classify: %s: %s\n", f.c_str(), werr.c_str());
        }
      }
    } else if (ok) {
      mc::Prediction r;
      ok = engine->classify(img.pixels.data(), img.width, img.height, 3, &r, &ferr);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (ok) {
        out.cell(f, r, ms, logits ? engine.get() : nullptr);
        if (!cam_dir.empty()) {  // the occlusion heat map (explain.h), computed for this cell
          std::string werr;
          mc::Explanation x;
          const auto t1 = std::chrono::steady_clock::now();
          const bool got =
              mc::explain(engine.get(), img.pixels.data(), img.width, img.height, 3, &x, &werr);
          const double xms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1)
                  .count();
          const std::string base = out_path(cam_dir, f, "", 9);  // ".cam.json" is added
          if (!got || !write_cam_(base + ".cam.png", img, x.map.data(), S, &werr) ||
              !write_cam_json_(base + ".cam.json", x, img.width, img.height, xms, &werr))
            std::fprintf(stderr, "malaria-classify: %s: heat map: %s\n", f.c_str(), werr.c_str());
        }
      }
    }
    if (!ok) {
      ++failed;
      out.error(f, ferr);
    }
  }
  if (pooled.fields >= 2) {
    double lo, hi;
    mc::wilson95(pooled.parasitized, pooled.cells, &lo, &hi);
    std::fprintf(
        stderr,
        "malaria-classify: %d fields pooled: %d red cells counted, %d parasitized, %d uncertain "
        "(to review), %d regions excluded; parasitemia %.2f%% (95%% CI %.2f-%.2f%%)\n",
        pooled.fields, pooled.cells, pooled.parasitized, pooled.uncertain, pooled.excluded,
        pooled.cells ? 100.0 * pooled.parasitized / pooled.cells : 0.0, 100 * lo, 100 * hi);
  }
  if (failed)
    std::fprintf(stderr, "malaria-classify: %d of %zu files could not be classified\n", failed,
                 files.size());
  return failed ? 1 : 0;
}
