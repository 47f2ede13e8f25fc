// Static server of the benchmark: cross-origin isolated (COOP/COEP, so wasm threads and
// measureUserAgentSpecificMemory work), cacheable assets, and a log of every byte it sends.
//
//   node bench/server.mjs [PORT] [OURS_DIR]
//
// Routes:  /            bench/web/*           (pages, workers)
//          /nm/          bench/node_modules/*  (onnxruntime-web, tfjs)
//          /assets/      bench/out/assets/*    (models, inputs, peak.wasm)
//          /ours/        OURS_DIR/*            (our wasm modules; default build-wasm/web/modules)
//          /web/         web/*                 (the page's JS modules, which engine-ours.js uses)
//          /__log        GET: JSON of the requests since the last /__log?reset ; ?reset clears
//          /__result     POST: a bench page with no automation attached reports its result here;
//                        GET: the results posted since the last GET (and clears them)
// Assets are served uncompressed (the gzip sizes are computed by the driver), with
// Cache-Control max-age=1 year (HTTP-cache warm starts) except /__log.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';

const HERE = path.dirname(url.fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const PORT = Number(process.argv[2] || 8099);
const OURS = path.resolve(process.argv[3] || path.join(ROOT, 'build-wasm/web/modules'));

const ROUTES = [
  ['/nm/', path.join(HERE, 'node_modules')],
  ['/assets/', path.join(HERE, 'out/assets')],
  ['/ours/', OURS],
  ['/web/', path.join(ROOT, 'web')],
  ['/', path.join(HERE, 'web')],
];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.mcb': 'application/octet-stream',
  '.css': 'text/css',
};

let log = [];
let posted = [];

function resolve(p) {
  for (const [prefix, dir] of ROUTES) {
    if (p.startsWith(prefix)) {
      const f = path.normalize(path.join(dir, p.slice(prefix.length)));
      if (!f.startsWith(dir)) return null;
      return f;
    }
  }
  return null;
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const common = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  if (u.pathname === '/__log') {
    const body = JSON.stringify(log);
    if (u.searchParams.has('reset')) log = [];
    res.writeHead(200, {
      ...common,
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
    });
    res.end(body);
    return;
  }
  if (u.pathname === '/__result') {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        try {
          posted.push(JSON.parse(body));
        } catch (e) {
          posted.push({ error: 'unreadable result: ' + String(e) });
        }
        res.writeHead(204, { ...common, 'Cache-Control': 'no-store' });
        res.end();
      });
      return;
    }
    res.writeHead(200, {
      ...common,
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
    });
    res.end(JSON.stringify(posted));
    posted = [];
    return;
  }
  let f = resolve(decodeURIComponent(u.pathname));
  if (f && fs.existsSync(f) && fs.statSync(f).isDirectory()) f = path.join(f, 'index.html');
  if (!f || !fs.existsSync(f)) {
    res.writeHead(404, common);
    res.end('not found');
    log.push({ path: u.pathname, status: 404, bytes: 0, t: Date.now() });
    return;
  }
  const st = fs.statSync(f);
  const etag = `"${st.size}-${st.mtimeMs}"`;
  const headers = {
    ...common,
    'Content-Type': TYPES[path.extname(f)] || 'application/octet-stream',
    'Cache-Control': 'public, max-age=31536000, immutable',
    ETag: etag,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    log.push({ path: u.pathname, file: f, status: 304, bytes: 0, t: Date.now() });
    return;
  }
  headers['Content-Length'] = st.size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  fs.createReadStream(f).pipe(res);
  log.push({ path: u.pathname, file: f, status: 200, bytes: st.size, t: Date.now() });
});
if (process.env.BENCH_SERVER_CHILD) {
  // started by driver.mjs: go when the driver goes
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
server.listen(PORT, '127.0.0.1', () => {
  console.log(`bench server on http://127.0.0.1:${PORT}/ (ours: ${OURS})`);
});
