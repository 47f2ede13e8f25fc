// engine.js -- the binding of the C API (wasm/include/malaria.h) for one wasm instance: the
// Engine (create, classify, batch, field, heat map) and loadEngine.
// Runs in a Worker (the page), on the main thread (the widget) and under Node (tests).
// No DOM access at import time. Loading the module: assets.js; the model's local copy:
// model-copy.js; decoding images: image-decode.js.
import { payloadDigest, startModule } from './assets.js';
import { COPY_TRAILER, copyTrailerMatches } from './model-copy.js';

export const LABELS = ['Uninfected', 'Parasitized'];
export const BANDS = ['uninfected', 'uncertain', 'parasitized'];
export const STATUSES = ['counted', 'border', 'white', 'debris', 'clump']; // mc_field_cell.status
const ERR_LEN = 512;
/** Largest image the page will hand to the core (pixels); the core has its own limit too. */
export const MAX_PIXELS = 64 * 1024 * 1024;

// The structs the binding reads and writes: sizes and field offsets in bytes, entry by entry
// from mc_web_layout (web/wasm/entry.c lists the same names in the same order).
const LAYOUT = {
  result: ['size', 'logits', 'p_parasitized', 'label', 'band'],
  params: ['size', 'blob', 'blob_len', 'payload_sha256', 'adopt', 'staged'],
  cell: ['size', 'x', 'y', 'w', 'h', 'status', 'label', 'band', 'p_parasitized', 'outline'],
  summary: [
    'size',
    'regions',
    'counted',
    'parasitized',
    'uncertain',
    'border',
    'white',
    'debris',
    'clump',
    'parasitemia',
    'ci95_lo',
    'ci95_hi',
    'cell_diameter',
  ],
};
const layouts = new WeakMap(); // module -> its layout

/** The struct layout of module M ({result: {size, logits, ...}, params, cell, summary}). */
export function layoutOf(M) {
  let out = layouts.get(M);
  if (out) return out;
  out = {};
  let i = 0;
  for (const [struct, names] of Object.entries(LAYOUT)) {
    out[struct] = {};
    for (const name of names) {
      const v = M._mc_web_layout(i++);
      // every field is 4 bytes or an array of them: an offset that is not a multiple of 4
      // means a module and a binding that do not belong together
      if (!(v >= 0 && v % 4 === 0))
        throw new Error(`unexpected ${struct}.${name} layout entry ${v}`);
      out[struct][name] = v;
    }
  }
  if (M._mc_web_layout(i) !== -1)
    throw new Error('the module lays out more struct fields than this binding reads');
  layouts.set(M, out);
  return out;
}

/** XXH64 of M.HEAPU8[ptr, ptr + n) as 8 bytes (mc_checksum64): what a local copy records. */
export function checksum64(M, ptr, n) {
  const out = M._malloc(8);
  if (!out) throw new Error('out of memory');
  try {
    M._mc_checksum64(ptr, n, out);
    return M.HEAPU8.slice(out, out + 8);
  } finally {
    M._free(out);
  }
}

/** A model blob whose bytes are not the ones the manifest names (Engine.createChecked). */
export class ModelIntegrityError extends Error {}

// The checks classify makes before any byte goes to wasm: a message naming what is wrong.
function checkPixels(pixels, width, height, channels) {
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  if (width * height > MAX_PIXELS) {
    throw new Error(`image too large: ${width}x${height} pixels (limit ${MAX_PIXELS})`);
  }
  if (!pixels || pixels.length !== width * height * channels) {
    throw new Error(
      `pixel buffer of ${pixels ? pixels.length : 0} bytes does not match ${width}x${height}x${channels}`,
    );
  }
}

function cString(M, ptr) {
  if (!ptr) return '';
  const heap = M.HEAPU8;
  let end = ptr;
  while (end < heap.length && heap[end] !== 0) end++;
  return new TextDecoder().decode(heap.subarray(ptr, end));
}

