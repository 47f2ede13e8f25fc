// classifier-worker.js -- one wasm engine per Worker. Protocol (all messages carry an id):
//   -> {type:'prepare', id, assets, baseUrl, prefer}            <- {id, ok, variant | error}
//      (fetch, verify, compile and instantiate the wasm module: sent before the model is there)
//   -> {type:'init', id, modelBytes, digest}                    <- {id, ok, info | error}
//      (digest: payloadDigest(modelBytes) from the page, or null to hash here)
//   -> {type:'classify', id, input, name}                       <- {id, ok, result | error}
//   -> {type:'dispose', id}                                     <- {id, ok}
// Images are decoded here (createImageBitmap -> OffscreenCanvas -> getImageData), so the page's
// thread never holds decoded pixels.
import { startModule, Engine, payloadDigest, decodeImage } from './engine.js';

let engine = null;
let moduleArgs = null;     // {assets, baseUrl, prefer} of 'prepare'
let module = null;         // Promise of {M, variant}
let modelBytes = null;
let digest = null;         // the payload's SHA-256 (payloadDigest)

async function start() {
  const [{ M, variant }, d] = await Promise.all([module, digest || payloadDigest(modelBytes)]);
  digest = d;
  engine = Engine.create(M, modelBytes, variant, digest);
  return { metadata: engine.metadata, size: engine.size, variant: engine.variant, labels: engine.labels };
}

async function handle(msg) {
  switch (msg.type) {
    case 'prepare': {
      moduleArgs = { assets: msg.assets, baseUrl: msg.baseUrl, prefer: msg.prefer || 'auto' };
      module = startModule(moduleArgs);
      return { variant: (await module).variant };
    }
    case 'init': {
      if (!module) throw new Error('classifier worker: init before prepare');
      modelBytes = new Uint8Array(msg.modelBytes);
      digest = msg.digest ? new Uint8Array(msg.digest) : null;
      return { info: await start() };
    }
    case 'classify': {
      if (!engine) throw new Error('classifier not initialised');
      if (engine.broken) {           // a trap in the previous call: start a fresh instance
        engine = null;
        module = startModule(moduleArgs);
        await start();
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
