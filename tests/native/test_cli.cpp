// malaria-classify: output formats, exit codes, folders, bad files in a batch, --cam.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "image.h"

namespace fs = std::filesystem;

namespace mc_test {
std::vector<uint8_t> synthetic_blob(int S, const std::string& dtype,
                                    uint32_t seed);  // test_engine.cpp
}

namespace {

const std::string kCli_ = std::string(MC_BUILD_DIR) + "/wasm/malaria-classify";
const std::string kFix_ = std::string(MC_REPO_ROOT) + "/tests/fixtures/";
const char* const kCellA_ = "Uninfected_C94P55ThinF_IMG_20150821_170249_cell_97.png";
const char* const kCellB_ = "Parasitized_C68P29N_ThinF_IMG_20150819_134625_cell_29.png";

struct Run_ {
  int code = -1;
  std::string out, err;
  std::vector<std::string> lines;
};

std::string q_(const std::string& s) {  // shell single-quote
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

std::string slurp_(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A scratch folder with a synthetic model and a mixed set of files.
struct Scratch_ {
  fs::path dir;
  std::string model;
  Scratch_() {
    dir = fs::temp_directory_path() / ("mc_cli_test_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "mixed" / "sub");
    fs::create_directories(dir / "good");
    model = (dir / "model.mcb").string();
    const std::vector<uint8_t> blob = mc_test::synthetic_blob(64, "f32", 21);
    std::ofstream(model, std::ios::binary)
        .write(reinterpret_cast<const char*>(blob.data()), blob.size());
    auto cp = [&](const std::string& from, const fs::path& to) { fs::copy_file(from, to); };
    cp(kFix_ + "cells/" + kCellA_, dir / "good" / "a.png");
    cp(kFix_ + "cells/" + kCellB_, dir / "good" / "b.png");
    cp(kFix_ + "cells/" + kCellA_, dir / "mixed" / "a_cell.png");
    cp(kFix_ + "images/png_named.jpg", dir / "mixed" / "b_png_named.jpg");
    cp(kFix_ + "images/text.png", dir / "mixed" / "c_text.png");
    cp(kFix_ + "images/truncated.png", dir / "mixed" / "d_truncated.png");
    cp(kFix_ + "images/empty.png", dir / "mixed" / "sub" / "e_empty.png");
    cp(kFix_ + "cells/" + kCellB_, dir / "mixed" / "sub" / "f_cell.PNG");
    std::ofstream(dir / "mixed" / "notes.txt") << "ignored: not an image extension\n";
  }
  ~Scratch_() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // prefix: e.g. "timeout 20" (a command that runs the CLI)
  Run_ run(const std::string& args, const std::string& prefix = "") const {
    Run_ r;
    const std::string errf = (dir / "stderr.txt").string();
    const std::string cmd =
        prefix + (prefix.empty() ? "" : " ") + q_(kCli_) + " " + args + " 2>" + q_(errf);
    std::FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int st = ::pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.err = slurp_(errf);
    std::istringstream is(r.out);
    std::string line;
    while (std::getline(is, line)) r.lines.push_back(line);
    return r;
  }
};

}  // namespace

TEST_CASE("cli: mixed folder, jsonl, exit 1, batch goes on", "[cli]") {
  REQUIRE(fs::exists(kCli_));
  Scratch_ s;
  const Run_ r = s.run("--model " + q_(s.model) + " " + q_((s.dir / "mixed").string()));
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 6);  // notes.txt skipped; sorted, recursive
  const char* names[] = {"a_cell.png",      "b_png_named.jpg", "c_text.png",
                         "d_truncated.png", "sub/e_empty.png", "sub/f_cell.PNG"};
  const bool good[] = {true, true, false, false, false, true};
  for (size_t i = 0; i < 6; ++i) {
    INFO(r.lines[i]);
    const nlohmann::json j = nlohmann::json::parse(r.lines[i]);  // every stdout line is JSON
    const std::string file = j.at("file");
    CHECK(file.size() >= std::strlen(names[i]));
    CHECK(file.compare(file.size() - std::strlen(names[i]), std::string::npos, names[i]) == 0);
    if (good[i]) {
      CHECK(j.size() == 6);
      CHECK(j.at("mode") == "cell");
      CHECK((j.at("label") == "Parasitized" || j.at("label") == "Uninfected"));
      const double p = j.at("p_parasitized");
      CHECK((p >= 0.0 && p <= 1.0));
      const std::string band = j.at("band");
      CHECK((band == "parasitized" || band == "uncertain" || band == "uninfected"));
      CHECK(j.at("ms").get<double>() >= 0.0);
    } else {
      CHECK(j.size() == 2);
      CHECK(!j.at("error").get<std::string>().empty());
    }
  }
  CHECK(nlohmann::json::parse(r.lines[2])["error"].get<std::string>().find(
            "a text file, not an image") != std::string::npos);
  CHECK(nlohmann::json::parse(r.lines[3])["error"].get<std::string>().find("truncated") !=
        std::string::npos);
  CHECK(nlohmann::json::parse(r.lines[4])["error"].get<std::string>().find("empty") !=
        std::string::npos);
  // the disclaimer is on stderr, once, never in the jsonl stream
  CHECK(r.err.find("not a diagnosis") != std::string::npos);
  CHECK(r.out.find("diagnosis") == std::string::npos);
  // notes.txt is not in the output but named on stderr
  CHECK(r.err.find("skipped 1 file that is not PNG/JPEG/BMP: ") != std::string::npos);
  CHECK(r.err.find("notes.txt") != std::string::npos);
}

TEST_CASE("cli: all good gives exit 0; results match the engine", "[cli]") {
  Scratch_ s;
  const Run_ r = s.run("--model " + q_(s.model) + " " + q_((s.dir / "good").string()));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() == 2);
  const std::vector<uint8_t> blob = mc_test::synthetic_blob(64, "f32", 21);
  std::string err;
  auto e = mc::Engine::create(blob.data(), blob.size(), &err);
  REQUIRE(e);
  for (int i = 0; i < 2; ++i) {
    const nlohmann::json j = nlohmann::json::parse(r.lines[i]);
    mc::Image img;
    REQUIRE(mc::load_image_file(j["file"], mc::ImageLimits{}, &img, &err));
    mc::Prediction p;
    REQUIRE(e->classify(img.pixels.data(), img.width, img.height, 3, &p, &err));
    CHECK(j["p_parasitized"].get<double>() == Approx(p.p_parasitized).margin(1e-6));
    CHECK(j["label"] == mc::label_name(p.label));
    CHECK(j["band"] == mc::band_name(p.band));
  }
  // explicit files keep the given order, whatever their extension
  const Run_ r2 = s.run("--model " + q_(s.model) + " " + q_((s.dir / "good" / "b.png").string()) +
                        " " + q_(kFix_ + "images/png_named.jpg"));
  CHECK(r2.code == 0);
  REQUIRE(r2.lines.size() == 2);
  CHECK(r2.lines[0].find("b.png") != std::string::npos);
}

TEST_CASE("cli: csv has the disclaimer as one quoted field and a header row", "[cli]") {
  Scratch_ s;
  const Run_ r =
      s.run("--format csv --model " + q_(s.model) + " " + q_((s.dir / "mixed").string()));
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 8);
  CHECK(r.lines[0].rfind("\"# ", 0) == 0);  // one quoted field: csv readers see one column
  CHECK(r.lines[0].back() == '"');
  CHECK(r.lines[0].find("not a diagnosis") != std::string::npos);
  CHECK(r.lines[1] ==
        "file,mode,cell,x,y,w,h,label,p_parasitized,band,ms,cells,parasitized,uncertain,"
        "excluded,parasitemia,ci95_lo,ci95_hi,error");
  for (size_t i = 2; i < r.lines.size(); ++i) {
    INFO(r.lines[i]);
    const bool ok = r.lines[i].find(",Parasitized,") != std::string::npos ||
                    r.lines[i].find(",Uninfected,") != std::string::npos;
    CHECK(ok == (r.lines[i].back() == ','));  // classified rows have an empty error column
  }
}