/**
 * Wilson score interval (95%) of k successes in n trials -> [lo, hi], as the core computes it
 * (double precision, wasm/src/field.cpp wilson95): lo is exactly 0 for k = 0, hi exactly 1 for
 * k = n, and [0, 1] for n = 0 (nothing counted: nothing known). The one implementation: the
 * page's summaries and exports (stats.js wilson) use it too.
 */
export function wilson95(k, n) {
  if (!(n > 0)) return [0, 1];
  const z = 1.959963984540054,
    p = k / n,
    z2 = z * z;
  const den = 1 + z2 / n;
  const c = (p + z2 / (2 * n)) / den;
  const h = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return [k === 0 ? 0 : Math.max(0, c - h), k === n ? 1 : Math.min(1, c + h)];
}

/**
 * A field found with analyze(img, mode, {classify: false}) completed from its crops' results
 * (one classifyBatch result per crop, in the crops' order, wherever they were computed): the
 * same result analyze gives with `classify: true`, down to the float32 rounding of the
 * summary's parasitemia and interval (mc_field_summary holds floats). `ms`: the field's time.
 */
export function completeField(found, crops, results, ms) {
  const cells = found.cells.map((c) => ({ ...c }));
  let parasitized = 0,
    uncertain = 0;
  crops.forEach((crop, k) => {
    const r = results[k];
    Object.assign(cells[crop.index], {
      label: r.label,
      band: r.band,
      pParasitized: r.pParasitized,
    });
    parasitized += r.band === 'parasitized';
    uncertain += r.band === 'uncertain';
  });
  const n = found.counted;
  const [lo, hi] = wilson95(parasitized, n);
  return {
    ...found,
    parasitized,
    uncertain,
    parasitemia: Math.fround(n ? parasitized / n : 0),
    ci95: [Math.fround(lo), Math.fround(hi)],
    ms,
    cells,
  };
}

/** One engine: a wasm instance plus one mc_engine built from a model blob. */
export class Engine {
  constructor(M, enginePtr, variant) {
    this.M = M;
    this.ptr = enginePtr;
    this.variant = variant;
    this.layout = layoutOf(M);
    this.err = M._malloc(ERR_LEN);
    this.res = M._malloc(this.layout.result.size);
    this.size = M._mc_input_size(enginePtr);
    const metaText = cString(M, M._mc_metadata_json(enginePtr));
    try {
      this.metadata = JSON.parse(metaText);
    } catch {
      this.metadata = { raw: metaText };
    }
    // The model's classes (2 for ours; a fast.ai or other model may have N, one of them the
    // parasitized class: FORMAT.md, 'head'). Calls stay Parasitized / Uninfected (not the
    // parasitized class); the N logits and the strongest class's name come with each result.
    this.numClasses = M._mc_num_classes(enginePtr);
    this.positiveClass = M._mc_positive_class(enginePtr);
    const labels =
      this.metadata && Array.isArray(this.metadata.labels)
        ? this.metadata.labels.map(String)
        : null;
    this.classLabels = labels && labels.length === this.numClasses ? labels : null;
    this.labels = labels && labels.length === 2 ? labels : LABELS;
    this.broken = null;
    this.staged = false; // set by _adopt for a staged engine
    this._classified = false;
  }

  /**
   * Create from model bytes; rejects with the core's message for a bad blob. `digest`: the
   * payloadDigest() of exactly these bytes, or null to let the core hash them. The engine gets
   * `checksum`, the XXH64 that a local copy of these bytes records (model-copy.js).
   */
  static create(M, modelBytes, variant, digest = null) {
    const blob = M._malloc(modelBytes.length);
    if (!blob) throw new Error('out of memory while loading the model');
    M.HEAPU8.set(modelBytes, blob);
    let checksum;
    try {
      checksum = checksum64(M, blob, modelBytes.length); // before the engine owns the bytes
    } catch (e) {
      M._free(blob);
      throw e;
    }
    const engine = Engine._adopt(M, variant, blob, modelBytes.length, digest);
    engine.checksum = checksum;
    return engine;
  }

