// field.h -- whole microscope fields: find every red blood cell, cut it out in the training
// set's form, count, and decide whether an image is a cell crop, a field, or neither.
//
// Usage:
//   mc::CellFinder finder;                       // keeps its scratch buffers between fields
//   mc::Field f;
//   std::string err;
//   if (!finder.find(rgba, width, height, 4, mc::ImageLimits{}, &f, &err)) { ... }  // refused
//   for (size_t i = 0; i < f.cells.size(); ++i) {
//     const mc::FieldCell& c = f.cells[i];       // box, outline, status (counted / left out)
//     if (c.status != mc::kCellCounted) continue;
//     std::vector<uint8_t> rgb; int w, h;
//     finder.crop(rgba, width, height, 4, f, i, &rgb, &w, &h);   // box, outside the mask black
//     ... engine->classify(rgb.data(), w, h, 3, &r, &err) ...
//   }
//   mc::ImageKind k = mc::classify_image_kind(rgba, width, height, 4, limits, &finder, &f, &why);
//
// The method (one pass, O(pixels) after one downscale; see docs/FIELD.md):
//   0. field of view and light, on each downscaled copy: dark regions touching the image's edge
//      (the black around an eyepiece's round field stop, black bars) and the stop's blurred edge
//      are outside the view; uneven light (vignetting) is evened out when a quadratic surface
//      fitted to the plasma's brightness varies by more than 8%.
//   1. scale: the field is area-downscaled to <= kEstimateSide px a side; Otsu on the green
//      channel gives a first foreground, whose lone discs (or, in a dense field, its distance
//      transform's peaks) give the cells' radius; where that pass finds none or only small ones,
//      a second pass at the scale that shows a kMinCellDiameter cell 5 px across. The field is
//      then resampled so that a cell is ~kWorkRadius*2 px across (the working scale; smaller cells
//      are enlarged). Cells under kMinCellDiameter px are refused with a message (too few pixels
//      to classify); an image with nothing cell-like gets no cells without a finer search.
//   2. foreground: green channel, 3x3 box blur, Otsu threshold over the view (cells absorb
//      green: darker than the plasma around them); a cell's pale centre filled, components
//      smaller than 15% of a cell dropped.
//   3. markers: maxima of the (blurred) exact Euclidean distance transform, strongest first, a
//      maximum kept when no stronger one lies within 0.9x its own distance value (two touching
//      cells of radius R have centres 2R apart; one oval cell's ridge is suppressed).
//   4. watershed: the markers flood the foreground in order of decreasing distance value
//      (priority flood), so touching and overlapping cells are split along their neck; clumps
//      it leaves whole are split by k-means (also those cut by the border).
//   5. each region: box, area, outline (kOutlinePoints rays from its centroid) and a status:
//        border  its region touches the image edge or the field stop's (cut: never counted);
//        white   a white blood cell: it holds a dark-purple (nucleus) area of >= 60% of a median
//                red cell (a red cell's ring or gametocyte is smaller and paler), alone or with
//                the mostly dark regions it touches (a lobed nucleus cut by the watershed);
//        debris  smaller than 35% of the median cell (platelets, stain, fragments);
//        clump   larger than 2.6x the median cell (cells the watershed could not split);
//        counted everything else: a red cell, counted and classified.
// Crops (crop()) are the cell's box in the input image with every pixel outside the cell's
// region black, as in the NIH cell_images set, optionally colour-normalised (FieldOptions).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine.h"      // Engine, Prediction
#include "preprocess.h"  // ImageLimits