TEST_CASE("cli: usage and model errors exit 2", "[cli]") {
  Scratch_ s;
  const std::string img = q_((s.dir / "good" / "a.png").string());
  Run_ r = s.run("");
  CHECK(r.code == 2);
  CHECK(r.err.find("usage") != std::string::npos);
  r = s.run("--help");
  CHECK(r.code == 0);
  CHECK(r.out.find("not a diagnosis") != std::string::npos);
  r = s.run("--format xml --model " + q_(s.model) + " " + img);
  CHECK(r.code == 2);
  r = s.run("--bogus " + img);
  CHECK(r.code == 2);
  r = s.run("--model");
  CHECK(r.code == 2);
  r = s.run("--model " + q_((s.dir / "nope.mcb").string()) + " " + img);
  CHECK(r.code == 2);
  CHECK(r.err.find("cannot open") != std::string::npos);
  r = s.run("--model " + q_(kFix_ + "images/text.png") + " " + img);
  CHECK(r.code == 2);
  CHECK(r.err.find("rejected") != std::string::npos);
  CHECK(r.out.empty());
  // a path that does not exist is a per-file error, not a usage error
  r = s.run("--model " + q_(s.model) + " " + q_((s.dir / "missing.png").string()) + " " + img);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0].find("\"error\"") != std::string::npos);
}