  /**
   * Create from the local copy of the model (model-copy.js openModelCopy: {sync}, a
   * FileSystemSyncAccessHandle read straight into the wasm heap, or {bytes}, the whole file).
   * The copy was written only from bytes checked against the manifest's sha256
   * (`expectedSha256`, which names it); its trailer's XXH64 must still match the blob, else this
   * rejects with a ModelIntegrityError before any engine exists. The check proves the payload
   * intact, so the core is given the preamble's own payload digest instead of hashing it again.
   */
  static async createChecked(M, src, variant, expectedSha256) {
    const size = src.sync ? src.sync.getSize() : src.bytes.length;
    if (!(size > 64 + COPY_TRAILER))
      throw new ModelIntegrityError(`model copy is too short (${size} bytes)`);
    const n = size - COPY_TRAILER;
    const blob = M._malloc(size);
    if (!blob) throw new Error('out of memory while loading the model');
    try {
      if (src.sync) {
        const got = src.sync.read(M.HEAPU8.subarray(blob, blob + size), { at: 0 });
        if (got !== size) throw new ModelIntegrityError(`model copy: read ${got} of ${size} bytes`);
      } else {
        M.HEAPU8.set(src.bytes, blob);
      }
      if (!copyTrailerMatches(M.HEAPU8.subarray(blob, blob + size), n, checksum64(M, blob, n))) {
        throw new ModelIntegrityError(
          `model copy (sha256 ${String(expectedSha256).slice(0, 16)}...) ` +
            'failed its checksum: damaged since it was written',
        );
      }
    } catch (e) {
      M._free(blob);
      throw e;
    }
    return Engine._adopt(M, variant, blob, n, M.HEAPU8.slice(blob + 32, blob + 64));
  }

  /**
   * The one way to an engine: mc_engine_create taking over `blob` (n bytes from M._malloc, freed
   * by the core on every path), staged (the first result comes before the Winograd weights
   * exist). `digest`: the payload's SHA-256 (32 bytes) or null.
   */
  static _adopt(M, variant, blob, n, digest) {
    const lay = layoutOf(M).params;
    const params = M._malloc(lay.size + 32 + ERR_LEN); // params, digest, message
    if (!params) {
      M._free(blob);
      throw new Error('out of memory while loading the model');
    }
    const dig = params + lay.size,
      err = dig + 32;
    let ptr = 0;
    try {
      M.HEAPU8.fill(0, params, params + lay.size);
      M.HEAPU8[err] = 0;
      M.HEAPU32[(params + lay.blob) >> 2] = blob;
      M.HEAPU32[(params + lay.blob_len) >> 2] = n;
      if (digest) {
        M.HEAPU8.set(digest, dig);
        M.HEAPU32[(params + lay.payload_sha256) >> 2] = dig;
      }
      M.HEAP32[(params + lay.adopt) >> 2] = 1;
      M.HEAP32[(params + lay.staged) >> 2] = 1;
      try {
        ptr = M._mc_engine_create(params, err, ERR_LEN);
      } catch (e) {
        const x = new Error(
          `model rejected: the engine crashed while reading it (${e.message || e})`,
        );
        x.instanceBroken = true; // the instance is unusable from here on
        throw x;
      }
      if (!ptr) throw new Error(`model rejected: ${cString(M, err) || 'unknown reason'}`);
    } finally {
      try {
        M._free(params);
      } catch {
        /* instance already aborted */
      }
    }
    const engine = new Engine(M, ptr, variant);
    engine.staged = true;
    return engine;
  }

