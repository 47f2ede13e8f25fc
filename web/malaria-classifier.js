// malaria-classifier.js -- the one JavaScript API of the classifier, used by the page, the widget
// and the iframe embed.
//
//   import { MalariaClassifier } from './malaria-classifier.js';
//   const c = await MalariaClassifier.create({ model: 'model/…mcb' });
//   const r = await c.classify(fileOrBlobOrImageBitmapOrImageData);
//   // r = {label, pParasitized, band, logits, cam: Float32Array, size, ms, ...}
//   c.dispose();
//   const h = await c.explain(cellBlob);   // occlusion heat map of one cell, on demand
//   // many images: keep c.inFlight classify() calls going; each Worker classifies the images
//   // waiting for it in one pass of its engine (up to 8 for the int8 model), same results
//
// By default the engine runs in Worker(s) (one wasm instance each), also when this script was
// loaded by a page of another origin (the widget on a health portal): a Worker must be of the
// page's origin, so there it is a tiny same-origin blob: module that imports our worker script
// (CORS). If no Worker can start (a host CSP without blob: in worker-src), the engine runs on
// the calling thread instead; `inline: true` asks for that from the start, `inline: false`
// forbids the fallback. The model bytes are checked against the sha256 in the build's asset
// manifest before they reach the engine. With `localCopy: true` (the page) the shipped model is
// also kept in the origin private file system and read from there on later visits (faster than
// the HTTP / service-worker cache; checked the same way; `info.modelSource` tells which).
//
// A Worker that dies, traps or stops answering does not stop the rest: it is restarted (prepare
// and init again, from the same model bytes or the local copy) and the images that were in flight
// on it are sent once more, each on a Worker with nothing else in flight; an image that was in
// flight alone on a Worker that stopped again is rejected ("this image stopped the classifier
// twice: ..."). A stopped Worker is told by its `error` or `messageerror` event, by a crash
// reply ("engine crashed: ..."; the wasm instance trapped), or by the watchdog: a Worker with
// messages pending that has said nothing for WATCHDOG_BASE_MS plus WATCHDOG_PER_MPIXEL_MS per
// megapixel of the image it is on (a Worker that called close() or whose thread died fires no
// event). The classifier is an EventTarget: a `worker` event (detail {state: 'lost' | 'restarted'
// | 'failed', reason, retried, rejected, workers}) tells the page.
//
// One field, all Workers: with two Workers or more, the Worker that gets an image finds a
// field's cells but does not classify them; it sends back their crops (small RGB buffers), and
// these go out again in batches (one pass of an engine each) to every Worker, at most
// CELL_BATCHES_AHEAD at a time to each (so a slower or busier one takes fewer), each Worker
// taking them before the images waiting there. The field's result is then put together here
// (engine.js completeField: the same result, counts and interval as one Worker gives). A batch
// of cells is a job like an image: retried once when its Worker stops, and the field fails
// with it the second time.
import {
  loadManifest,
  fetchVerified,
  startModule,
  payloadDigest,
  manifestCheckedDigest,
  checkBytes,
} from './assets.js';
import { Engine, completeField } from './engine.js';
import { decodeImage } from './image-decode.js';
import { readModelCopy, writeModelCopy, dropModelCopy } from './model-copy.js';

const DEFAULT_MANIFEST = new URL('./asset-manifest.json', import.meta.url);