TEST_CASE("cli: --cam writes overlays", "[cli]") {
  Scratch_ s;
  const fs::path cams = s.dir / "cams";
  const Run_ r =
      s.run("--cam " + q_(cams.string()) + " --model " + q_(s.model) + " " +
            q_((s.dir / "good").string()) + " " + q_((s.dir / "good" / "a.png").string()));
  INFO(r.err);
  CHECK(r.code == 0);
  mc::Image a, a2, b, src;
  std::string err;
  REQUIRE(mc::load_image_file((cams / "a.cam.png").string(), mc::ImageLimits{}, &a, &err));
  REQUIRE(mc::load_image_file((cams / "a-2.cam.png").string(), mc::ImageLimits{}, &a2, &err));
  REQUIRE(mc::load_image_file((cams / "b.cam.png").string(), mc::ImageLimits{}, &b, &err));
  REQUIRE(mc::load_image_file((s.dir / "good" / "a.png").string(), mc::ImageLimits{}, &src, &err));
  CHECK(a.width == src.width);
  CHECK(a.height == src.height);
  CHECK(a.pixels == a2.pixels);
  CHECK(a.pixels != src.pixels);  // something was drawn
}

TEST_CASE("cli: a FIFO is refused at once, not waited on", "[cli]") {
  Scratch_ s;
  const fs::path fifo = s.dir / "cells.png";  // an image name: the type must come from stat
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  // timeout: the old CLI blocked in open() for ever (no writer ever comes)
  const Run_ r = s.run("--model " + q_(s.model) + " " + q_(fifo.string()) + " " +
                           q_((s.dir / "good" / "a.png").string()),
                       "timeout -k 5 30");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out << r.err);
  CHECK(secs < 20);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 2);  // the batch goes on after it
  const nlohmann::json j = nlohmann::json::parse(r.lines[0]);
  CHECK(j.at("file") == fifo.string());
  CHECK(j.at("error") == "not a regular file (fifo)");
  CHECK(j.size() == 2);
  CHECK(nlohmann::json::parse(r.lines[1]).contains("label"));
  // the same FIFO inside a folder: also an error record (it has an image name)
  const fs::path d = s.dir / "withfifo";
  fs::create_directories(d);
  REQUIRE(::mkfifo((d / "x.jpg").c_str(), 0600) == 0);
  const Run_ r2 = s.run("--model " + q_(s.model) + " " + q_(d.string()), "timeout -k 5 30");
  INFO(r2.out << r2.err);
  CHECK(r2.code == 1);
  REQUIRE(r2.lines.size() == 1);
  CHECK(nlohmann::json::parse(r2.lines[0]).at("error") == "not a regular file (fifo)");
}

