// Type declarations for malaria-classifier.js (hand-written).

/** Where p_parasitized falls: at or below the low threshold, above the high one, or between. */
export type Band = 'uninfected' | 'uncertain' | 'parasitized';
export type Label = 'Parasitized' | 'Uninfected';

export interface ClassificationResult {
  mode: 'cell';
  /** argmax of the logits. */
  label: Label;
  /** 0 Uninfected, 1 Parasitized. */
  labelIndex: 0 | 1;
  /** Calibrated probability of Parasitized: softmax(logits / temperature)[1]. */
  pParasitized: number;
  /** Decision band; 'uncertain' means: refer the cell to a microscopist. */
  band: Band;
  bandIndex: 0 | 1 | 2;
  /** Raw logits [Uninfected, Parasitized] (a model with N classes: [the strongest other class,
   *  the parasitized class]; all N in classLogits). */
  logits: [number, number];
  /** A model with more than 2 classes (blob format version 2): every class's logit in the
   *  model's label order, and the name of the strongest class. */
  classLogits?: number[];
  topClass?: string;
  /** Class activation map, size*size floats row-major, Parasitized-minus-Uninfected evidence,
   *  covering the whole image; empty for a head that is not one linear layer (a fast.ai head):
   *  use explain() for the occlusion map. */
  cam: Float32Array;
  /** Side of the network input and of the CAM. */
  size: number;
  /** Decoded image size in pixels. */
  width: number;
  height: number;
  /** Milliseconds spent in the engine. */
  ms: number;
}

/** The occlusion heat map of one cut-out cell (MalariaClassifier.explain). */
export interface Explanation {
  /** size*size floats, row-major over the whole image (the network input): the mean drop of the
   *  Parasitized logit over the 6x6 patches (stride 4) covering each input pixel; positive where
   *  covering the cell lowers the evidence for Parasitized. */
  map: Float32Array;
  /** Side of the network input and of the map. */
  size: number;
  /** Milliseconds spent in the engine. */
  ms: number;
  /** Network passes it took (the cell itself + one per patch position touching the cell). */
  passes: number;
  /** The map's peak over the cell, image pixels [x, y]. */
  peak: [number, number];
  width: number;
  height: number;
  /** Of the unoccluded image, as classify() gives them. */
  label: Label;
  pParasitized: number;
  band: Band;
}

export type CellStatus = 'counted' | 'border' | 'white' | 'debris' | 'clump';

/** One region found in a field. Only 'counted' ones (whole red cells) are classified. */
export interface FieldCell {
  index: number;
  /** Box in image pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** counted, or why it was left out: cut by the image border, a white blood cell, debris /
   *  platelet, a clump of cells that could not be split. */
  status: CellStatus;
  label: Label | null;
  pParasitized: number | null;
  band: Band | null;
  /** Outline polygon [x0, y0, x1, y1, ...] in image pixels (24 points). */
  outline: number[];
}

/** A whole microscope field: every red cell found, classified and counted. */
export interface FieldResult {
  mode: 'field';
  width: number;
  height: number;
  regions: number;
  /** Red cells counted (whole, inside the image). */
  counted: number;
  /** Counted cells in the parasitized band. */
  parasitized: number;
  /** Counted cells in the uncertain band: to review (part of the count, not a third class). */
  uncertain: number;
  excluded: { border: number; white: number; debris: number; clump: number };
  /** parasitized / counted, with its Wilson 95% interval. */
  parasitemia: number;
  ci95: [number, number];
  /** Median counted cell's diameter, pixels. */
  cellDiameter: number;
  ms: number;
  cells: FieldCell[];
}

export type ImageInput =
  | Blob
  | File
  | ImageBitmap
  | ImageData
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

