// classifier-worker.js -- one wasm engine per Worker. Protocol (all messages carry an id):
//   -> {type:'init', id, assets, baseUrl, modelBytes, prefer}   <- {id, ok, info | error}
//   -> {type:'classify', id, input, name}                       <- {id, ok, result | error}
//   -> {type:'dispose', id}                                     <- {id, ok}
// Images are decoded here (createImageBitmap -> OffscreenCanvas -> getImageData), so the page's
// thread never holds decoded pixels.
import { loadEngine, decodeImage } from './engine.js';

let engine = null;
let initArgs = null;

async function start(args) {
  engine = await loadEngine(args);
  return { metadata: engine.metadata, size: engine.size, variant: engine.variant, labels: engine.labels };
}

async function handle(msg) {
  switch (msg.type) {
    case 'init': {
      initArgs = { assets: msg.assets, baseUrl: msg.baseUrl, modelBytes: new Uint8Array(msg.modelBytes),
                   prefer: msg.prefer || 'auto' };
      return { info: await start(initArgs) };
    }
    case 'classify': {
      if (!engine) throw new Error('classifier not initialised');
      if (engine.broken) {           // a trap in the previous call: start a fresh instance
        engine = null;
        await start(initArgs);
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