TEST_CASE("cli: every file in a folder is classified or reported", "[cli]") {
  Scratch_ s;
  const fs::path d = s.dir / "odd";
  fs::create_directories(d);
  fs::copy_file(kFix_ + "cells/" + kCellA_, d / "b_good.png");
  std::ofstream(d / "a_anim.gif") << "GIF89a";                     // not looked at: named on stderr
  std::ofstream(d / ".hidden.gif") << "GIF89a";                    // hidden: silent
  fs::create_symlink("no-such-target.png", d / "c_dangling.png");  // an error record
  fs::create_symlink("d_loop2", d / "d_loop1");                    // a loop: an error record
  fs::create_symlink("d_loop1", d / "d_loop2");
  const Run_ r = s.run("--model " + q_(s.model) + " " + q_(d.string()), "timeout -k 5 60");
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 4);
  const nlohmann::json good = nlohmann::json::parse(r.lines[0]);
  CHECK(good.at("file") == (d / "b_good.png").string());
  CHECK(good.contains("label"));
  const nlohmann::json dangling = nlohmann::json::parse(r.lines[1]);
  CHECK(dangling.at("file") == (d / "c_dangling.png").string());
  CHECK(dangling.at("error").get<std::string>().find("dangling symbolic link") !=
        std::string::npos);
  for (int i = 2; i < 4; ++i)
    CHECK(nlohmann::json::parse(r.lines[i])
              .at("error")
              .get<std::string>()
              .find("symbolic link loop") != std::string::npos);
  // the summary names the skipped file, not the hidden one
  const std::string summary =
      "malaria-classify: skipped 1 file that is not PNG/JPEG/BMP: " + (d / "a_anim.gif").string() +
      "\n";
  CHECK(r.err.find(summary) != std::string::npos);
  CHECK(r.err.find(".hidden") == std::string::npos);
  CHECK(r.out.find("a_anim.gif") == std::string::npos);
}

// ---- whole fields (issue 14): --mode, --overlay, the field's records --------------------------

namespace {

const std::string kField_ = kFix_ + "fields/chula_1.png";

// One CSV record per line as Python's csv module (excel dialect) reads it: a field that starts
// with a quote runs to the next lone quote, "" inside it is one quote.
std::vector<std::vector<std::string>> parse_csv_(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, in_quotes = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"')
        in_quotes = false;
      else
        cell += c;
      continue;
    }
    if (c == '"' && cell.empty() && !quoted) {
      quoted = in_quotes = any = true;
      continue;
    }
    if (c == ',') {
      row.push_back(cell);
      cell.clear();
      quoted = false;
      any = true;
      continue;
    }
    if (c == '\n') {
      if (any || !cell.empty()) row.push_back(cell);
      rows.push_back(row);
      row.clear();
      cell.clear();
      quoted = any = false;
      continue;
    }
    if (c != '\r') {
      cell += c;
      any = true;
    }
  }
  if (any || !cell.empty()) {
    row.push_back(cell);
    rows.push_back(row);
  }
  return rows;
}

std::vector<nlohmann::json> json_lines_(const Run_& r) {
  std::vector<nlohmann::json> out;
  for (const std::string& l : r.lines) {
    INFO(l);
    out.push_back(nlohmann::json::parse(l));
  }
  return out;
}

}  // namespace

