/* malaria.h -- C ABI of the inference core, used by the wasm bindings (web/) and any embedder.
 *
 * Usage:
 *   char err[256];
 *   mc_engine_params p = {0};       // zero: the defaults (blob copied, hashed by the core)
 *   p.blob = blob_bytes;
 *   p.blob_len = blob_len;
 *   mc_engine* e = mc_engine_create(&p, err, sizeof err);
 *   if (!e) { fprintf(stderr, "model rejected: %s\n", err); return 2; }
 *   mc_result r;
 *   if (mc_classify_rgba(e, rgba, width, height, 4, &r, err, sizeof err) != 0) { ... }
 *   printf("%s p=%.4f\n", r.label ? "Parasitized" : "Uninfected", r.p_parasitized);
 *   const float* cam = mc_cam(e);   // S*S floats of the last classify call
 *   mc_engine_destroy(e);
 *
 * The engine copies nothing it does not need: the blob may be freed after create (or handed
 * over: mc_engine_params.adopt). All buffers are allocated in create; classify allocates
 * nothing. An engine is not thread-safe: use one per thread / worker.
 */
#ifndef MALARIA_H
#define MALARIA_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct mc_engine mc_engine;

enum { MC_BAND_UNINFECTED = 0, MC_BAND_UNCERTAIN = 1, MC_BAND_PARASITIZED = 2 };

typedef struct mc_result {
  float logits[2];     /* raw logits, index 0 Uninfected, 1 Parasitized (a model with N classes:
                          [1] the parasitized class's, [0] the largest other; all N: mc_logits_at) */
  float p_parasitized; /* softmax(logits / temperature)[1] (N classes: over all N) */
  int32_t label;       /* 1 Parasitized when p_parasitized > 0.5 (2 classes: logits[1] >
                          logits[0]), else 0 Uninfected */
  int32_t band;        /* MC_BAND_*: p <= lo uninfected, p >= hi parasitized, else uncertain */
} mc_result;

/* How to build an engine. All-zero fields are the defaults: `mc_engine_params p = {0};` then set
 * blob and blob_len (as ggml_init(params)). */
typedef struct mc_engine_params {
  const uint8_t* blob; /* the .mcb bytes */
  size_t blob_len;
  /* Optional (NULL: the core hashes the payload itself): the SHA-256 of blob[64, blob_len), the
   * payload the preamble's checksum covers, computed by the caller, e.g. with WebCrypto, which is
   * several times faster than hashing in wasm. The core compares it with the preamble (a
   * mismatch is rejected with the same message). It must be the digest of exactly these bytes. */
  const uint8_t* payload_sha256;
  /* Nonzero: `blob` is a buffer from malloc() that the engine takes over and frees (on destroy,
   * or at once when create returns NULL); the weights that run as stored are read in place
   * instead of copied (int8: ~8 MB less memory and one copy less at load). Zero: the engine
   * copies what it needs and the caller may free blob after create. */
  int32_t adopt;
  /* Nonzero (int8; f32/f16 engines are built whole): built for the quickest first result. The 3x3
   * convolutions that run as the exact Winograd transform run the direct form on the stored
   * weights until mc_engine_finish(e), so that ~8 MB of transformed weights are neither made nor
   * touched before the first result. Results are bit-identical either way. */
  int32_t staged;
} mc_engine_params;

/* Returns NULL and writes a message naming the failed check into err on a bad blob (or NULL
 * params, an empty blob). */
mc_engine* mc_engine_create(const mc_engine_params* params, char* err, size_t err_len);
/* Makes what a staged engine deferred and plans its buffers again (allocates: call it between
 * classifications, e.g. once the first result is out). 0 (at once when nothing is deferred),
 * or -1 with a message: out of memory, after which the engine must be destroyed. */
int32_t mc_engine_finish(mc_engine* e, char* err, size_t err_len);
void mc_engine_destroy(mc_engine* e);

/* The blob's JSON header (metadata: input spec, labels, calibration, provenance, metrics). */
const char* mc_metadata_json(const mc_engine* e);
int32_t mc_input_size(const mc_engine* e); /* S */