  /**
   * Classify RGBA (or RGB with channels=3) pixels. Returns
   * {labelIndex, label, pParasitized, band, bandIndex, logits, cam, size, width, height, ms,
   *  batch} (batch: how many images shared the pass, 1 here).
   */
  classifyPixels(pixels, width, height, channels = 4) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    this._finishIfDue();
    checkPixels(pixels, width, height, channels);
    const M = this.M;
    const t0 = performance.now();
    const px = M._malloc(pixels.length);
    if (!px) throw new Error(`out of memory for a ${width}x${height} image`);
    let rc;
    try {
      M.HEAPU8.set(pixels, px);
      M.HEAPU8[this.err] = 0;
      rc = M._mc_classify_rgba(this.ptr, px, width, height, channels, this.res, this.err, ERR_LEN);
    } catch (e) {
      this.broken = String((e && e.message) || e);
      throw new Error(`engine crashed: ${this.broken}`);
    } finally {
      try {
        M._free(px);
      } catch {
        /* engine already broken */
      }
    }
    const ms = performance.now() - t0;
    if (rc !== 0) throw new Error(cString(M, this.err) || `classification failed (code ${rc})`);
    return this._result(this.res, M._mc_cam(this.ptr), width, height, ms, 1);
  }

  /** Images one classifyBatch pass takes (8 for an int8 model, 1 for f32/f16). */
  get batchCapacity() {
    return this.M._mc_batch_capacity(this.ptr);
  }

  /**
   * Classify up to batchCapacity images ({data, width, height}, RGBA) in one pass of the network
   * (each weight read once for all of them): the same results as classifyPixels image by image,
   * bit for bit. Returns one entry per image: {result} or {error} (an image that cannot be read
   * does not stop the others); ms of each result is its share of the pass. `channels`: 4 (RGBA)
   * or 3 (RGB: the crops of a field's cells, analyze's `crops`).
   */
  classifyBatch(images, channels = 4) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    this._finishIfDue();
    const out = images.map((img) => {
      try {
        checkPixels(img.data, img.width, img.height, channels);
        return null;
      } catch (e) {
        return { error: e.message };
      }
    });
    const todo = images.map((img, i) => i).filter((i) => !out[i]);
    if (todo.length > this.batchCapacity)
      throw new Error(`batch of ${todo.length} images: this engine takes ${this.batchCapacity}`);
    if (!todo.length) return out;
    const M = this.M,
      n = todo.length,
      RES = this.layout.result.size;
    const t0 = performance.now();
    // one block: pixel pointers, widths, heights, status (int32 each), results; then the pixels
    const arrays = M._malloc(n * (4 * 4 + RES));
    const px = [];
    try {
      if (!arrays) throw new Error('out of memory for a batch');
      for (const i of todo) {
        const p = M._malloc(images[i].data.length);
        if (!p) throw new Error(`out of memory for a ${images[i].width}x${images[i].height} image`);
        px.push(p);
        M.HEAPU8.set(images[i].data, p);
      }
      const a = arrays >> 2;
      todo.forEach((i, k) => {
        M.HEAPU32[a + k] = px[k];
        M.HEAP32[a + n + k] = images[i].width;
        M.HEAP32[a + 2 * n + k] = images[i].height;
      });
      M.HEAPU8[this.err] = 0;
      let rc;
      try {
        rc = M._mc_classify_batch_rgba(
          this.ptr,
          n,
          arrays,
          arrays + 4 * n,
          arrays + 8 * n,
          channels,
          arrays + 16 * n,
          arrays + 12 * n,
          this.err,
          ERR_LEN,
        );
      } catch (e) {
        // a trap: this instance is done for
        this.broken = String((e && e.message) || e);
        throw new Error(`engine crashed: ${this.broken}`);
      }
      if (rc < 0) throw new Error(cString(M, this.err) || `classification failed (code ${rc})`);
      const ms = (performance.now() - t0) / n;
      todo.forEach((i, k) => {
        out[i] =
          M.HEAP32[(arrays >> 2) + 3 * n + k] === 0
            ? {
                result: this._result(
                  arrays + 16 * n + RES * k,
                  M._mc_cam_at(this.ptr, k),
                  images[i].width,
                  images[i].height,
                  ms,
                  n,
                  k,
                ),
              }
            : { error: `image could not be read (${images[i].width}x${images[i].height})` };
      });
      return out;
    } finally {
      if (!this.broken) {
        for (const p of px) M._free(p);
        if (arrays) M._free(arrays);
      }
    }
  }

  /**
   * What an image is and, for a whole field, its cells: the core's decision (field.h) unless
   * `mode` forces it ('auto' | 'cell' | 'field'). Returns {kind: 'cell'} for a cut-out cell (to
   * classify with classifyPixels / classifyBatch) or, for a field, {kind: 'field', result} with
   * result = {mode: 'field', width, height, counted, parasitized, uncertain, excluded: {border,
   * white, debris, clump}, parasitemia, ci95: [lo, hi], cellDiameter, ms, cells: [{index, x, y, w,
   * h, status, label, pParasitized, band, outline: [x0, y0, x1, y1, ...]}]} (every region found;
   * only status 'counted' ones are classified and counted). Throws the core's message for an
   * image that is neither ("not a blood-smear image: ...", "does not look like a single red-cell
   * image: ...").
   * With `classify: false` a field's cells are found and none classified: {kind: 'field', result
   * (label, band and pParasitized null; counts to be made by completeField), crops: [{index,
   * data, width, height}]}, the RGB crop of each counted cell as the core would classify it
   * (classifyBatch(crops, 3)), so that other engines can share the work; `crops: false`, none.
   */
  analyze(img, mode = 'auto', { classify = true, crops: wantCrops = true } = {}) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    checkPixels(img.data, img.width, img.height, 4);
    const M = this.M;
    if (!this.field) {
      this.field = M._mc_field_create();
      if (!this.field) throw new Error('out of memory for the cell finder');
    }
    const t0 = performance.now();
    const px = M._malloc(img.data.length);
    if (!px) throw new Error(`out of memory for a ${img.width}x${img.height} image`);
    try {
      M.HEAPU8.set(img.data, px);
      M.HEAPU8[this.err] = 0;
      const want = mode === 'cell' ? 0 : mode === 'field' ? 1 : -1;
      const kind = M._mc_image_kind(
        this.field,
        px,
        img.width,
        img.height,
        4,
        want,
        this.err,
        ERR_LEN,
      );
      if (kind < 0 || kind === 2)
        throw new Error(cString(M, this.err) || 'not a blood-smear image');
      if (kind === 0) return { kind: 'cell' };
      let n;
      if (classify) {
        this._finishIfDue();
        n = M._mc_classify_field(
          this.ptr,
          this.field,
          px,
          img.width,
          img.height,
          4,
          this.err,
          ERR_LEN,
        );
      } else {
        n = M._mc_find_field(this.field, px, img.width, img.height, 4, this.err, ERR_LEN);
      }
      if (n < 0) throw new Error(cString(M, this.err) || 'field analysis failed');
      const result = this._fieldResult(img.width, img.height, n, 0);
      const crops = classify || !wantCrops ? null : this._crops(px, img, result.cells);
      result.ms = performance.now() - t0;
      return crops ? { kind: 'field', result, crops } : { kind: 'field', result };
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || (e && e.name === 'RuntimeError')) {
        this.broken = String(e.message || e);
        throw new Error(`engine crashed: ${this.broken}`);
      }
      throw e;
    } finally {
      if (!this.broken) M._free(px);
    }
  }

  /**
   * The red cells of `img` ({data, width, height}, RGBA) read as a field, found and not
   * classified (the camera's live count): analyze's field result, every cell's label, band and
   * pParasitized null. Throws the core's reason for an image that is not a blood smear.
   */
  findCells(img) {
    return this.analyze(img, 'field', { classify: false, crops: false }).result;
  }

  /**
   * The occlusion heat map of one cut-out cell ({data, width, height}, RGBA), computed on demand
   * (mc_explain, wasm/src/explain.h): a 6 x 6 patch of the S x S network input slides over the
   * cell with stride 4 and `map` holds, per input pixel, the mean drop of the Parasitized logit
   * over the patches that cover it (positive: covering it lowers the evidence for Parasitized).
   * Returns {map: Float32Array size*size row-major over the whole image, size, ms, passes,
   * peak: [x, y] (the map's peak over the cell, in image pixels), width, height, label,
   * pParasitized, band (of the unoccluded image, as classifyPixels gives them)}. Up to 257
   * network passes at S = 64: ~0.8 s with SIMD128 (~6 s scalar), on the engine's thread.
   * Measured on the test slides' parasitized cells in model/REPORT.md, "Heat map"; it has nothing
   * to point at on a cell called Uninfected.
   */
  explain(img) {
    if (this.broken) throw new Error(`engine unusable after an earlier crash: ${this.broken}`);
    this._finishIfDue();
    checkPixels(img.data, img.width, img.height, 4);
    const M = this.M,
      S = this.size;
    const t0 = performance.now();
    // one block: the map (S*S floats), the peak (2 floats); then the pixels
    const block = M._malloc(4 * (S * S + 2));
    const px = block ? M._malloc(img.data.length) : 0;
    if (!block || !px) {
      if (block) M._free(block);
      throw new Error(`out of memory for the heat map of a ${img.width}x${img.height} image`);
    }
    let rc;
    try {
      M.HEAPU8.set(img.data, px);
      M.HEAPU8[this.err] = 0;
      try {
        rc = M._mc_explain(
          this.ptr,
          px,
          img.width,
          img.height,
          4,
          block,
          this.res,
          block + 4 * S * S,
          this.err,
          ERR_LEN,
        );
      } catch (e) {
        // a trap: this instance is done for
        this.broken = String((e && e.message) || e);
        throw new Error(`engine crashed: ${this.broken}`);
      }
      if (rc < 0) throw new Error(cString(M, this.err) || `heat map failed (code ${rc})`);
      const map = new Float32Array(M.HEAPF32.buffer, block, S * S).slice();
      const pk = new Float32Array(M.HEAPF32.buffer, block + 4 * S * S, 2);
      const r = this._result(this.res, 0, img.width, img.height, 0, 1);
      return {
        map,
        size: S,
        ms: performance.now() - t0,
        passes: rc,
        peak: [(pk[0] * img.width) / S, (pk[1] * img.height) / S],
        width: img.width,
        height: img.height,
        label: r.label,
        pParasitized: r.pParasitized,
        band: r.band,
      };
    } finally {
      if (!this.broken) {
        M._free(px);
        M._free(block);
      }
    }
  }

  /** The RGB crop of each counted cell of the field just found (mc_field_crop). */
  _crops(px, img, cells) {
    const M = this.M;
    const crops = [];
    for (const c of cells) {
      if (c.status !== 'counted') continue;
      const bytes = c.w * c.h * 3;
      const out = M._malloc(bytes);
      if (!out) throw new Error(`out of memory for a ${c.w}x${c.h} cell crop`);
      try {
        if (M._mc_field_crop(this.field, px, img.width, img.height, 4, c.index, out) !== 0)
          throw new Error(`cell ${c.index} of the field could not be cut out`);
        crops.push({
          index: c.index,
          data: M.HEAPU8.slice(out, out + bytes),
          width: c.w,
          height: c.h,
        });
      } finally {
        M._free(out);
      }
    }
    return crops;
  }

  _fieldResult(width, height, n, ms) {
    const M = this.M,
      f32 = M.HEAPF32,
      i32 = M.HEAP32;
    const C = this.layout.cell,
      S = this.layout.summary;
    const s = M._mc_field_summary_of(this.field);
    const cells = [];
    const base = M._mc_field_cells(this.field);
    const outline = (C.size - C.outline) >> 2; // the last field: 2 * MC_OUTLINE_POINTS floats
    for (let i = 0; i < n; i++) {
      const c = base + C.size * i;
      const at = (field) => (c + C[field]) >> 2;
      const status = STATUSES[i32[at('status')]] || 'debris';
      const counted = status === 'counted' && i32[at('label')] >= 0; // classified (mc_find_field: not)
      cells.push({
        index: i,
        x: i32[at('x')],
        y: i32[at('y')],
        w: i32[at('w')],
        h: i32[at('h')],
        status,
        label: counted ? (i32[at('label')] === 1 ? 'Parasitized' : 'Uninfected') : null,
        band: counted ? BANDS[i32[at('band')]] || 'uncertain' : null,
        pParasitized: counted ? f32[at('p_parasitized')] : null,
        outline: Array.from(
          f32.subarray(at('outline'), at('outline') + outline),
          (v) => Math.round(v * 10) / 10,
        ),
      });
    }
    const int = (field) => i32[(s + S[field]) >> 2],
      flt = (field) => f32[(s + S[field]) >> 2];
    return {
      mode: 'field',
      width,
      height,
      regions: int('regions'),
      counted: int('counted'),
      parasitized: int('parasitized'),
      uncertain: int('uncertain'),
      excluded: {
        border: int('border'),
        white: int('white'),
        debris: int('debris'),
        clump: int('clump'),
      },
      parasitemia: flt('parasitemia'),
      ci95: [flt('ci95_lo'), flt('ci95_hi')],
      cellDiameter: flt('cell_diameter'),
      ms,
      cells,
    };
  }

  _result(r, camPtr, width, height, ms, batch, index = 0) {
    const M = this.M,
      f32 = M.HEAPF32,
      i32 = M.HEAP32,
      R = this.layout.result;
    const logits = [f32[(r + R.logits) >> 2], f32[((r + R.logits) >> 2) + 1]];
    const pParasitized = f32[(r + R.p_parasitized) >> 2];
    const labelIndex = i32[(r + R.label) >> 2];
    const bandIndex = i32[(r + R.band) >> 2];
    const S = this.size;
    const cam = camPtr
      ? new Float32Array(M.HEAPF32.buffer, camPtr, S * S).slice()
      : new Float32Array(0);
    const out = {
      mode: 'cell',
      label: labelIndex === 1 ? 'Parasitized' : 'Uninfected',
      labelIndex,
      pParasitized,
      band: BANDS[bandIndex] || 'uncertain',
      bandIndex,
      logits,
      cam,
      size: S,
      width,
      height,
      ms,
      batch,
    };
    if (this.numClasses > 2) {
      // every class's logit, and the strongest class by name
      const p = M._mc_logits_at(this.ptr, index);
      out.classLogits = p ? Array.from(new Float32Array(M.HEAPF32.buffer, p, this.numClasses)) : [];
      const top = out.classLogits.reduce((b, v, k, a) => (v > a[b] ? k : b), 0);
      out.topClass = this.classLabels ? this.classLabels[top] : String(top);
    }
    return out;
  }

  /**
   * A staged engine (made for the quickest first result: its Winograd weights deferred,
   * mc_engine_params.staged) makes what it deferred. classify calls do it themselves before
   * the engine's second classification; results are the same before and after.
   */
  finish() {
    if (!this.staged) return;
    this.staged = false;
    const M = this.M;
    let rc;
    try {
      M.HEAPU8[this.err] = 0;
      rc = M._mc_engine_finish(this.ptr, this.err, ERR_LEN);
    } catch (e) {
      this.broken = String((e && e.message) || e);
      throw new Error(`engine crashed: ${this.broken}`);
    }
    if (rc !== 0) {
      this.broken = cString(M, this.err) || 'mc_engine_finish failed';
      throw new Error(`engine unusable: ${this.broken}`);
    }
  }

  _finishIfDue() {
    if (this.staged && this._classified) this.finish();
    this._classified = true;
  }

  dispose() {
    if (!this.ptr) return;
    try {
      if (this.field) this.M._mc_field_destroy(this.field);
      this.field = 0;
      this.M._mc_engine_destroy(this.ptr);
      this.M._free(this.err);
      this.M._free(this.res);
    } catch {
      /* instance already aborted */
    }
    this.ptr = 0;
  }
}

/**
 * Load the module that fits this machine and an engine for `modelBytes`.
 * `assets`: the build's asset manifest; `baseUrl`: where the manifest's relative paths start.
 * `prefer`: 'auto' | 'simd' | 'nosimd'. Falls back to the scalar module if SIMD fails to start.
 */
export async function loadEngine({
  assets,
  baseUrl,
  modelBytes,
  prefer = 'auto',
  wasmBytes = null,
}) {
  const instance = startModule({ assets, baseUrl, prefer, wasmBytes });
  const digest = payloadDigest(modelBytes); // hashed while the module compiles
  const { M, variant } = await instance;
  // A bad model is not a reason to try the other module: report it as it is.
  return Engine.create(M, modelBytes, variant, await digest);
}