TEST_CASE("cli: a field gives one line per counted cell, then the field's line", "[cli][field]") {
  REQUIRE(fs::exists(kCli_));
  Scratch_ s;
  const Run_ r = s.run("--mode field --model " + q_(s.model) + " " + q_(kField_));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() >= 2);
  const std::vector<nlohmann::json> js = json_lines_(r);
  const nlohmann::json& fl = js.back();
  CHECK(fl.at("file") == kField_);
  CHECK(fl.at("mode") == "field");
  const int cells = fl.at("cells"), para = fl.at("parasitized"), unc = fl.at("uncertain");
  const int excluded = fl.at("excluded");
  const double pm = fl.at("parasitemia");
  REQUIRE(fl.at("ci95").is_array());
  REQUIRE(fl.at("ci95").size() == 2);
  const double lo = fl.at("ci95")[0], hi = fl.at("ci95")[1];
  CHECK((0 <= lo && lo <= pm && pm <= hi && hi <= 1));
  CHECK(excluded >= 0);
  CHECK(cells >= 50);  // 92 marked cells away from the border
  CHECK(size_t(cells) == js.size() - 1);
  CHECK(pm == Approx(cells ? double(para) / cells : 0.0).margin(1e-6));
  int n_para = 0, n_unc = 0;
  std::vector<int> ids;
  for (size_t i = 0; i + 1 < js.size(); ++i) {
    const nlohmann::json& j = js[i];
    INFO(j.dump());
    const std::vector<std::string> keys = {"file",  "cell",          "x",   "y", "w", "h",
                                           "label", "p_parasitized", "band"};
    CHECK(j.size() == keys.size());
    for (const std::string& k : keys) CHECK(j.contains(k));
    if (j.size() != keys.size()) continue;
    CHECK(j.at("file") == kField_);
    const int x = j.at("x"), y = j.at("y"), w = j.at("w"), h = j.at("h");
    CHECK((x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 640 && y + h <= 480));
    CHECK((j.at("label") == "Parasitized" || j.at("label") == "Uninfected"));
    const double p = j.at("p_parasitized");
    CHECK((p >= 0.0 && p <= 1.0));
    const std::string band = j.at("band");
    CHECK((band == "parasitized" || band == "uncertain" || band == "uninfected"));
    n_para += band == "parasitized";
    n_unc += band == "uncertain";
    ids.push_back(j.at("cell"));
  }
  CHECK(n_para == para);
  CHECK(n_unc == unc);
  std::sort(ids.begin(), ids.end());
  CHECK(std::unique(ids.begin(), ids.end()) == ids.end());
  // auto mode finds the same field (it reuses the cells found while deciding): same records
  const Run_ a = s.run("--model " + q_(s.model) + " " + q_(kField_));
  CHECK(a.code == 0);
  const std::vector<nlohmann::json> ja = json_lines_(a);
  REQUIRE(ja.size() == js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    nlohmann::json x = js[i], y = ja[i];
    x.erase("ms");
    y.erase("ms");
    CHECK(x == y);
  }
}

