// c_api.cpp -- malaria.h (the C ABI) on top of mc::Engine.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "engine.h"
#include "explain.h"
#include "field.h"
#include "malaria.h"
#include "xxh64.h"

struct mc_engine {
  std::unique_ptr<mc::Engine> engine;
};

struct mc_field {
  mc::CellFinder finder;
  mc::Field found;  // of mc_image_kind, reused by mc_classify_field
  mc::FieldReport report;
  std::vector<mc_field_cell> cells;
  mc_field_summary summary{};
};

namespace {

// Copy msg into err[0..err_len), always NUL-terminated when err_len > 0.
void copy_err_(char* err, size_t err_len, const char* msg) {
  if (!err || err_len == 0) return;
  const size_t n = std::strlen(msg);
  const size_t k = n < err_len - 1 ? n : err_len - 1;
  std::memcpy(err, msg, k);
  err[k] = '\0';
}

mc_result result_of_(const mc::Prediction& p) {
  return mc_result{{p.logits[0], p.logits[1]}, p.p_parasitized, p.label, p.band};
}

}  // namespace

extern "C" {

mc_engine* mc_engine_create(const mc_engine_params* params, char* err, size_t err_len) {
  if (!params) {
    copy_err_(err, err_len, "null engine params");
    return nullptr;
  }
  const mc_engine_params p = *params;
  // an adopted buffer is the engine's from here on, freed on every path
  uint8_t* owned = p.adopt ? const_cast<uint8_t*>(p.blob) : nullptr;
  if (!p.blob || p.blob_len == 0) {
    std::free(owned);
    copy_err_(err, err_len, "not a model blob: the file is empty");
    return nullptr;
  }
  copy_err_(err, err_len, "");
  try {
    std::string msg;
    std::unique_ptr<mc::Engine> eng =
        owned ? mc::Engine::create_adopt(owned, p.blob_len, &msg, mc::default_isa(),
                                         mc::ImageLimits{}, p.payload_sha256, p.staged != 0)
              : mc::Engine::create(p.blob, p.blob_len, &msg, mc::default_isa(), mc::ImageLimits{},
                                   p.payload_sha256, p.staged != 0);
    if (!eng) {
      copy_err_(err, err_len, msg.empty() ? "model rejected" : msg.c_str());
      return nullptr;
    }
    mc_engine* h = new mc_engine;
    h->engine = std::move(eng);
    return h;
  } catch (const std::bad_alloc&) {
    copy_err_(err, err_len, "out of memory while loading the model");
  } catch (const std::exception& ex) {
    copy_err_(err, err_len, ex.what());
  } catch (...) {
    copy_err_(err, err_len, "unknown error while loading the model");
  }
  return nullptr;
}

int32_t mc_engine_finish(mc_engine* e, char* err, size_t err_len) {
  if (!e) {
    copy_err_(err, err_len, "null engine");
    return -1;
  }
  std::string msg;
  bool ok = false;
  try {  // makes the Winograd weights and plans again (allocates, once)
    ok = e->engine->finish(&msg);
  } catch (const std::bad_alloc&) {
    msg = "out of memory while finishing the engine";
  }
  copy_err_(err, err_len, ok ? "" : msg.c_str());
  return ok ? 0 : -1;
}

void mc_engine_destroy(mc_engine* e) { delete e; }

const char* mc_metadata_json(const mc_engine* e) {
  return e ? e->engine->metadata_json().c_str() : "";
}

int32_t mc_input_size(const mc_engine* e) { return e ? e->engine->input_size() : 0; }

int32_t mc_classify_rgba(mc_engine* e, const uint8_t* pixels, int32_t width, int32_t height,
                         int32_t channels, mc_result* out, char* err, size_t err_len) {
  if (!e || !out || !pixels) {
    copy_err_(err, err_len, "null engine, pixels or result");
    return -1;
  }
  std::string msg;
  mc::Prediction p;
  if (!e->engine->classify(pixels, width, height, channels, &p, &msg)) {
    copy_err_(err, err_len, msg.c_str());
    return -1;
  }
  *out = result_of_(p);
  copy_err_(err, err_len, "");
  return 0;
}

const float* mc_cam(const mc_engine* e) { return e ? e->engine->cam() : nullptr; }

int32_t mc_num_classes(const mc_engine* e) { return e ? e->engine->num_classes() : 0; }
int32_t mc_positive_class(const mc_engine* e) { return e ? e->engine->positive_class() : -1; }
const float* mc_logits_at(const mc_engine* e, int32_t i) {
  return e ? e->engine->class_logits(i) : nullptr;
}

int32_t mc_batch_capacity(const mc_engine* e) { return e ? e->engine->batch_capacity() : 0; }

int32_t mc_classify_batch_rgba(mc_engine* e, int32_t n, const uint8_t* const* pixels,
                               const int32_t* widths, const int32_t* heights, int32_t channels,
                               mc_result* results, int32_t* status, char* err, size_t err_len) {
  static_assert(sizeof(int) == sizeof(int32_t), "int is 32 bits on every target we build");
  if (!e || !pixels || !widths || !heights || !results || !status) {
    copy_err_(err, err_len, "null engine, pixels, sizes, results or status");
    return -1;
  }
  if (n < 1 || n > e->engine->batch_capacity()) {
    copy_err_(err, err_len, "batch size out of range (1 .. mc_batch_capacity)");
    return -1;
  }
  std::string errs[mc::kMaxBatch], msg;
  mc::Prediction p[mc::kMaxBatch];
  int good = -1;
  try {  // the first batch plans its buffers (allocates, once)
    good = e->engine->classify_batch(n, pixels, widths, heights, channels, p, errs, &msg);
  } catch (const std::bad_alloc&) {
    msg = "out of memory for a batch of " + std::to_string(n) + " images";
  }
  if (good < 0) {
    copy_err_(err, err_len, msg.c_str());
    return -1;
  }
  copy_err_(err, err_len, "");
  bool named = false;
  for (int i = 0; i < n; ++i) {
    status[i] = errs[i].empty() ? 0 : -1;
    results[i] = result_of_(p[i]);
    if (status[i] && !named) {
      copy_err_(err, err_len, ("image " + std::to_string(i) + ": " + errs[i]).c_str());
      named = true;
    }
  }
  return good;
}

const float* mc_cam_at(const mc_engine* e, int32_t i) { return e ? e->engine->cam(i) : nullptr; }

mc_field* mc_field_create(void) { return new (std::nothrow) mc_field; }
void mc_field_destroy(mc_field* f) { delete f; }

int32_t mc_image_kind(mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
                      int32_t channels, int32_t mode, char* err, size_t err_len) {
  copy_err_(err, err_len, "");
  if (!f || !pixels) {
    copy_err_(err, err_len, "null field or pixels");
    return -1;
  }
  std::string msg;
  if (!mc::check_image_size(width, height, channels, mc::ImageLimits{}, &msg)) {
    copy_err_(err, err_len, msg.c_str());
    return -1;
  }
  f->found = mc::Field{};
  int kind = mode == MC_MODE_CELL ? mc::kKindCrop : mode == MC_MODE_FIELD ? mc::kKindField : -1;
  try {
    if (kind < 0)
      kind = mc::classify_image_kind(pixels, width, height, channels, mc::ImageLimits{}, &f->finder,
                                     &f->found, &msg);
  } catch (const std::bad_alloc&) {
    copy_err_(err, err_len, "out of memory while looking for cells");
    return -1;
  }
  if (kind == mc::kKindCrop && !mc::looks_like_cell_crop(pixels, width, height, channels, &msg)) {
    msg = "does not look like a single red-cell image: " + msg;
    kind = mc::kKindNone;
  }
  if (kind == mc::kKindNone) copy_err_(err, err_len, msg.c_str());
  return kind;
}

}  // extern "C"

