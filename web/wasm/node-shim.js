// Prepended outside the factory (--extern-pre-js). Emscripten 3.1.6 emits CommonJS names
// (require, __dirname) in its Node branch even for ES-module output; give them to it under Node
// only. Browsers never take this branch, so nothing is imported there.
var require, __dirname;
if (
  typeof process === 'object' &&
  process.versions &&
  process.versions.node &&
  typeof window === 'undefined' &&
  typeof importScripts === 'undefined'
) {
  const nodeModule = await import('node:module');
  require = nodeModule.createRequire(import.meta.url);
  __dirname = require('node:path').dirname(require('node:url').fileURLToPath(import.meta.url));
}