// One Worker per core, up to 4: the page's own thread only hands files over and draws, so it
// needs no core of its own. Embedders that want to stay lighter pass `workers` (the widget: 1).
function defaultWorkers() {
  const n = (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 2;
  return Math.max(1, Math.min(4, n));
}

/** Worker script URL usable from this page: ours, or a blob: shim that imports ours. */
function workerScript() {
  const url = new URL('./classifier-worker.js', import.meta.url);
  if (typeof location === 'undefined' || url.origin === location.origin)
    return { url: url.href, revoke() {} };
  const shim = URL.createObjectURL(
    new Blob([`import ${JSON.stringify(url.href)};\n`], { type: 'text/javascript' }),
  );
  return {
    url: shim,
    revoke() {
      URL.revokeObjectURL(shim);
    },
  };
}

class WorkerStartError extends Error {}

// The watchdog (see the top): a Worker answers each image in turn, so the one that has said
// nothing for longer than its oldest message allows has stopped. The allowance is generous: the
// largest field the core takes (40 megapixels, ~14,000 red cells) took 2 min of one core natively
// on the shared test VM; a phone is slower. Pixels are exact for pixel inputs and estimated from
// the size of a file (20 pixels a byte: more than any field photo has; JPEG fields have ~5).
const WATCHDOG_BASE_MS = 60000;
const WATCHDOG_PER_MPIXEL = 0.25; // of the base, per megapixel: 15 s by default
const MAX_PIXELS_CORE = 40e6; // wasm/src/preprocess.h ImageLimits
const RESTART_TRIES = 3; // failed starts in a row before a Worker is given up
// The Workers after the first start at its first answer, a second image in flight, or this long
// after create(), whichever comes first (_startRestSoon).
const REST_DELAY_MS = 500;
// batches of a field's cells sent to one Worker ahead of its answers: two, so that it never
// waits for the next one, and no more, so that the batches go to whichever Worker is free
const CELL_BATCHES_AHEAD = 2;
// a reply that says the wasm instance trapped (engine.js): the Worker is replaced
const CRASH_REPLY = /^engine (crashed|unusable)\b/;

function pixelsOf(input) {
  if (typeof Blob !== 'undefined' && input instanceof Blob)
    return Math.min(MAX_PIXELS_CORE, 20 * input.size);
  if (input && input.width > 0 && input.height > 0)
    return Math.min(MAX_PIXELS_CORE, input.width * input.height);
  return 0;
}

class WorkerSlot {
  /** `url`: the Worker script; `spawn` false: no Worker yet (_startRest starts it later). */
  constructor(url, spawn = true) {
    this.pending = new Map(); // id -> {resolve, reject, job, budget}, oldest first
    this.nextId = 1;
    this.dead = null; // why this Worker stopped (while dead)
    this.starting = false; // being restarted
    this.gaveUp = false; // could not be restarted: dead for good
    this.isolating = null; // a retried job alone on this Worker
    this.onDeath = null; // (slot, reason, pending) once the classifier is up; else pending rejects
    this.watchBase = WATCHDOG_BASE_MS;
    this.worker = null;
    if (spawn) this._spawn(url);
  }

  /** Messages sent and not answered yet. */
  get busy() {
    return this.pending.size;
  }

  /** Batches of a field's cells sent and not answered yet. */
  get cellBatches() {
    let n = 0;
    for (const p of this.pending.values()) n += !!(p.job && p.job.cells);
    return n;
  }

  _spawn(url) {
    const worker = new Worker(url, { type: 'module', name: 'malaria-classifier' });
    this.worker = worker;
    this.dead = null;
    this.heard = Date.now();
    worker.onmessage = (ev) => {
      if (this.worker !== worker || this.dead) return;
      this.heard = Date.now();
      const { id, ok, error, ...rest } = ev.data || {};
      const p = this.pending.get(id);
      if (!p) return;
      if (!ok && p.job && CRASH_REPLY.test(String(error))) {
        // the image stays in flight: retried
        this.kill(`its engine crashed (${error})`);
        return;
      }
      this.pending.delete(id);
      if (ok) p.resolve(rest);
      else p.reject(new Error(error));
    };
    const fail = (what, otherwise) => (ev) => {
      if (ev && ev.preventDefault) ev.preventDefault();
      if (this.worker === worker)
        this.kill(`${what}: ${ev && ev.message ? ev.message : otherwise}`);
    };
    // listeners, not on* properties: Chromium's Worker.onmessageerror misses some dispatches
    worker.addEventListener(
      'error',
      fail('classifier worker failed', 'the worker script could not be loaded'),
    );
    worker.addEventListener(
      'messageerror',
      fail('classifier worker message error', 'a message could not be read'),
    );
  }

  /** Send a message; resolves with its answer. `extra`: {job, budget} of a classify() job. */
  call(msg, transfer = [], extra = null) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    if (!this.worker) return Promise.reject(new Error('classifier worker not started yet'));
    const id = this.nextId++;
    if (!this.pending.size) this.heard = Date.now(); // silence counts from the first message
    return new Promise((resolve, reject) => {
      try {
        this.worker.postMessage({ ...msg, id }, transfer);
      } catch (e) {
        // not sent (an input that cannot be copied, an ImageBitmap closed or handed over
        // already): nothing is pending, the Worker is not waited for
        const what = msg.name ? `${msg.name}: ` : '';
        reject(new Error(`${what}could not be sent to the classifier worker (${e.message || e})`));
        return;
      }
      this.pending.set(id, { resolve, reject, budget: this.watchBase, ...extra });
    });
  }

  /** Whether this Worker has said nothing for longer than its oldest message allows. */
  overdue(now) {
    if (this.dead || !this.pending.size) return false;
    return now - this.heard > this.pending.values().next().value.budget;
  }

  /** Stop this Worker (it died, trapped or stopped answering); its pending messages go to onDeath. */
  kill(reason) {
    if (this.dead) return;
    this.dead = reason;
    const w = this.worker;
    if (w) {
      w.onmessage = null; // its error listeners check this.worker
      w.terminate();
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    if (this.onDeath) this.onDeath(this, reason, pending);
    else for (const p of pending) p.reject(new Error(reason));
  }

  terminate() {
    this.onDeath = null;
    const w = this.worker;
    if (w) {
      w.onmessage = null; // its error listeners check this.worker
      w.terminate();
    }
    this.dead = this.dead || 'classifier disposed';
    for (const p of this.pending.values()) p.reject(new Error('classifier disposed'));
    this.pending.clear();
  }
}

export class MalariaClassifier extends EventTarget {
  /**
   * @param {object} [options]
   * @param {string|URL} [options.model]  model blob URL (default: the one the build shipped)
   * @param {string} [options.sha256]     expected sha256 of the blob (default: from the manifest
   *                                      when `model` is the shipped blob)
   * @param {number} [options.workers]    number of workers (default: one per core, 1..4)
   * @param {boolean} [options.inline]    true: run on this thread instead of in Workers; false:
   *                                      Workers only; default: Workers, this thread if no
   *                                      Worker can start
   * @param {'auto'|'simd'|'nosimd'} [options.engine]  force a wasm module
   * @param {string|URL} [options.manifest]  the build's asset-manifest.json
   * @param {function} [options.onProgress]  ({loaded, total, source}) as the model's bytes
   *                                      arrive (source 'network'; total 0 when unknown) or
   *                                      once when read from the local copy ('local copy')
   * @param {boolean} [options.localCopy]  keep / read the shipped model in the origin private
   *                                      file system (default false; the page sets it)
   * @param {number} [options.watchdogMs]  how long a Worker with work pending may say nothing
   *                                      before it counts as stopped: this, plus a quarter of it
   *                                      per megapixel of the image it is on (default 60000:
   *                                      60 s + 15 s per megapixel, 11 min for the largest field)
   */
  static async create(options = {}) {
    const manifestUrl = new URL(
      options.manifest || DEFAULT_MANIFEST,
      globalThis.location ? location.href : undefined,
    );
    let c = new MalariaClassifier();
    // The first Worker starts (its script and modules load, ~50-100 ms) while the site's
    // manifest is fetched: it needs nothing of it until 'prepare'.
    if (!options.inline) c._spawnFirst();
    let assets;
    try {
      assets = await loadManifest(manifestUrl);
    } catch (e) {
      c.dispose();
      throw e;
    }
    const shipped = new URL(assets.model.url, manifestUrl).href;
    const modelUrl = options.model
      ? new URL(options.model, globalThis.location ? location.href : manifestUrl).href
      : shipped;
    const isShipped = !options.modelBytes && modelUrl === shipped;
    const expected = options.sha256 || (isShipped ? assets.model.sha256 : null);
    // the shipped blob, checked whole against our own manifest: its preamble's payload digest
    // can stand in for a second hash (assets.js manifestCheckedDigest)
    const trustPreamble = isShipped && !options.sha256 && !!expected;
    const copyKey = options.localCopy && isShipped && expected ? expected.toLowerCase() : null;
    // The engines start (fetch, verify and compile the wasm) while the model is read.
    let prepared = c._prepare(assets, manifestUrl.href, { ...options, copy: copyKey });
    prepared.catch(() => {});
    let modelBytes = null;
    let source = options.modelBytes ? 'bytes' : 'network';
    // the model's bytes as they arrive: onProgress({loaded, total, source}), source 'network'
    // or 'local copy' (read from this device: one call, loaded = total)
    const progress = (p) => {
      try {
        if (options.onProgress) options.onProgress(p);
      } catch {
        /* the caller's display must not stop the load */
      }
    };
    const download = async () => {
      const b = options.modelBytes
        ? new Uint8Array(options.modelBytes)
        : await fetchVerified(modelUrl, expected, 'model', {
            onProgress: options.onProgress
              ? ({ loaded, total }) => progress({ loaded, total, source: 'network' })
              : undefined,
            total: isShipped ? assets.model.bytes || 0 : 0,
          });
      if (options.modelBytes) await checkBytes(b, expected, 'model');
      return b;
    };
    try {
      // Workers read the local copy themselves, straight into their wasm heap (and check it);
      // this thread reads it only for an engine of its own.
      let started = false;
      if (copyKey && !c.inline) {
        const got = await c._startFromCopy(prepared, copyKey);
        started = got === 'used';
        if (started) {
          source = 'local copy';
          const n = assets.model.bytes || 0;
          progress({ loaded: n, total: n, source });
        } else if (got === 'damaged') await dropModelCopy(copyKey); // download it again
      } else if (copyKey) {
        const copy = await readModelCopy(copyKey);
        if (copy) {
          try {
            await checkBytes(copy, expected, 'model (local copy)');
            modelBytes = copy;
            source = 'local copy';
            progress({ loaded: copy.length, total: copy.length, source });
          } catch {
            await dropModelCopy(copyKey); // damaged: download again
          }
        }
      }
      if (!started) {
        modelBytes = modelBytes || (await download());
        await c._start(prepared, modelBytes, trustPreamble);
      }
    } catch (e) {
      c.dispose();
      if (!(e instanceof WorkerStartError) || options.inline === false) throw e;
      // no Worker could start here (host CSP): the same engine on this thread
      c = new MalariaClassifier();
      prepared = c._prepare(assets, manifestUrl.href, { ...options, inline: true });
      if (!modelBytes) {
        // the Workers failed before the model was read here
        modelBytes = await download();
        source = options.modelBytes ? 'bytes' : 'network';
      }
      await c._start(prepared, modelBytes, trustPreamble);
      c.info.workerError = e.message;
    }
    c.info.modelSource = source;
    if (!c.inline) {
      c._keepAlive(
        options,
        source === 'local copy' ? { copy: copyKey } : { bytes: modelBytes },
        download,
        trustPreamble,
      );
      c._startRestSoon();
    }
    if (copyKey && source === 'network') {
      c._copyWritten = writeModelCopy(copyKey, modelBytes, c._checksum);
      // once the copy is there a restarted Worker reads it: the bytes need not be kept
      c._copyWritten.then((ok) => {
        if (ok && c._restartFrom)
          c._restartFrom = { ...c._restartFrom, copy: copyKey, bytes: null };
      });
    }
    return c;
  }

  /**
   * Every Worker builds its engine from the local copy (classifier-worker.js 'init' with copy).
   * 'used' when all did; else 'missing' | 'damaged', and the engines that did start are
   * disposed again (the caller downloads the model and starts them all from it).
   */
  async _startFromCopy(prepared, copyKey) {
    // sent at once: the Worker handles it right after 'prepare' (its messages run in order)
    const first = this._slots.filter((s) => !s.starting);
    const inits = Promise.all(first.map((slot) => slot.call({ type: 'init', copy: copyKey })));
    inits.catch(() => {});
    await prepared;
    const got = await inits;
    if (got.every((g) => g.info)) {
      this.info = { ...got[0].info, workers: this._slots.length };
      return 'used';
    }
    await Promise.all(
      first.map((slot, i) => (got[i].info ? slot.call({ type: 'dispose' }) : null)),
    );
    return got.some((g) => g.copy === 'damaged') ? 'damaged' : 'missing';
  }

  /** The first Worker, before the manifest is there (_prepare takes it); none if it throws. */
  _spawnFirst() {
    try {
      const script = workerScript();
      this._first = { script, slot: new WorkerSlot(script.url, true) };
    } catch {
      this._first = null; // _prepare tries again and says why
    }
  }

  _prepare(assets, baseUrl, options) {
    const prefer = options.engine || 'auto';
    this.inline = !!options.inline;
    this._queue = Promise.resolve();
    this._waiting = []; // classify() jobs not sent to a Worker yet (Workers: _pump)
    if (this.inline) return startModule({ assets, baseUrl, prefer }); // (create() starts no early Worker then)
    const n = Math.max(1, Math.min(8, options.workers || defaultWorkers()));
    this._prepareArgs = { assets, baseUrl, prefer }; // what a restarted Worker is sent again
    const first = this._first; // started by create() before the manifest came
    this._first = null;
    const script = first ? first.script : workerScript();
    this._slots = first ? [first.slot] : [];
    try {
      // One Worker now; the others later (_startRestSoon): started together they share the
      // cores while each reads the model, and the first result comes later.
      for (let i = this._slots.length; i < n; i++) {
        const slot = new WorkerSlot(script.url, i === 0);
        slot.starting = i > 0;
        this._slots.push(slot);
      }
    } catch (e) {
      // a CSP that forbids the Worker may throw here or fire `error` later
      return Promise.reject(
        new WorkerStartError(`classifier worker could not start: ${e.message || e}`),
      );
    }
    const copy = options.copy || null; // the local copy's sha256: the Worker opens it meanwhile
    return this._slots[0]
      .call({ type: 'prepare', assets, baseUrl, prefer, copy })
      .finally(() => script.revoke())
      .catch((e) => {
        throw this._slots.some((s) => s.dead) ? new WorkerStartError(e.message) : e;
      });
  }

  async _start(prepared, modelBytes, trustPreamble) {
    const digestOf = (b) => (trustPreamble ? manifestCheckedDigest(b) : payloadDigest(b));
    if (this.inline) {
      const [{ M, variant }, digest] = await Promise.all([prepared, digestOf(modelBytes)]);
      this._engine = Engine.create(M, modelBytes, variant, digest);
      this._checksum = this._engine.checksum;
      this.info = {
        metadata: this._engine.metadata,
        size: this._engine.size,
        variant: this._engine.variant,
        labels: this._engine.labels,
        batch: this._engine.batchCapacity,
        workers: 0,
      };
      return;
    }
    // the payload is hashed once here, not once per Worker
    const [, digest] = await Promise.all([prepared, digestOf(modelBytes)]);
    this._digest = digest; // a restarted Worker gets the same bytes and digest
    const infos = this._slots
      .filter((s) => !s.starting)
      .map((slot) => {
        const copy = modelBytes.slice().buffer; // each worker gets its own copy
        return slot.call({ type: 'init', modelBytes: copy, digest }, [copy]);
      });
    const got = await Promise.all(infos);
    this.info = { ...got[0].info, workers: this._slots.length };
    this._checksum = got[0].checksum || null; // XXH64 of modelBytes, for the local copy
  }

  /** Number of classifications that can run at the same time. */
  get concurrency() {
    return this.inline ? 1 : this._slots ? this._slots.length : 0;
  }

  /**
   * classify() calls to keep in flight for full speed on many images: per Worker, one batch
   * (the images one pass of its engine takes) plus two being decoded or answered meanwhile.
   */
  get inFlight() {
    const batch = (this.info && this.info.batch) || 1;
    return this.inline ? 2 : this.concurrency * (batch + 2);
  }

  /** Model metadata (the blob's JSON header). */
  get metadata() {
    return this.info && this.info.metadata;
  }

  /**
   * Classify one image. `input`: Blob/File, ImageBitmap, ImageData or {data, width, height}.
   * `mode`: 'auto' (default: the core decides, docs/FIELD.md), 'cell' or 'field'. Resolves with
   * a cell result ({mode: 'cell', label, pParasitized, band, cam, ...}) or a field result
   * ({mode: 'field', cells: [...], counted, parasitized, uncertain, excluded, parasitemia,
   * ci95, ...}). Rejects with an Error naming what was wrong (undecodable file, too large, not
   * a blood-smear image, not a single red cell, engine message).
   */
  async classify(input, { name, mode = 'auto' } = {}) {
    if (this._disposed) throw new Error('classifier disposed');
    const label = name || (input && input.name) || 'image';
    if (this.inline) {
      const run = this._queue.then(async () => {
        const img = await decodeImage(input, label);
        const a = this._engine.analyze(img, mode);
        return a.kind === 'field'
          ? a.result
          : this._engine.classifyPixels(img.data, img.width, img.height, 4);
      });
      this._queue = run.catch(() => {});
      return run;
    }
    if (this._slots.every((s) => s.gaveUp))
      throw new Error(`${label}: ${this._slots[0].dead || 'no classifier worker alive'}`);
    const transfer =
      typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap ? [input] : [];
    return new Promise((resolve, reject) => {
      this._waiting.push({
        msg: { type: 'classify', input, name: label, mode },
        transfer,
        resolve,
        reject,
        label,
        strikes: 0,
        retry: false,
        budget: this._budgetOf(input),
      });
      this._pump();
      // more than one image at a time: work for every Worker, start them now
      if (this._restTimer && this._waiting.length + this._slots[0].busy > 1) this._startRest();
    });
  }

  /**
   * The occlusion heat map of one cut-out cell, computed on demand (Engine.explain in
   * engine.js: up to 257 network passes, ~0.8 s). `input` as for classify(). Resolves
   * {map: Float32Array size*size (row-major over the whole image; positive where covering the
   * cell lowers the evidence for Parasitized), size, ms, passes, peak: [x, y] image pixels,
   * width, height, label, pParasitized, band}. Rejects for an image that is not a single
   * red-cell crop. Meant for a cell that is not called Uninfected (model/REPORT.md, "Heat map").
   */
  async explain(input, { name } = {}) {
    if (this._disposed) throw new Error('classifier disposed');
    const label = name || (input && input.name) || 'image';
    if (this.inline) {
      const run = this._queue.then(async () => {
        const img = await decodeImage(input, label);
        this._engine.analyze(img, 'cell'); // the cell gate
        return this._engine.explain(img);
      });
      this._queue = run.catch(() => {});
      return run;
    }
    // a Worker that has started (the others start later: _startRestSoon)
    const live = this._slots.filter((s) => !s.dead && s.worker);
    if (!live.length) throw new Error(this._slots[0].dead || 'no classifier worker alive');
    const slot = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const transfer =
      typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap ? [input] : [];
    const { result } = await slot.call({ type: 'explain', input, name: label }, transfer);
    return result;
  }

  /**
   * The red cells of an image read as a field, found and not classified: the camera's live
   * count (a 640x480 frame: 29-42 ms, docs/FIELD.md). `input` as for classify(). Resolves analyze's field
   * result ({cells: [{index, x, y, w, h, outline, status, label: null, ...}], counted, excluded,
   * cellDiameter, width, height, ms, ...}); rejects with the core's reason for an image that is
   * not a blood smear. Goes to the least busy Worker: a batch running meanwhile delays it.
   */
  async findCells(input, { name = 'frame' } = {}) {
    if (this._disposed) throw new Error('classifier disposed');
    if (this.inline) {
      const run = this._queue.then(async () =>
        this._engine.findCells(await decodeImage(input, name)),
      );
      this._queue = run.catch(() => {});
      return run;
    }
    const live = this._slots.filter((s) => !s.dead && !s.starting);
    if (!live.length) throw new Error(this._slots[0].dead || 'no classifier worker alive');
    const slot = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const transfer =
      typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap ? [input] : [];
    const { result } = await slot.call({ type: 'find', input, name }, transfer);
    return result;
  }

  // ---- Workers that stop: restart, retry once, watchdog (see the top) ----------------------

  /** After create(): Workers that stop are restarted from `from` ({copy} or {bytes}). */
  _keepAlive(options, from, download, trustPreamble) {
    const base = options.watchdogMs > 0 ? options.watchdogMs : WATCHDOG_BASE_MS;
    this._watch = { base, perMPixel: base * WATCHDOG_PER_MPIXEL };
    this._restartFrom = {
      ...from,
      digest: this._digest || null,
      download: async () => {
        const bytes = await download();
        return {
          bytes,
          digest: trustPreamble ? manifestCheckedDigest(bytes) : await payloadDigest(bytes),
        };
      },
    };
    for (const slot of this._slots) {
      slot.watchBase = base;
      slot.onDeath = (s, reason, pending) => this._onDeath(s, reason, pending);
    }
    // a tick much later than due: this thread did not run (a suspended laptop): no judgement
    // from that gap, the Workers get their full allowance again
    const tick = Math.max(100, Math.min(5000, base / 4));
    let last = Date.now();
    this._watchTimer = setInterval(() => {
      const now = Date.now();
      const gap = now - last;
      last = now;
      if (gap > 2 * base) {
        for (const s of this._slots) s.heard = Math.max(s.heard, now);
        return;
      }
      for (const s of this._slots) {
        if (s.overdue(now))
          s.kill(`it stopped answering (nothing for ${Math.round((now - s.heard) / 1000)} s)`);
      }
    }, tick);
    if (this._watchTimer.unref) this._watchTimer.unref();
  }

  _budgetOf(input) {
    const w = this._watch || {
      base: WATCHDOG_BASE_MS,
      perMPixel: WATCHDOG_BASE_MS * WATCHDOG_PER_MPIXEL,
    };
    return w.base + w.perMPixel * (pixelsOf(input) / 1e6);
  }

  _emit(detail) {
    const workers = this._slots.filter((s) => !s.gaveUp).length;
    const d = { ...detail, workers };
    const ev =
      typeof CustomEvent === 'function'
        ? new CustomEvent('worker', { detail: d })
        : Object.assign(new Event('worker'), { detail: d });
    this.dispatchEvent(ev);
  }

  /**
   * Send the waiting jobs in order: a retried one only to a Worker with nothing in flight (the
   * jobs after it wait for it), a batch of a field's cells only to a Worker with fewer than
   * CELL_BATCHES_AHEAD of them (the images after it may go meanwhile).
   */
  _pump() {
    const q = this._waiting;
    while (q.length && !this._disposed) {
      const ready = this._slots.filter((s) => !s.dead && !s.starting);
      if (!ready.length) {
        if (this._slots.every((s) => s.gaveUp)) {
          const why = this._slots[0].dead || 'no classifier worker alive';
          for (const j of q.splice(0)) j.reject(new Error(`${j.label}: ${why}`));
        }
        return; // a Worker is being restarted
      }
      let at = 0;
      let slot = this._slotFor(q[0], ready);
      while (!slot && !q[at].retry && ++at < q.length) slot = this._slotFor(q[at], ready);
      if (!slot) return; // sent when a Worker is free
      const [job] = q.splice(at, 1);
      if (job.retry) slot.isolating = job;
      // a field found by one Worker has its cells classified by all (see the top)
      const msg = job.cells ? job.msg : { ...job.msg, split: this._liveWorkers() > 1 };
      slot.call(msg, job.transfer, { job, budget: job.budget }).then(
        (r) => {
          if (this._restTimer) this._startRest();
          if (slot.isolating === job) slot.isolating = null;
          if (r.crops) this._spreadCells(job, r.result, r.crops);
          else job.resolve(job.cells ? r.results : r.result);
          this._pump();
        },
        (e) => {
          if (slot.isolating === job) slot.isolating = null;
          job.reject(e);
          this._pump();
        },
      );
    }
  }

  /** The Worker to send `job` to now, or null. */
  _slotFor(job, ready) {
    if (job.retry) return ready.find((s) => !s.pending.size && !s.isolating) || null;
    const open = ready.filter(
      (s) => !s.isolating && (!job.cells || s.cellBatches < CELL_BATCHES_AHEAD),
    );
    return open.length ? open.reduce((a, b) => (b.busy < a.busy ? b : a)) : null;
  }

  _liveWorkers() {
    return this._slots.filter((s) => !s.gaveUp).length;
  }

  /**
   * A field found by one Worker (`found`, its cells not classified) and the crops of its counted
   * cells: batches of them, ahead of the images waiting, for whichever Workers are free; `job`
   * (the image's) settles with the whole field once all are back, or with the first failure.
   */
  _spreadCells(job, found, crops) {
    const t0 = performance.now();
    const size = (this.info && this.info.batch) || 1;
    const results = new Array(crops.length);
    const batches = [];
    let left = Math.ceil(crops.length / size);
    const done = () =>
      job.resolve(completeField(found, crops, results, found.ms + performance.now() - t0));
    for (let at = 0; at < crops.length; at += size) {
      batches.push({
        msg: { type: 'cells', crops: crops.slice(at, at + size) }, // copied, kept for a retry
        transfer: [],
        cells: true,
        label: job.label,
        strikes: 0,
        retry: false,
        budget: this._budgetOf(null),
        resolve: (got) => {
          got.forEach((r, k) => {
            results[at + k] = r;
          });
          if (--left === 0) done();
        },
        reject: (e) => {
          // the field fails with its first batch that does; its other batches are dropped
          for (const b of batches) {
            const i = this._waiting.indexOf(b);
            if (i >= 0) this._waiting.splice(i, 1);
          }
          left = -1;
          job.reject(e);
        },
      });
    }
    if (!batches.length) done();
    this._waiting.unshift(...batches);
  }

  /** A Worker stopped: its jobs are retried once (or rejected), the Worker restarted. */
  _onDeath(slot, reason, pending) {
    slot.isolating = null;
    const lost = [];
    for (const p of pending) {
      if (p.job) lost.push(p.job);
      else p.reject(new Error(`classifier worker stopped: ${reason}`));
    }
    if (slot.starting || this._disposed) {
      // a restart that failed: _restart tries again
      for (const job of lost) this._waiting.unshift(job);
      return;
    }
    const retry = [];
    let rejected = 0;
    for (const job of lost) {
      job.strikes++;
      if (job.strikes >= 2) {
        job.reject(new Error(`${job.label}: this image stopped the classifier twice: ${reason}`));
        rejected++;
      } else if (job.transfer.length) {
        job.reject(
          new Error(
            `${job.label}: the classifier stopped while reading it (${reason}); ` +
              'an ImageBitmap is handed over to the Worker and cannot be sent again',
          ),
        );
        rejected++;
      } else {
        job.retry = true;
        retry.push(job);
      }
    }
    this._waiting.unshift(...retry);
    this._emit({ state: 'lost', reason, retried: retry.length, rejected });
    this._restart(slot);
  }

  /**
   * Start the Workers after the first (_startRestSoon says when), as a restart is (a Worker that
   * cannot start is tried again, then given up with a 'failed' event).
   */
  _startRest() {
    clearTimeout(this._restTimer);
    this._restTimer = 0;
    for (const slot of this._slots) if (slot.starting && !slot.worker) this._restart(slot, false);
  }

  /**
   * _startRest after the first answer to a classify(), a second image given, or REST_DELAY_MS,
   * whichever comes first: a page given one image as it opens gets its first result without
   * other Workers starting beside it on a 2-core machine (a Worker's start takes ~100 ms of a
   * core); a batch has them all at once.
   */
  _startRestSoon() {
    if (!this._slots.some((s) => s.starting && !s.worker)) return;
    this._restTimer = setTimeout(() => this._startRest(), REST_DELAY_MS);
  }

  /** Start `slot`'s Worker again (`again` false: for the first time) and send it the model. */
  async _restart(slot, again = true) {
    slot.starting = true;
    let err = null;
    for (let attempt = 1; attempt <= RESTART_TRIES && !this._disposed; attempt++) {
      const script = workerScript();
      try {
        slot._spawn(script.url);
        await this._initSlot(slot);
        err = null;
        break;
      } catch (e) {
        err = e;
        slot.kill(`could not restart: ${e.message || e}`);
        await new Promise((r) => setTimeout(r, 250 * attempt));
      } finally {
        script.revoke();
      }
    }
    slot.starting = false;
    if (this._disposed) return;
    if (err) {
      slot.gaveUp = true;
      slot.dead = again
        ? `the classifier stopped and could not be restarted (${err.message || err})`
        : `a classifier worker could not start (${err.message || err})`;
      this._emit({ state: 'failed', reason: slot.dead });
    } else if (again) {
      this._emit({ state: 'restarted' });
    }
    this._pump();
  }

  /** prepare + init of a restarted Worker: from the local copy, else from the model bytes. */
  async _initSlot(slot) {
    const { assets, baseUrl, prefer } = this._prepareArgs;
    const from = this._restartFrom;
    await slot.call({ type: 'prepare', assets, baseUrl, prefer, copy: from.copy || null });
    if (from.copy) {
      const got = await slot.call({ type: 'init', copy: from.copy });
      if (got.info) return;
      if (!from.bytes) Object.assign(from, await from.download()); // the copy is gone or damaged
    }
    const buf = from.bytes.slice().buffer;
    await slot.call({ type: 'init', modelBytes: buf, digest: from.digest }, [buf]);
  }

  dispose() {
    this._disposed = true;
    clearTimeout(this._restTimer);
    this._restTimer = 0;
    if (this._watchTimer) clearInterval(this._watchTimer);
    this._watchTimer = null;
    for (const job of (this._waiting || []).splice(0)) job.reject(new Error('classifier disposed'));
    if (this._engine) {
      this._engine.dispose();
      this._engine = null;
    }
    if (this._slots) {
      for (const s of this._slots) s.terminate();
      this._slots = [];
    }
    if (this._first) {
      this._first.slot.terminate();
      this._first.script.revoke();
      this._first = null;
    }
  }
}

export default MalariaClassifier;
