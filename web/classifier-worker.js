// classifier-worker.js -- one wasm engine per Worker. Protocol (all messages carry an id):
//   -> {type:'prepare', id, assets, baseUrl, prefer, copy}      <- {id, ok, variant | error}
//      (fetch, verify, compile and instantiate the wasm module: sent before the model is there;
//      copy: the sha256 of the model's local copy, opened meanwhile when there is one)
//   -> {type:'init', id, copy}                                  <- {id, ok, info | copy, error}
//      (the engine from the local copy, read straight into the wasm heap and checked against
//      that sha256; info: null and copy: 'missing' | 'damaged' when it cannot be used)
//   -> {type:'init', id, modelBytes, digest}                    <- {id, ok, info | error}
//      (digest: payloadDigest(modelBytes) from the page, or null to hash here)
//   -> {type:'classify', id, input, name}                       <- {id, ok, result | error}
//   -> {type:'dispose', id}                                     <- {id, ok}
// Images are decoded here (createImageBitmap -> OffscreenCanvas -> getImageData), so the page's
// thread never holds decoded pixels.
import {
  startModule, Engine, payloadDigest, decodeImage, openModelCopy, ModelIntegrityError,
} from './engine.js';

let engine = null;
let moduleArgs = null;     // {assets, baseUrl, prefer} of 'prepare'
let module = null;         // Promise of {M, variant}
let copyOpen = null;       // Promise of openModelCopy(prepare's copy), taken by the first init
let source = null;         // how the engine was made: {copy} or {modelBytes, digest}

const infoOf = (e) => ({ metadata: e.metadata, size: e.size, variant: e.variant, labels: e.labels });

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
    source.digest = source.digest || await payloadDigest(source.modelBytes);
    engine = Engine.create(M, source.modelBytes, variant, source.digest);
  }
  return infoOf(engine);
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
          if (e.instanceBroken) module = startModule(moduleArgs);   // a trap: a fresh instance
          if (e instanceof ModelIntegrityError) return { info: null, copy: 'damaged' };
          throw e;
        }
      }
      source = { modelBytes: new Uint8Array(msg.modelBytes), digest: msg.digest ? new Uint8Array(msg.digest) : null };
      return { info: await start() };
    }
    case 'classify': {
      if (!engine) throw new Error('classifier not initialised');
      if (engine.broken) {           // a trap in the previous call: start a fresh instance
        engine = null;
        module = startModule(moduleArgs);
        if (!(await start())) throw new Error('classifier could not restart: its model copy is gone');
      }
      const img = await decodeImage(msg.input, msg.name || 'image');
      const result = engine.classifyPixels(img.data, img.width, img.height, 4);
      return { result, transfer: [result.cam.buffer] };
    }
    case 'dispose':
      if (engine) engine.dispose();
      engine = null;
      return {};
    default:
      throw new Error(`unknown message type ${String(msg.type)}`);
  }
}

let chain = Promise.resolve();
self.onmessage = (ev) => {
  const msg = ev.data || {};
  chain = chain.then(async () => {
    try {
      const { transfer = [], ...rest } = await handle(msg);
      self.postMessage({ id: msg.id, ok: true, ...rest }, transfer);
    } catch (e) {
      self.postMessage({ id: msg.id, ok: false, error: String(e && e.message || e) });
    }
  });
};