/* Classify one image of width x height pixels, channels 3 (RGB) or 4 (RGBA, alpha ignored),
 * rows tightly packed. Returns 0, or -1 with a message in err (bad size, too large, ...). */
int32_t mc_classify_rgba(mc_engine* e, const uint8_t* pixels, int32_t width, int32_t height,
                         int32_t channels, mc_result* out, char* err, size_t err_len);

/* Class activation map of the last successful classify: S*S floats, row-major, the
 * Parasitized-minus-Uninfected evidence of the last conv features, bilinearly upsampled to
 * the S x S network input (which covers the whole image). Valid until the next classify.
 * With N > 2 classes the evidence is the parasitized row of the fc minus the mean of the other
 * rows. NULL for a model whose head is not one linear layer on the average pool (a fast.ai head
 * with a hidden layer or concat pooling): use the occlusion map (mc_explain) for those. */
const float* mc_cam(const mc_engine* e);

/* The model's classes (format version 2 blobs may have N = 2 .. 64; version 1: 2): their count,
 * which one is "parasitized" (an index into the blob header's "labels"), and the N raw logits of
 * image i of the last mc_classify_batch_rgba (i = 0: also of the last mc_classify_rgba), in label
 * order; NULL for i out of range. Valid until the next classify call. */
int32_t mc_num_classes(const mc_engine* e);
int32_t mc_positive_class(const mc_engine* e);
const float* mc_logits_at(const mc_engine* e, int32_t i);

/* Images one mc_classify_batch_rgba call takes: 8 for an int8 model (fewer at input sizes
 * where a batch's buffers would pass 256 MiB), 1 for f32/f16. */
int32_t mc_batch_capacity(const mc_engine* e);
/* Classify n <= mc_batch_capacity(e) images in one pass, in which every layer runs once over all
 * of them (each weight is read once for the batch: more cells per second than n single calls).
 * Image i is pixels[i], widths[i] x heights[i], `channels` as in mc_classify_rgba; results[i]
 * and mc_cam_at(e, i) are exactly what mc_classify_rgba gives that image alone. status[i] is 0,
 * or -1 when image i cannot be read (bad size, too large): the others go on, and err names the
 * first such image. Returns how many images were classified, or -1 with a message in err for a
 * bad n or a null array. */
int32_t mc_classify_batch_rgba(mc_engine* e, int32_t n, const uint8_t* const* pixels,
                               const int32_t* widths, const int32_t* heights, int32_t channels,
                               mc_result* results, int32_t* status, char* err, size_t err_len);
/* CAM of image i of the last mc_classify_batch_rgba (i = 0: also of the last mc_classify_rgba);
 * NULL for i out of range. Valid until the next classify call. */
const float* mc_cam_at(const mc_engine* e, int32_t i);

/* ---- Whole fields and the crop / field / neither decision (field.h) ----
 *   mc_field* f = mc_field_create();
 *   int32_t kind = mc_image_kind(f, rgba, w, h, 4, MC_MODE_AUTO, err, sizeof err);
 *   if (kind == MC_KIND_FIELD) {
 *     int32_t n = mc_classify_field(e, f, rgba, w, h, 4, err, sizeof err);   // regions found
 *     const mc_field_summary* s = mc_field_summary_of(f);
 *     const mc_field_cell* cells = mc_field_cells(f);     // n of them, counted or left out
 *   } else if (kind == MC_KIND_CELL) { mc_classify_rgba(e, ...); }
 *   else { puts(err); }                                   // not a smear / not a cell crop
 *   mc_field_destroy(f);
 */