namespace {

// mc_classify_field (e set) and mc_find_field (e null: found, none classified): f->cells and
// f->summary from what was done; a cell not classified has label and band -1, p -1.
int32_t field_(mc_engine* e, mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
               int32_t channels, char* err, size_t err_len) {
  std::string msg;
  bool ok = false;
  mc::Field* found = f->found.width == width && f->found.height == height ? &f->found : nullptr;
  try {
    if (e) {
      ok = mc::classify_field(e->engine.get(), &f->finder, pixels, width, height, channels,
                              mc::ImageLimits{}, &f->report, &msg, mc::FieldOptions{}, found);
    } else {
      f->report = mc::FieldReport{};
      ok = mc::find_field(&f->finder, pixels, width, height, channels, mc::ImageLimits{},
                          &f->report.field, &msg, mc::FieldOptions{}, found);
      f->report.predictions.assign(f->report.field.cells.size(), mc::Prediction{});
    }
  } catch (const std::bad_alloc&) {
    msg = "out of memory for a field of " + std::to_string(width) + "x" + std::to_string(height);
  }
  f->found = mc::Field{};
  if (!ok) {
    copy_err_(err, err_len, msg.c_str());
    return -1;
  }
  const mc::Field& fd = f->report.field;
  f->cells.resize(fd.cells.size());
  for (size_t i = 0; i < fd.cells.size(); ++i) {
    const mc::FieldCell& c = fd.cells[i];
    const mc::Prediction& p = f->report.predictions[i];
    const bool classified = e && c.status == mc::kCellCounted;
    mc_field_cell& o = f->cells[i];
    o.x = c.x;
    o.y = c.y;
    o.w = c.w;
    o.h = c.h;
    o.status = c.status;
    o.label = classified ? p.label : -1;
    o.band = classified ? p.band : -1;
    o.p_parasitized = classified ? p.p_parasitized : -1.0f;
    std::memcpy(o.outline, c.outline, sizeof o.outline);
  }
  static_assert(MC_OUTLINE_POINTS == mc::kOutlinePoints, "one outline size");
  mc_field_summary& s = f->summary;
  s.regions = static_cast<int32_t>(fd.cells.size());
  s.counted = fd.counted;
  s.parasitized = f->report.parasitized;
  s.uncertain = f->report.uncertain;
  s.border = fd.border;
  s.white = fd.white;
  s.debris = fd.debris;
  s.clump = fd.clump;
  s.parasitemia = static_cast<float>(f->report.parasitemia);
  s.ci95_lo = static_cast<float>(f->report.ci95[0]);
  s.ci95_hi = static_cast<float>(f->report.ci95[1]);
  s.cell_diameter = fd.cell_diameter;
  return s.regions;
}

}  // namespace