TEST_CASE("cli: --mode auto: a cell crop is mode cell, a solid image is not a smear",
          "[cli][field]") {
  Scratch_ s;
  const fs::path solid = s.dir / "solid.png";
  std::vector<uint8_t> px(640 * 480 * 3);
  for (size_t i = 0; i < px.size(); i += 3) {
    px[i] = 200;
    px[i + 1] = 215;
    px[i + 2] = 205;
  }
  std::string err;
  REQUIRE(mc::write_png(solid.string(), 640, 480, 3, px.data(), &err));
  const std::string cell = (s.dir / "good" / "a.png").string();
  const Run_ r =
      s.run("--mode auto --model " + q_(s.model) + " " + q_(cell) + " " + q_(solid.string()));
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 2);
  const nlohmann::json c = nlohmann::json::parse(r.lines[0]);
  CHECK(c.at("file") == cell);
  CHECK(c.at("mode") == "cell");
  CHECK(c.contains("label"));
  const nlohmann::json e = nlohmann::json::parse(r.lines[1]);
  CHECK(e.at("file") == solid.string());
  CHECK(e.size() == 2);
  CHECK(e.at("error").get<std::string>().find("not a blood-smear image") != std::string::npos);
  // the solid image alone: exit status 1
  const Run_ r2 = s.run("--model " + q_(s.model) + " " + q_(solid.string()));
  CHECK(r2.code == 1);
  REQUIRE(r2.lines.size() == 1);
  CHECK(r2.lines[0].find("not a blood-smear image") != std::string::npos);
  // forced to be a field, it is one with no cells: 0 counted, parasitemia 0, and an interval
  // that says nothing is known ([0, 1])
  const Run_ r3 = s.run("--mode field --model " + q_(s.model) + " " + q_(solid.string()));
  INFO(r3.out << r3.err);
  CHECK(r3.code == 0);
  REQUIRE(r3.lines.size() == 1);
  const nlohmann::json f = nlohmann::json::parse(r3.lines[0]);
  CHECK(f.at("mode") == "field");
  CHECK(f.at("cells") == 0);
  CHECK(f.at("parasitemia") == 0.0);
  CHECK(f.at("ci95") == nlohmann::json::array({0.0, 1.0}));
  // a greyscale field, even forced to be a field, gets no count: the model needs colour
  mc::Image field;
  REQUIRE(mc::load_image_file(kFix_ + "fields/chula_1.png", mc::ImageLimits{}, &field, &err));
  for (size_t i = 0; i < field.pixels.size(); i += 3)
    field.pixels[i] = field.pixels[i + 2] = field.pixels[i + 1];
  const fs::path grey = s.dir / "grey_field.png";
  REQUIRE(mc::write_png(grey.string(), field.width, field.height, 3, field.pixels.data(), &err));
  for (const char* mode : {"auto", "field"}) {
    const Run_ r4 =
        s.run(std::string("--mode ") + mode + " --model " + q_(s.model) + " " + q_(grey.string()));
    INFO(mode << ": " << r4.out << r4.err);
    CHECK(r4.code == 1);
    REQUIRE(r4.lines.size() == 1);
    CHECK(r4.lines[0].find("a greyscale image") != std::string::npos);
  }
}

TEST_CASE("cli: --overlay writes the field with its cells outlined", "[cli][field]") {
  Scratch_ s;
  const fs::path dir = s.dir / "overlays";
  const Run_ r = s.run("--mode field --overlay " + q_(dir.string()) + " --model " + q_(s.model) +
                       " " + q_(kField_));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  mc::Image ov, src;
  std::string err;
  REQUIRE(
      mc::load_image_file((dir / "chula_1.overlay.png").string(), mc::ImageLimits{}, &ov, &err));
  REQUIRE(mc::load_image_file(kField_, mc::ImageLimits{}, &src, &err));
  CHECK(ov.width == src.width);
  CHECK(ov.height == src.height);
  CHECK(ov.pixels != src.pixels);  // outlines were drawn
}

