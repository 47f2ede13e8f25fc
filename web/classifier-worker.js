// classifier-worker.js -- one wasm engine per Worker. Protocol (all messages carry an id):
//   -> {type:'prepare', id, assets, baseUrl, prefer, copy}      <- {id, ok, variant | error}
//      (fetch, verify, compile and instantiate the wasm module: sent before the model is there;
//      copy: the sha256 of the model's local copy, opened meanwhile when there is one)
//   -> {type:'init', id, copy}                                  <- {id, ok, info | copy, error}
//      (the engine from the local copy named by that sha256, read straight into the wasm heap
//      and checked against its XXH64 trailer; info: null and copy: 'missing' | 'damaged' when
//      it cannot be used)
//   -> {type:'init', id, modelBytes, digest}                    <- {id, ok, info, checksum | error}
//      (digest: payloadDigest(modelBytes) from the page, or null to hash here; checksum: the
//      bytes' XXH64, which the page's local copy of them records)
//   -> {type:'classify', id, input, name, mode, split}          <- {id, ok, result, crops | error}
//      (mode 'auto' | 'cell' | 'field': a cut-out cell gets a cell result, batched with others;
//      a whole field {mode:'field', cells, counted, parasitemia, ...} (Engine.analyze); an
//      image that is neither an error with the core's reason. split: a field's cells are found
//      and not classified here: result unclassified, crops (RGB, transferred) for 'cells')
//   -> {type:'cells', id, crops}                                <- {id, ok, results | error}
//      (the crops of a split field's cells, one batch: classifyBatch(crops, 3) results; they go
//      before the images waiting here, as their field waits for them)
//   -> {type:'explain', id, input, name}                        <- {id, ok, result | error}
//      (the occlusion heat map of one cut-out cell, Engine.explain: {map, size, ms, passes, peak,
//      label, pParasitized, band}; an image that fails the cell gate gets the core's reason)
//   -> {type:'find', id, input, name}                           <- {id, ok, result | error}
//      (the red cells of an image read as a field, found and not classified: the camera's live
//      count, Engine.findCells)
//   -> {type:'dispose', id}                                     <- {id, ok}
// Images are decoded here (createImageBitmap -> OffscreenCanvas -> getImageData), so the page's
// thread never holds decoded pixels. Images start decoding as their messages arrive (while the
// decoded ones waiting here hold less than HOLD_BYTES: a few large photos do not pile up); the
// engine then takes the first waiting image together with every later one already decoded (up
// to its batch capacity, 8 for int8) in one pass of the network (Engine.classifyBatch: the same
// results as one by one, each weight read once per pass), and answers each message on its own.
import { startModule, payloadDigest } from './assets.js';
import { Engine, ModelIntegrityError } from './engine.js';
import { decodeImage } from './image-decode.js';
import { openModelCopy } from './model-copy.js';

let engine = null;
let moduleArgs = null; // {assets, baseUrl, prefer} of 'prepare'
let module = null; // Promise of {M, variant}
let copyOpen = null; // Promise of openModelCopy(prepare's copy), taken by the first init
let source = null; // how the engine was made: {copy} or {modelBytes, digest}

const infoOf = (e) => ({
  metadata: e.metadata,
  size: e.size,
  variant: e.variant,
  labels: e.labels,
  batch: e.batchCapacity,
});

async function start() {
  const { M, variant } = await module;
  if (source.copy) {
    const opened = copyOpen || openModelCopy(source.copy);
    copyOpen = null;
    const src = await opened;
    if (!src) return null;
    try {
      engine = await Engine.createChecked(M, src, variant, source.copy);
    } finally {
      if (src.sync) src.sync.close();
    }
  } else {
    source.digest = source.digest || (await payloadDigest(source.modelBytes));
    engine = Engine.create(M, source.modelBytes, variant, source.digest);
  }
  return infoOf(engine);
}

/** The engine, started afresh after a trap in an earlier call (its instance is unusable). */
async function usableEngine() {
  if (!engine) throw new Error('classifier not initialised');
  if (engine.broken) {
    engine = null;
    module = startModule(moduleArgs);
    if (!(await start())) throw new Error('classifier could not restart: its model copy is gone');
  }
  return engine;
}

async function handle(msg) {
  switch (msg.type) {
    case 'prepare': {
      moduleArgs = { assets: msg.assets, baseUrl: msg.baseUrl, prefer: msg.prefer || 'auto' };
      module = startModule(moduleArgs);
      if (msg.copy) copyOpen = openModelCopy(msg.copy);
      return { variant: (await module).variant };
    }
    case 'init': {
      if (!module) throw new Error('classifier worker: init before prepare');
      if (msg.copy) {
        source = { copy: msg.copy };
        try {
          const info = await start();
          return info ? { info, copy: 'used' } : { info: null, copy: 'missing' };
        } catch (e) {
          if (e.instanceBroken) module = startModule(moduleArgs); // a trap: a fresh instance
          if (e instanceof ModelIntegrityError) return { info: null, copy: 'damaged' };
          throw e;
        }
      }
      source = {
        modelBytes: new Uint8Array(msg.modelBytes),
        digest: msg.digest ? new Uint8Array(msg.digest) : null,
      };
      const info = await start();
      return { info, checksum: engine.checksum }; // what a local copy of these bytes records
    }
    case 'explain': {
      await usableEngine();
      const img = await decodeImage(msg.input, msg.name || 'image');
      engine.analyze(img, 'cell'); // the cell gate: throws its reason for what is not a cell
      const result = engine.explain(img);
      return { result, transfer: [result.map.buffer] };
    }
    case 'find': {
      await usableEngine();
      const img = await decodeImage(msg.input, msg.name || 'frame');
      return { result: engine.findCells(img) };
    }
    case 'dispose':
      if (engine) engine.dispose();
      engine = null;
      return {};
    default:
      throw new Error(`unknown message type ${String(msg.type)}`);
  }
}