extern "C" {

int32_t mc_classify_field(mc_engine* e, mc_field* f, const uint8_t* pixels, int32_t width,
                          int32_t height, int32_t channels, char* err, size_t err_len) {
  copy_err_(err, err_len, "");
  if (!e || !f || !pixels) {
    copy_err_(err, err_len, "null engine, field or pixels");
    return -1;
  }
  return field_(e, f, pixels, width, height, channels, err, err_len);
}

int32_t mc_find_field(mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
                      int32_t channels, char* err, size_t err_len) {
  copy_err_(err, err_len, "");
  if (!f || !pixels) {
    copy_err_(err, err_len, "null field or pixels");
    return -1;
  }
  return field_(nullptr, f, pixels, width, height, channels, err, err_len);
}

const mc_field_summary* mc_field_summary_of(const mc_field* f) { return f ? &f->summary : nullptr; }
const mc_field_cell* mc_field_cells(const mc_field* f) {
  return f && !f->cells.empty() ? f->cells.data() : nullptr;
}

int32_t mc_field_crop(const mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
                      int32_t channels, int32_t i, uint8_t* out) {
  if (!f || !pixels || !out || i < 0 || size_t(i) >= f->report.field.cells.size()) return -1;
  const mc::Field& fd = f->report.field;
  if (fd.width != width || fd.height != height || (channels != 3 && channels != 4)) return -1;
  std::vector<uint8_t> rgb;
  int w = 0, h = 0;
  f->finder.crop(pixels, width, height, channels, fd, size_t(i), &rgb, &w, &h);
  std::memcpy(out, rgb.data(), rgb.size());
  return 0;
}

void mc_checksum64(const uint8_t* data, size_t len, uint8_t out[8]) {
  if (!out) return;
  const uint64_t h = mc::xxh64(data, data ? len : 0);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(h >> (8 * i));
}

int32_t mc_explain(mc_engine* e, const uint8_t* pixels, int32_t width, int32_t height,
                   int32_t channels, float* map, mc_result* result, float* peak, char* err,
                   size_t err_len) {
  copy_err_(err, err_len, "");
  if (!e || !pixels || !map) {
    copy_err_(err, err_len, "null engine, pixels or map");
    return -1;
  }
  mc::Explanation x;
  std::string msg;
  bool ok = false;
  try {  // the copies, the map (and the engine's batch buffers at its first batch) are allocated
    ok = mc::explain(e->engine.get(), pixels, width, height, channels, &x, &msg);
  } catch (const std::bad_alloc&) {
    msg = "out of memory for the heat map";
  }
  if (!ok) {
    copy_err_(err, err_len, msg.c_str());
    return -1;
  }
  std::memcpy(map, x.map.data(), x.map.size() * sizeof(float));
  if (result) *result = result_of_(x.base);
  if (peak) {
    peak[0] = x.peak_x;
    peak[1] = x.peak_y;
  }
  return x.passes;
}

}  // extern "C"