namespace mc {

constexpr int kOutlinePoints = 24;           // outline polygon vertices per cell
constexpr int kWorkRadius = 14;              // a cell's radius at the working scale, pixels
constexpr int kEstimateSide = 400;           // the first (size-estimating) pass's longest side
constexpr float kMinCellDiameter = 16;       // smaller red cells (input px) are refused: too few
                                             // pixels to classify
constexpr int kMaxWorkPixels = 4096 * 3072;  // the working image's pixels, at most

enum CellStatus {
  kCellCounted = 0,
  kCellBorder = 1,
  kCellWhite = 2,
  kCellDebris = 3,
  kCellClump = 4
};
const char* cell_status_name(int status);  // "counted" | "border" | "white" | "debris" | "clump"

struct FieldCell {
  int x = 0, y = 0, w = 0, h = 0;  // box in input pixels
  int status = kCellCounted;
  float cx = 0, cy = 0;                    // centroid, input pixels
  float area = 0;                          // input pixels (region area / scale^2)
  float outline[2 * kOutlinePoints] = {};  // (x, y) polygon in input pixels
};

struct Field {
  int width = 0, height = 0;  // the input
  float scale = 1;            // working / input
  int work_w = 0, work_h = 0;
  float cell_diameter = 0;       // median counted cell's diameter, input pixels
  float view_area = 0;           // input pixels inside the microscope's field of view
  bool flattened = false;        // uneven illumination was evened out before thresholding
  std::vector<FieldCell> cells;  // every region found, counted or not
  std::vector<int32_t> labels;   // work_w*work_h: 0 background, i+1 = cells[i]
  int counted = 0, border = 0, white = 0, debris = 0, clump = 0;
  float cell_mean[3] = {0, 0, 0};   // mean RGB of the counted cells' pixels
  float cell_std[3] = {1, 1, 1};    // their standard deviation per channel
  float background[3] = {0, 0, 0};  // median RGB of the background (plasma)
};

struct FieldOptions {
  // Colour normalisation of crops: each channel of a crop is mapped so that the field's counted
  // cells get the mean / std below (the NIH cell_images cells', measured by
  // model/nih_cell_colour.py); false (the default): the field's own colours. Measured on
  // iml_fields_dev with the v1 model, it put more cells in the uncertain band (docs/FIELD.md).
  bool normalize_colour = false;
  float ref_mean[3] = {189.7f, 157.2f, 164.1f};
  float ref_std[3] = {20.0f, 17.0f, 17.3f};
  // Cell diameter in input pixels; 0: estimated from the field.
  float cell_diameter = 0;
  // Tuning (chosen on iml_fields_dev, docs/FIELD.md): a marker is kept when no stronger one
  // lies within marker_suppress x its distance value; a background-coloured hole is a cell's
  // pale centre when its rays leave the ring around it within pallor_median x R (median ray)
  // and pallor_p80 x R (80th percentile).
  float marker_suppress = 0.9f;
  float pallor_median = 1.6f;
  float pallor_p80 = 2.0f;
  // A crop's mask is its region opened by a disk of this radius (working pixels, a cell ~28
  // across): what sticks out of the cell by a narrow neck (a platelet on its edge, a spur of the
  // watershed) is cut off; the region itself (the count, the outline) is not changed. 0: the
  // region as it is. 5 was chosen on iml_fields_dev (docs/FIELD.md, "The crop's mask").
  int mask_opening = 5;
};

class CellFinder {
 public:
  // Finds the cells of a field (RGB or RGBA rows, tightly packed). Refuses images outside
  // `lim` or smaller than 32 px a side. Always fills `out` (0 cells when none are found).
  bool find(const uint8_t* pixels, int width, int height, int channels, const ImageLimits& lim,
            Field* out, std::string* err, const FieldOptions& opt = FieldOptions{});
  // Cell i's crop: its box in the input, RGB, pixels outside its region black. Grows *rgb.
  void crop(const uint8_t* pixels, int width, int height, int channels, const Field& f, size_t i,
            std::vector<uint8_t>* rgb, int* w, int* h,
            const FieldOptions& opt = FieldOptions{}) const;

 private:
  std::vector<uint8_t> rgb_;  // working-scale RGB
  std::vector<float> g_, tmp_, dist_;
  std::vector<uint8_t> fg_, inside_;  // foreground; inside the field of view
  std::vector<int32_t> queue_, stack_;
};

// What an image is, decided by the documented rule (docs/FIELD.md):
//   crop   a cut-out cell: longest side <= kMaxCropSide px, or a black surround (>= 40% of
//          the outermost pixels black) with the longest side <= 2 * kMaxCropSide;
//   field  otherwise, when the cell finder counts >= kMinFieldCells red cells of consistent size
//          covering >= 10% of the field of view, alike in colour (per-channel SD of their pixels
//          <= kMaxCellColourSd) and letting light through (mean green >= kMinCellTransmission of
//          the plasma's); a small image with a black surround that is not such a field
//          is a crop (a round field of view in black is a photo through the eyepiece);
//   none   anything else (a photo, a screenshot, a solid colour, noise): not a smear image.
enum ImageKind { kKindCrop = 0, kKindField = 1, kKindNone = 2 };
constexpr int kMaxCropSide = 300;
constexpr int kMinFieldCells = 5;
constexpr float kMaxCellColourSd = 26;  // a field's counted cells: per-channel SD of their pixels
constexpr float kMinCellTransmission = 0.45f;  // their mean green / the plasma's, at least
const char* image_kind_name(int kind);         // "cell" | "field" | "none"
// `f` receives the field's cells when the finder ran (kind field or none of a large image);
// `why` the reason for kKindNone.
int classify_image_kind(const uint8_t* pixels, int width, int height, int channels,
                        const ImageLimits& lim, CellFinder* finder, Field* f, std::string* why,
                        const FieldOptions& opt = FieldOptions{});
// True when the image looks like a single red-cell crop (cell mode's gate on input statistics:
// size, colour, a cell-like region); false with the reason in *why.
bool looks_like_cell_crop(const uint8_t* pixels, int width, int height, int channels,
                          std::string* why);

// A field classified: every counted cell's crop through the engine, in batched passes.
struct FieldReport {
  Field field;
  std::vector<Prediction> predictions;  // per field.cells[i]; meaningful for counted cells
  int parasitized = 0;                  // counted cells in the parasitized band
  int uncertain = 0;                    // counted cells in the uncertain band (to review)
  double parasitemia = 0;               // parasitized / counted
  double ci95[2] = {0, 0};              // Wilson 95% interval of it
};
// found: the field's cells when the caller has found them already (e.g. by
// classify_image_kind, with the same options); null: found here.
// The first half of classify_field: the cells found (or taken from `found`), none classified;
// for a caller that classifies the crops (CellFinder::crop) elsewhere, e.g. on other Workers.
bool find_field(CellFinder* finder, const uint8_t* pixels, int width, int height, int channels,
                const ImageLimits& lim, Field* out, std::string* err,
                const FieldOptions& opt = FieldOptions{}, Field* found = nullptr);
bool classify_field(Engine* engine, CellFinder* finder, const uint8_t* pixels, int width,
                    int height, int channels, const ImageLimits& lim, FieldReport* out,
                    std::string* err, const FieldOptions& opt = FieldOptions{},
                    Field* found = nullptr);

// Wilson score interval (95%) of k successes in n trials; [0, 1] for n = 0 (nothing known).
void wilson95(int k, int n, double* lo, double* hi);

}  // namespace mc