export interface CreateOptions {
  /** URL of the model blob; default: the blob shipped with the build. */
  model?: string | URL;
  /** Expected sha256 (hex) of the blob; default: from the build's asset manifest when `model`
   *  is the shipped blob. */
  sha256?: string;
  /** Model bytes already in memory (still checked against `sha256` when given). */
  modelBytes?: ArrayBuffer | Uint8Array;
  /** Number of Workers (default: one per core, between 1 and 4; the widget: 1). */
  workers?: number;
  /** true: run on the calling thread instead of in Workers; false: Workers only (no fallback);
   *  default: Workers (a blob: shim when this script is on another origin than the page), and
   *  the calling thread if no Worker can start (e.g. the host page's CSP forbids them). */
  inline?: boolean;
  /** Force the SIMD128 or scalar wasm module (default: detect). */
  engine?: 'auto' | 'simd' | 'nosimd';
  /** URL of the build's asset-manifest.json (default: next to this script). */
  manifest?: string | URL;
  /** Keep a copy of the shipped model in this origin's private file system (OPFS) and read it
   *  from there on later visits, checked against the manifest's sha256 like a download
   *  (default false; the page sets it, the widget does not fill a host site's storage). */
  localCopy?: boolean;
  /** The model's download as its bytes arrive (source 'network'; total: the Content-Length or
   *  the manifest's size, 0 when unknown), or once, loaded = total, when it is read from the
   *  local copy (source 'local copy'). */
  onProgress?: (p: { loaded: number; total: number; source: 'network' | 'local copy' }) => void;
  /** Watchdog: how long (ms) a Worker with work pending may say nothing before it counts as
   *  stopped and is restarted, plus a quarter of it per megapixel of the image it is on
   *  (default 60000: 60 s + 15 s per megapixel). */
  watchdogMs?: number;
}

/** detail of the classifier's `worker` event: a Worker stopped ('lost': its images in flight are
 *  tried again once, on a Worker with nothing else in flight, or rejected), came back
 *  ('restarted') or could not be restarted ('failed'). */
export interface WorkerEventDetail {
  state: 'lost' | 'restarted' | 'failed';
  /** Why it stopped: an error or messageerror event, a crash reply, or the watchdog. */
  reason?: string;
  /** 'lost': images sent again / rejected (an image that stopped a Worker twice). */
  retried?: number;
  rejected?: number;
  /** Workers not given up. */
  workers: number;
}

export interface ClassifierInfo {
  /** The model blob's JSON header: input spec, labels, calibration, provenance, metrics. */
  metadata: Record<string, unknown>;
  size: number;
  variant: 'simd' | 'nosimd';
  labels: [string, string];
  /** Workers classifying (0: the engine runs on the calling thread). */
  workers: number;
  /** Images one pass of an engine takes (8 for an int8 model, 1 for f32/f16). */
  batch: number;
  /** Where the model bytes came from. */
  modelSource: 'network' | 'local copy' | 'bytes';
  /** Set when no Worker could start and the engine runs on the calling thread. */
  workerError?: string;
}

/** An EventTarget: `worker` events (CustomEvent<WorkerEventDetail>) tell about Workers that
 *  stopped and were restarted. */
export declare class MalariaClassifier extends EventTarget {
  /** Rejects with an Error saying what was wrong (integrity check, the core's message for a bad
   *  blob, a module that failed to start). */
  static create(options?: CreateOptions): Promise<MalariaClassifier>;
  readonly info: ClassifierInfo;
  readonly metadata: Record<string, unknown>;
  /** How many images can be classified at the same time (the number of workers). */
  readonly concurrency: number;
  /** classify() calls to keep in flight for full speed on many images: per Worker, one batch
   *  (`info.batch`) plus two being decoded or answered meanwhile; 2 on the calling thread. */
  readonly inFlight: number;
  /** Rejects with an Error naming the problem (the input policy, docs/INPUT.md: not a PNG,
   *  JPEG, BMP or WebP image and what it is instead, multi-frame, CMYK, too large with the
   *  limits, empty, corrupt or truncated; the core's refusals; "this image stopped the
   *  classifier twice: ..." for an image whose Worker stopped twice while it was in flight alone). */
  /** `mode` 'auto' (default): the core decides whether the image is a cut-out cell or a whole
   *  field (docs/FIELD.md); 'cell' / 'field' force it. Rejects for an image that is neither. */
  classify(
    input: ImageInput,
    options?: { name?: string; mode?: 'auto' | 'cell' | 'field' },
  ): Promise<ClassificationResult | FieldResult>;
  /** The occlusion heat map of one cut-out cell, computed on demand (up to 257 network
   *  passes: ~0.8 s with SIMD128). Rejects for an image that is not a single red-cell crop. Meant
   *  for a cell that is not called Uninfected (model/REPORT.md, "Heat map"). */
  explain(input: ImageInput, options?: { name?: string }): Promise<Explanation>;
  /** The red cells of an image read as a field, found and not classified (the camera's live
   *  count): every cell's label, band and pParasitized null, parasitized and uncertain 0.
   *  Rejects with the core's reason for an image that is not a blood smear. */
  findCells(input: ImageInput, options?: { name?: string }): Promise<FieldResult>;
  dispose(): void;
}
export default MalariaClassifier;