// classify: messages waiting for the engine, in arrival order, decoding meanwhile
const waiting = [];
const HOLD_BYTES = 64 * 1024 * 1024; // decoded pixels held ahead of the engine, at most (+1 image)
let held = 0;

// Start decoding the waiting images in order while the decoded ones hold less than HOLD_BYTES
// (the first waiting image always: the engine waits for it).
function decodeAhead() {
  for (const item of waiting) {
    if (item.decoded) continue;
    if (held >= HOLD_BYTES && item !== waiting[0]) break;
    item.decoded = decodeImage(item.input, item.name)
      .then(
        (img) => {
          item.img = img;
          item.bytes = img.data.length;
          held += item.bytes;
        },
        (e) => {
          item.error = e;
        },
      )
      .finally(() => {
        item.settled = true;
        item.input = null;
        decodeAhead();
      });
  }
}

function reply(id, got) {
  if (got.error !== undefined)
    self.postMessage({
      id,
      ok: false,
      error: String((got.error && got.error.message) || got.error),
    });
  else if (got.crops)
    self.postMessage(
      { id, ok: true, result: got.result, crops: got.crops },
      got.crops.map((c) => c.data.buffer),
    );
  else
    self.postMessage(
      { id, ok: true, result: got.result },
      got.result.cam ? [got.result.cam.buffer] : [],
    );
}

// The crops of split fields' cells, waiting: each message is one batch.
const cellBatches = [];

async function classifyCells(msg) {
  try {
    const got = (await usableEngine()).classifyBatch(msg.crops, 3);
    const bad = got.find((g) => g.error);
    if (bad) throw new Error(bad.error);
    // what the field needs of each cell (no heat map: field cells have none)
    const results = got.map(({ result: r }) => ({
      label: r.label,
      band: r.band,
      pParasitized: r.pParasitized,
    }));
    self.postMessage({ id: msg.id, ok: true, results });
  } catch (e) {
    self.postMessage({ id: msg.id, ok: false, error: String((e && e.message) || e) });
  }
}

// One step per message, so every message is handled: a batch of a split field's cells first
// (its field waits on it, and on other Workers' batches), else a pass over the waiting images.
function nextPass() {
  return cellBatches.length ? classifyCells(cellBatches.shift()) : classifyWaiting();
}

// One pass: the first waiting image (once decoded) and the later ones already decoded.
async function classifyWaiting() {
  if (!waiting.length) return; // an earlier pass took this message's image
  decodeAhead();
  await waiting[0].decoded;
  const cap = engine && !engine.broken ? engine.batchCapacity : 1;
  // The images decoding now join this pass (up to its capacity): their decodes run meanwhile
  // anyway, and a pass of 8 cells costs far less than 8 passes of one. Without this wait each
  // decode's completion came after the pass had started and ~85 % of a 300-cell drop's passes
  // held one cell (BENCHMARKS.md).
  const decoding = waiting.slice(1, cap).filter((w) => w.decoded && !w.settled);
  if (decoding.length) await Promise.all(decoding.map((w) => w.decoded));
  const take = [waiting.shift()];
  while (take.length < cap && waiting.length && waiting[0].settled) take.push(waiting.shift());
  try {
    await classifyTaken(take);
  } finally {
    for (const t of take) {
      held -= t.bytes || 0;
      t.img = null;
    }
    decodeAhead();
  }
}

async function classifyTaken(take) {
  const fail = (e) => {
    for (const t of take) reply(t.id, { error: t.error || e });
  };
  try {
    await usableEngine();
  } catch (e) {
    fail(e);
    return;
  }
  // what each image is: fields are analysed here, one by one; cut-out cells share one pass
  for (const t of take) {
    if (t.error) continue;
    try {
      const a = engine.analyze(t.img, t.mode, { classify: !t.split });
      if (a.kind === 'field') {
        reply(t.id, a);
        t.done = true;
      }
    } catch (e) {
      t.error = e;
    }
  }
  const ok = take.filter((t) => !t.error && !t.done);
  for (const t of take) if (t.error) reply(t.id, { error: t.error });
  if (!ok.length) return;
  let got;
  try {
    got = engine.classifyBatch(ok.map((t) => t.img));
  } catch (e) {
    for (const t of ok) reply(t.id, { error: e });
    return;
  }
  ok.forEach((t, i) => reply(t.id, got[i]));
}

let chain = Promise.resolve();
self.onmessage = (ev) => {
  const msg = ev.data || {};
  if (msg.type === 'classify') {
    waiting.push({
      id: msg.id,
      input: msg.input,
      name: msg.name || 'image',
      mode: msg.mode || 'auto',
      split: !!msg.split,
      decoded: null,
      img: null,
      bytes: 0,
      error: null,
      settled: false,
    });
    decodeAhead();
    chain = chain.then(nextPass).catch(() => {});
    return;
  }
  if (msg.type === 'cells') {
    cellBatches.push(msg);
    chain = chain.then(nextPass).catch(() => {});
    return;
  }
  chain = chain.then(async () => {
    try {
      const { transfer = [], ...rest } = await handle(msg);
      self.postMessage({ id: msg.id, ok: true, ...rest }, transfer);
    } catch (e) {
      self.postMessage({ id: msg.id, ok: false, error: String((e && e.message) || e) });
    }
  });
};
