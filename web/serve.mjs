#!/usr/bin/env node
// serve.mjs -- a tiny static server for the built site (no dependencies), bound to 127.0.0.1.
//   node web/serve.mjs build-wasm/site [--port 8080] [--allow-embed https://portal.example] ...
// Sends correct MIME types (application/wasm included), the Content-Security-Policy, and
// COOP/COEP on the page; CORS on the assets so the widget can be used from other origins.
// Also usable as a module: `import { startServer } from './serve.mjs'`.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.mcb': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

const CSP_BASE = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "manifest-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
];

/** Headers for one file of the site. */
export function headersFor(rel, { embedOrigins = [] } = {}) {
  const ext = path.extname(rel).toLowerCase();
  const h = {
    'Content-Type': MIME[ext] || 'application/octet-stream',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // Content-hashed files never change; everything else is revalidated (the service worker
    // keeps the offline copy).
    'Cache-Control': /\.[0-9a-f]{10}\.(mjs|wasm|mcb)$/.test(rel)
      ? 'public, max-age=31536000, immutable'
      : 'no-cache',
  };
  if (ext === '.html') {
    const isEmbed = path.basename(rel) === 'embed.html';
    // The example host pages (examples/) opened from the site itself: the iframe example frames
    // the embed of this origin.
    const isExample = rel.startsWith('examples/');
    const ancestors = isEmbed
      ? embedOrigins.length
        ? `frame-ancestors 'self' ${embedOrigins.join(' ')}`
        : "frame-ancestors 'self'"
      : "frame-ancestors 'none'";
    h['Content-Security-Policy'] = [
      ...CSP_BASE,
      ...(isExample ? ["frame-src 'self'"] : []),
      ancestors,
    ].join('; ');
    h['Cross-Origin-Embedder-Policy'] = 'require-corp';
    h['Cross-Origin-Resource-Policy'] = 'same-origin';
    if (!isEmbed) {
      h['Cross-Origin-Opener-Policy'] = 'same-origin';
      h['X-Frame-Options'] = 'DENY';
    }
    h['Permissions-Policy'] = isEmbed
      ? 'camera=(), microphone=(), geolocation=()'
      : 'camera=(self), microphone=(), geolocation=()';
  } else {
    // Scripts, wasm and the model may be loaded by the widget on other origins (CORS mode).
    h['Access-Control-Allow-Origin'] = '*';
    h['Cross-Origin-Resource-Policy'] = 'cross-origin';
    // Apply to Workers started from these scripts (a Worker of a COEP page needs COEP itself).
    if (ext === '.js' || ext === '.mjs') {
      h['Content-Security-Policy'] = CSP_BASE.join('; ');
      h['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
  }
  if (rel === 'sw.js') h['Service-Worker-Allowed'] = '/';
  return h;
}

/**
 * Start a server. Resolves to {server, url, close()}.
 * @param {{root: string, port?: number, host?: string, embedOrigins?: string[], log?: boolean}} o
 */
export function startServer({
  root,
  port = 8080,
  host = '127.0.0.1',
  embedOrigins = [],
  log = false,
}) {
  const base = path.resolve(root);
  if (!fs.existsSync(base) || !fs.statSync(base).isDirectory()) {
    return Promise.reject(new Error(`site folder ${base} does not exist: build it first`));
  }
  const server = http.createServer((req, res) => {
    const done = (status, body, headers = {}) => {
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };
    if (req.method === 'OPTIONS') {
      return done(204, '', {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD',
      });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return done(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    } catch {
      return done(400, 'bad request\n');
    }
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(base, rel);
    if ((file !== base && !file.startsWith(base + path.sep)) || rel.includes('\0'))
      return done(403, 'forbidden\n');
    const relNorm = path.relative(base, file).split(path.sep).join('/');
    if (relNorm === 'embed-config.json' && embedOrigins.length) {
      const body = JSON.stringify({ allowedOrigins: embedOrigins }) + '\n';
      res.writeHead(200, { ...headersFor(relNorm), 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return done(404, 'not found\n');
      res.writeHead(200, { ...headersFor(relNorm, { embedOrigins }), 'Content-Length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
      if (log) console.log(`200 ${req.method} ${req.url}`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const url = `http://${host}:${server.address().port}/`;
      resolve({
        server,
        url,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const o = { root: null, port: 8080, host: '127.0.0.1', embedOrigins: [], log: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--allow-embed') o.embedOrigins.push(new URL(argv[++i]).origin);
    else if (a === '--log') o.log = true;
    else if (a === '--help' || a === '-h') o.help = true;
    else if (!o.root) o.root = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  return o;
}

const isMain =
  process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
if (isMain) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  if (o.help || !o.root) {
    console.log(
      'usage: node web/serve.mjs <site-dir> [--port 8080] [--allow-embed ORIGIN]... [--log]',
    );
    process.exit(o.help ? 0 : 2);
  }
  startServer(o)
    .then(({ url }) => {
      console.log(`Serving ${path.resolve(o.root)} at ${url} (127.0.0.1 only; Ctrl+C to stop)`);
    })
    .catch((e) => {
      console.error(`serve: ${e.message}`);
      process.exit(1);
    });
}
void fileURLToPath;