TEST_CASE("cli: csv of a field: the notice is one quoted field, then the documented header",
          "[cli][field]") {
  Scratch_ s;
  const Run_ r = s.run("--format csv --mode field --model " + q_(s.model) + " " + q_(kField_));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  const std::vector<std::vector<std::string>> rows = parse_csv_(r.out);
  REQUIRE(rows.size() >= 3);
  REQUIRE(rows[0].size() == 1);
  CHECK(rows[0][0].rfind("# ", 0) == 0);
  CHECK(rows[0][0].find("not a diagnosis") != std::string::npos);
  const std::vector<std::string> header = {
      "file",     "mode",          "cell",    "x",       "y",     "w",           "h",
      "label",    "p_parasitized", "band",    "ms",      "cells", "parasitized", "uncertain",
      "excluded", "parasitemia",   "ci95_lo", "ci95_hi", "error"};
  CHECK(rows[1] == header);
  size_t cell_rows = 0;
  for (size_t i = 2; i < rows.size(); ++i) {
    INFO("row " << i << ": " << r.lines[i]);
    CHECK(rows[i].size() == header.size());
    if (rows[i].size() != header.size()) continue;
    CHECK(rows[i][0] == kField_);
    if (i + 1 < rows.size()) {
      CHECK(rows[i][1] == "field-cell");
      CHECK((rows[i][7] == "Parasitized" || rows[i][7] == "Uninfected"));
      ++cell_rows;
    }
  }
  const std::vector<std::string>& last = rows.back();
  REQUIRE(last.size() == header.size());
  CHECK(last[1] == "field");
  CHECK(std::stoul(last[11]) == cell_rows);
  const double pm = std::stod(last[15]), lo = std::stod(last[16]), hi = std::stod(last[17]);
  CHECK((lo <= pm && pm <= hi));
  CHECK(last[18].empty());
  // Python's own csv reader agrees, when there is one
  if (fs::exists("/usr/bin/python3")) {
    const fs::path csv = s.dir / "field.csv";
    std::ofstream(csv, std::ios::binary) << r.out;
    const std::string cmd =
        "/usr/bin/python3 -c 'import csv, json, sys; "
        "print(json.dumps(list(csv.reader(open(sys.argv[1], newline=\"\")))))' " +
        q_(csv.string());
    std::FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    CHECK(::pclose(p) == 0);
    const nlohmann::json py = nlohmann::json::parse(out);
    CHECK(py == nlohmann::json(rows));
  }
}

// ---- file names that are not UTF-8 (Linux names are bytes) ------------------------------------

namespace {

std::string hex_decode_(const std::string& h) {
  std::string r;
  for (size_t i = 0; i + 1 < h.size(); i += 2) r += char(std::stoi(h.substr(i, 2), nullptr, 16));
  return h.size() % 2 ? std::string("(odd length)") : r;
}

}  // namespace