typedef struct mc_field mc_field;
enum { MC_MODE_AUTO = -1, MC_MODE_CELL = 0, MC_MODE_FIELD = 1 };
enum { MC_KIND_CELL = 0, MC_KIND_FIELD = 1, MC_KIND_NONE = 2 };
enum {
  MC_CELL_COUNTED = 0,
  MC_CELL_BORDER = 1,
  MC_CELL_WHITE = 2,
  MC_CELL_DEBRIS = 3,
  MC_CELL_CLUMP = 4
};
#define MC_OUTLINE_POINTS 24
typedef struct mc_field_cell {
  int32_t x, y, w, h;  /* box, input pixels */
  int32_t status;      /* MC_CELL_*: only counted cells are classified */
  int32_t label, band; /* of a counted cell (as mc_result) */
  float p_parasitized;
  float outline[2 * MC_OUTLINE_POINTS]; /* (x, y) polygon, input pixels */
} mc_field_cell;
typedef struct mc_field_summary {
  int32_t regions; /* cells of mc_field_cells */
  int32_t counted, parasitized, uncertain;
  int32_t border, white, debris, clump; /* regions left out, by rule */
  float parasitemia, ci95_lo, ci95_hi;  /* parasitized / counted, Wilson 95% */
  float cell_diameter;                  /* median counted cell, input pixels */
} mc_field_summary;
mc_field* mc_field_create(void);
void mc_field_destroy(mc_field* f);
/* What the image is: MC_KIND_CELL (a cut-out cell that passes the cell gate), MC_KIND_FIELD or
 * MC_KIND_NONE with the reason in err ("not a blood-smear image: ...", "does not look like a
 * single red-cell image: ..."); -1 with a message for an image that cannot be read (size). mode
 * MC_MODE_CELL / MC_MODE_FIELD skips the decision (the cell gate still applies to cells). */
int32_t mc_image_kind(mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
                      int32_t channels, int32_t mode, char* err, size_t err_len);
/* Finds (or reuses what mc_image_kind found for this image) and classifies every counted cell
 * of a field in batched passes. Returns the number of regions, or -1 with a message. */
int32_t mc_classify_field(mc_engine* e, mc_field* f, const uint8_t* pixels, int32_t width,
                          int32_t height, int32_t channels, char* err, size_t err_len);
/* Finds the cells as mc_classify_field does and classifies none (label, band and p -1; the
 * summary's parasitized, uncertain, parasitemia and interval 0): for a caller that classifies
 * the counted cells' crops (mc_field_crop) elsewhere, e.g. spread over several engines. */
int32_t mc_find_field(mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
                      int32_t channels, char* err, size_t err_len);
const mc_field_summary* mc_field_summary_of(const mc_field* f);
const mc_field_cell* mc_field_cells(const mc_field* f);
/* Cell i's crop in the training set's form (its box, outside its region black) as RGB into
 * out (w*h*3 bytes, w and h those of mc_field_cells(f)[i]) from the same pixels. 0 or -1. */
int32_t mc_field_crop(const mc_field* f, const uint8_t* pixels, int32_t width, int32_t height,
                      int32_t channels, int32_t i, uint8_t* out);

/* XXH64 (seed 0) of data[0, len), written to out[0..8) little-endian: the fast checksum that
 * shows bytes unchanged since a SHA-256 check (the page's local copy of the model,
 * web/model-copy.js); not a cryptographic hash. */
void mc_checksum64(const uint8_t* data, size_t len, uint8_t out[8]);

/* ---- Heat map: occlusion, computed on demand for one cell (wasm/src/explain.h) ----
 * Where covering the cell lowers the network's evidence for Parasitized: a 6 x 6 patch of the
 * S x S network input slides over the cell with stride 4 (the cell's pixels under it take the
 * cell's mean colour, the black surround stays black) and map[p] is the mean drop of the
 * Parasitized logit over the patches covering pixel p. map: S*S floats (S = mc_input_size(e)),
 * row-major over the network input, which covers the whole image. result (may be NULL): the
 * unoccluded image's result, as mc_classify_rgba gives it. peak (may be NULL): 2 floats, the
 * map's peak over the cell in S-pixel coordinates (x, y; pixel centres at +0.5). Returns the
 * number of network passes it took (up to 257 at S = 64, in batches of mc_batch_capacity), or
 * -1 with a message (bad size, no cell pixel). Measured on the test slides' parasitized cells:
 * model/REPORT.md, "Heat map". It answers "where is the evidence for Parasitized", so it means
 * something only on a cell that is not called Uninfected. */
int32_t mc_explain(mc_engine* e, const uint8_t* pixels, int32_t width, int32_t height,
                   int32_t channels, float* map, mc_result* result, float* peak, char* err,
                   size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
