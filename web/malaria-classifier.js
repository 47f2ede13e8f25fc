// malaria-classifier.js -- the one JavaScript API of the classifier, used by the page, the widget
// and the iframe embed.
//
//   import { MalariaClassifier } from './malaria-classifier.js';
//   const c = await MalariaClassifier.create({ model: 'model/…mcb' });
//   const r = await c.classify(fileOrBlobOrImageBitmapOrImageData);
//   // r = {label, pParasitized, band, logits, cam: Float32Array, size, ms, ...}
//   c.dispose();
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
import {
  loadManifest, fetchVerified, startModule, Engine, payloadDigest, manifestCheckedDigest,
  decodeImage, checkBytes, readModelCopy, writeModelCopy, dropModelCopy,
} from './engine.js';

const DEFAULT_MANIFEST = new URL('./asset-manifest.json', import.meta.url);

function defaultWorkers() {
  const n = (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 2;
  return Math.max(1, Math.min(4, n - 1));
}

/** Worker script URL usable from this page: ours, or a blob: shim that imports ours. */
function workerScript() {
  const url = new URL('./classifier-worker.js', import.meta.url);
  if (typeof location === 'undefined' || url.origin === location.origin) return { url: url.href, revoke() {} };
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};\n`], { type: 'text/javascript' }));
  return { url: shim, revoke() { URL.revokeObjectURL(shim); } };
}

class WorkerStartError extends Error {}

class WorkerSlot {
  constructor(url) {
    this.worker = new Worker(url, { type: 'module', name: 'malaria-classifier' });
    this.pending = new Map();
    this.nextId = 1;
    this.busy = 0;
    this.dead = null;
    this.worker.onmessage = (ev) => {
      const { id, ok, error, ...rest } = ev.data || {};
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (ok) p.resolve(rest); else p.reject(new Error(error));
    };
    const fail = (what) => (ev) => {
      if (ev && ev.preventDefault) ev.preventDefault();
      this.dead = `${what}: ${ev && ev.message ? ev.message : 'the worker script could not be loaded'}`;
      for (const p of this.pending.values()) p.reject(new Error(this.dead));
      this.pending.clear();
    };
    this.worker.onerror = fail('classifier worker failed');
    this.worker.onmessageerror = fail('classifier worker message error');
  }

  call(msg, transfer = []) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    this.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    }).finally(() => { this.busy--; });
  }

  terminate() {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('classifier disposed'));
    this.pending.clear();
  }
}

export class MalariaClassifier {
  /**
   * @param {object} [options]
   * @param {string|URL} [options.model]  model blob URL (default: the one the build shipped)
   * @param {string} [options.sha256]     expected sha256 of the blob (default: from the manifest
   *                                      when `model` is the shipped blob)
   * @param {number} [options.workers]    number of workers (default: cores - 1, 1..4)
   * @param {boolean} [options.inline]    true: run on this thread instead of in Workers; false:
   *                                      Workers only; default: Workers, this thread if no
   *                                      Worker can start
   * @param {'auto'|'simd'|'nosimd'} [options.engine]  force a wasm module
   * @param {string|URL} [options.manifest]  the build's asset-manifest.json
   * @param {boolean} [options.localCopy]  keep / read the shipped model in the origin private
   *                                      file system (default false; the page sets it)
   */
  static async create(options = {}) {
    const manifestUrl = new URL(options.manifest || DEFAULT_MANIFEST, globalThis.location ? location.href : undefined);
    const assets = await loadManifest(manifestUrl);
    const shipped = new URL(assets.model.url, manifestUrl).href;
    const modelUrl = options.model ? new URL(options.model, globalThis.location ? location.href : manifestUrl).href : shipped;
    const isShipped = !options.modelBytes && modelUrl === shipped;
    const expected = options.sha256 || (isShipped ? assets.model.sha256 : null);
    // the shipped blob, checked whole against our own manifest: its preamble's payload digest
    // can stand in for a second hash (engine.js manifestCheckedDigest)
    const trustPreamble = isShipped && !options.sha256 && !!expected;
    const copyKey = options.localCopy && isShipped && expected ? expected.toLowerCase() : null;
    let c = new MalariaClassifier();
    // The engines start (fetch, verify and compile the wasm) while the model is read.
    let prepared = c._prepare(assets, manifestUrl.href, { ...options, copy: copyKey });
    prepared.catch(() => {});
    let modelBytes = null;
    let source = options.modelBytes ? 'bytes' : 'network';
    const download = async () => {
      const b = options.modelBytes ? new Uint8Array(options.modelBytes)
        : await fetchVerified(modelUrl, expected, 'model');
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
        if (started) source = 'local copy';
        else if (got === 'damaged') await dropModelCopy(copyKey);   // download it again
      } else if (copyKey) {
        const copy = await readModelCopy(copyKey);
        if (copy) {
          try {
            await checkBytes(copy, expected, 'model (local copy)');
            modelBytes = copy;
            source = 'local copy';
          } catch {
            await dropModelCopy(copyKey);   // damaged: download again
          }
        }
      }
      if (!started) {
        modelBytes = modelBytes || await download();
        await c._start(prepared, modelBytes, trustPreamble);
      }
    } catch (e) {
      c.dispose();
      if (!(e instanceof WorkerStartError) || options.inline === false) throw e;
      // no Worker could start here (host CSP): the same engine on this thread
      c = new MalariaClassifier();
      prepared = c._prepare(assets, manifestUrl.href, { ...options, inline: true });
      if (!modelBytes) {   // the Workers failed before the model was read here
        modelBytes = await download();
        source = options.modelBytes ? 'bytes' : 'network';
      }
      await c._start(prepared, modelBytes, trustPreamble);
      c.info.workerError = e.message;
    }
    c.info.modelSource = source;
    if (copyKey && source === 'network') c._copyWritten = writeModelCopy(copyKey, modelBytes, c._checksum);
    return c;
  }

  /**
   * Every Worker builds its engine from the local copy (classifier-worker.js 'init' with copy).
   * 'used' when all did; else 'missing' | 'damaged', and the engines that did start are
   * disposed again (the caller downloads the model and starts them all from it).
   */
  async _startFromCopy(prepared, copyKey) {
    // sent at once: each Worker handles it right after 'prepare' (its messages run in order)
    const inits = Promise.all(this._slots.map((slot) => slot.call({ type: 'init', copy: copyKey })));
    inits.catch(() => {});
    await prepared;
    const got = await inits;
    if (got.every((g) => g.info)) {
      this.info = { ...got[0].info, workers: this._slots.length };
      return 'used';
    }
    await Promise.all(this._slots.map((slot, i) => (got[i].info ? slot.call({ type: 'dispose' }) : null)));
    return got.some((g) => g.copy === 'damaged') ? 'damaged' : 'missing';
  }

  _prepare(assets, baseUrl, options) {
    const prefer = options.engine || 'auto';
    this.inline = !!options.inline;
    this._queue = Promise.resolve();
    if (this.inline) return startModule({ assets, baseUrl, prefer });
    const n = Math.max(1, Math.min(8, options.workers || defaultWorkers()));
    const script = workerScript();
    this._slots = [];
    try {
      for (let i = 0; i < n; i++) this._slots.push(new WorkerSlot(script.url));
    } catch (e) {   // a CSP that forbids the Worker may throw here or fire `error` later
      return Promise.reject(new WorkerStartError(`classifier worker could not start: ${e.message || e}`));
    }
    const copy = options.copy || null;   // the local copy's sha256: each Worker opens it meanwhile
    const calls = this._slots.map((slot) => slot.call({ type: 'prepare', assets, baseUrl, prefer, copy }));
    return Promise.all(calls).finally(() => script.revoke()).catch((e) => {
      throw this._slots.some((s) => s.dead) ? new WorkerStartError(e.message) : e;
    });
  }

  async _start(prepared, modelBytes, trustPreamble) {
    const digestOf = (b) => (trustPreamble ? manifestCheckedDigest(b) : payloadDigest(b));
    if (this.inline) {
      const [{ M, variant }, digest] = await Promise.all([prepared, digestOf(modelBytes)]);
      this._engine = Engine.create(M, modelBytes, variant, digest);
      this._checksum = this._engine.checksum;
      this.info = { metadata: this._engine.metadata, size: this._engine.size,
                    variant: this._engine.variant, labels: this._engine.labels, workers: 0 };
      return;
    }
    // the payload is hashed once here, not once per Worker
    const [, digest] = await Promise.all([prepared, digestOf(modelBytes)]);
    const infos = this._slots.map((slot) => {
      const copy = modelBytes.slice().buffer;   // each worker gets its own copy
      return slot.call({ type: 'init', modelBytes: copy, digest }, [copy]);
    });
    const got = await Promise.all(infos);
    this.info = { ...got[0].info, workers: this._slots.length };
    this._checksum = got[0].checksum || null;   // XXH64 of modelBytes, for the local copy
  }

  /** Number of classifications that can run at the same time. */
  get concurrency() { return this.inline ? 1 : (this._slots ? this._slots.length : 0); }

  /**
   * classify() calls to keep in flight for full speed on many images: per Worker, one batch
   * (the images one pass of its engine takes) plus two being decoded or answered meanwhile.
   */
  get inFlight() {
    const batch = (this.info && this.info.batch) || 1;
    return this.inline ? 2 : this.concurrency * (batch + 2);
  }

  /** Model metadata (the blob's JSON header). */
  get metadata() { return this.info && this.info.metadata; }

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
        return a.kind === 'field' ? a.result : this._engine.classifyPixels(img.data, img.width, img.height, 4);
      });
      this._queue = run.catch(() => {});
      return run;
    }
    const live = this._slots.filter((s) => !s.dead);
    if (!live.length) throw new Error(this._slots[0].dead || 'no classifier worker alive');
    const slot = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const transfer = typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap ? [input] : [];
    const { result } = await slot.call({ type: 'classify', input, name: label, mode }, transfer);
    return result;
  }

  dispose() {
    this._disposed = true;
    if (this._engine) { this._engine.dispose(); this._engine = null; }
    if (this._slots) { for (const s of this._slots) s.terminate(); this._slots = []; }
  }
}

export default MalariaClassifier;