TEST_CASE("cli: a name that is not UTF-8 keeps a valid \"file\" and its bytes in \"file_hex\"",
          "[cli][field]") {
  Scratch_ s;
  const fs::path d = s.dir / "names";
  fs::create_directories(d);
  const std::string eacute = "\303\251";  // U+00E9, two bytes
  std::string long_stem;  // 248 bytes: with ".overlay.png" over the 255-byte name limit
  for (int i = 0; i < 124; ++i) long_stem += eacute;
  // not UTF-8 (octal escapes: "\xfeb" would be one hex escape)
  const std::string cell_ab = "a\377\376b.png", cell_ba = "a\376\377b.png";
  const std::string odd = "q\"\\\n\t\x01\x7fz.png";  // quote, backslash, control characters
  const std::string field_bad = "fi\377eld.png";
  const std::string cell_utf8 = "cell" + eacute + ".png", field_long = long_stem + ".png";
  for (const std::string& n : {cell_ab, cell_ba, odd, cell_utf8})
    fs::copy_file(kFix_ + "cells/" + kCellA_, d / n);
  for (const std::string& n : {field_bad, field_long}) fs::copy_file(kField_, d / n);
  std::string missing = (s.dir / "nope").string() + eacute + "\xc3.png";  // a cut character
  const std::set<std::string> not_utf8 = {(d / cell_ab).string(), (d / cell_ba).string(),
                                          (d / field_bad).string(), missing};
  const std::set<std::string> given = {(d / cell_ab).string(),
                                       (d / cell_ba).string(),
                                       (d / odd).string(),
                                       (d / cell_utf8).string(),
                                       (d / field_bad).string(),
                                       (d / field_long).string(),
                                       missing};
  const fs::path ov = s.dir / "overlays";
  const Run_ r = s.run("--overlay " + q_(ov.string()) + " --model " + q_(s.model) + " " +
                       q_(d.string()) + " " + q_(missing));
  INFO(r.out << r.err);
  CHECK(r.code == 1);  // the missing file
  // the whole output is valid UTF-8: none of the names' stray bytes got into it
  CHECK(r.out.find('\xff') == std::string::npos);
  CHECK(r.out.find('\xfe') == std::string::npos);
  std::map<std::string, int> lines_of;              // path (from its bytes) -> lines
  std::map<std::string, std::string> shown, kinds;  // path -> "file"; -> kinds of its lines
  for (const std::string& l : r.lines) {
    INFO(l);
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(l);  // ill-formed UTF-8 throws
    const std::string file = j.at("file");
    CHECK_NOTHROW(j.at("file").dump());  // the strict serializer refuses ill-formed UTF-8
    std::string path = file;
    auto key = j.begin();
    CHECK(key.key() == "file");  // "file" first ...
    if (j.contains("file_hex")) {
      path = hex_decode_(j.at("file_hex"));
      CHECK((++key).key() == "file_hex");  // ... and "file_hex" right after it
      CHECK(not_utf8.count(path) == 1);
      CHECK(file != path);
      CHECK(file.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD where bytes were not UTF-8
    } else {
      CHECK(not_utf8.count(path) == 0);  // a UTF-8 name: "file" is the path, unchanged
    }
    CHECK(given.count(path) == 1);
    if (shown.count(path)) CHECK(shown[path] == file);  // every line of a field says the same
    shown[path] = file;
    ++lines_of[path];
    kinds[path] += j.contains("error")      ? "E"
                   : j.contains("cell")     ? "c"
                   : j.at("mode") == "cell" ? "C"
                                            : "F";
  }
  CHECK(lines_of.size() == given.size());  // every file has its lines
  // cell lines, field per-cell and summary lines, error lines
  CHECK(kinds[(d / cell_ab).string()] == "C");
  CHECK(kinds[missing] == "E");
  const std::string fk = kinds[(d / field_bad).string()];
  CHECK(fk.size() > 5);
  CHECK(fk == std::string(fk.size() - 1, 'c') + "F");
  // the two names the old CLI printed alike: the same "file", told apart by their bytes
  CHECK(shown[(d / cell_ab).string()] == shown[(d / cell_ba).string()]);
  CHECK(shown[missing] == (s.dir / "nope").string() + eacute + "\xef\xbf\xbd.png");
  CHECK(shown[(d / odd).string()] == (d / odd).string());  // quotes and controls escaped, exact
  CHECK(r.out.find("q\\\"\\\\\\n\\t\\u0001\x7fz.png") != std::string::npos);
  // overlays: named by the stem's own bytes (two such names never meet), and the long name cut
  // short at a character boundary to fit 255 bytes
  mc::Image img;
  std::string err;
  CHECK(
      mc::load_image_file((ov / "fi\377eld.overlay.png").string(), mc::ImageLimits{}, &img, &err));
  std::vector<std::string> made;
  for (const auto& e : fs::directory_iterator(ov)) made.push_back(e.path().filename().string());
  REQUIRE(made.size() == 2);
  std::sort(made.begin(), made.end());
  const std::string& cut = made[1];  // 0xc3... sorts after "fi"
  CHECK(cut.size() <= 255);
  CHECK(cut.size() > 240);
  const std::string tail = ".overlay.png";
  REQUIRE(cut.size() > tail.size());
  CHECK(cut.compare(cut.size() - tail.size(), tail.size(), tail) == 0);
  CHECK(long_stem.compare(0, cut.size() - tail.size(), cut, 0, cut.size() - tail.size()) == 0);
  CHECK((cut.size() - tail.size()) % 2 == 0);  // whole characters
  CHECK(mc::load_image_file((ov / cut).string(), mc::ImageLimits{}, &img, &err));
  // csv: the file column holds the path's bytes as they are
  const Run_ c = s.run("--format csv --model " + q_(s.model) + " " + q_((d / cell_ab).string()) +
                       " " + q_((d / odd).string()));
  CHECK(c.code == 0);
  const std::vector<std::vector<std::string>> rows = parse_csv_(c.out);
  REQUIRE(rows.size() == 4);
  CHECK(rows[2].at(0) == (d / cell_ab).string());
  CHECK(rows[3].at(0) == (d / odd).string());
}
