// sw.js -- service worker of the screening page (template: tools/build-site.mjs fills in the
// version and the precache list at build time).
// install: precache every asset into a versioned cache (install fails if one asset fails).
// activate: delete only our own caches of other versions. fetch: same-origin GETs from the cache,
// network as fallback; nothing else is ever fetched. An update waits until the page posts
// SKIP_WAITING (the page asks the user first and never does it in the middle of a batch).
const VERSION = '__MC_VERSION__';
const PREFIX = 'malaria-screen-';
const CACHE = `${PREFIX}${VERSION}`;
const PRECACHE = __MC_PRECACHE__;
// Files whose latest copy matters more than offline speed: network first, cache as fallback.
const NETWORK_FIRST = new Set(['embed-config.json']);
const HASHED = /\.[0-9a-f]{10}\.(mjs|wasm|mcb)$/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // Content-hashed files (wasm, model) may come from the HTTP cache (the page has just fetched
      // them); everything else bypasses it so a new version never precaches stale files.
      await cache.addAll(
        PRECACHE.map((p) => new Request(p, { cache: HASHED.test(p) ? 'default' : 'reload' })),
      );
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

function relPath(url) {
  const scope = new URL(self.registration.scope);
  return url.pathname.startsWith(scope.pathname) ? url.pathname.slice(scope.pathname.length) : null;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const rel = relPath(url);
  if (rel === null) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const key = req.mode === 'navigate' && (rel === '' || rel === 'index.html') ? './' : rel;
      if (NETWORK_FIRST.has(key)) {
        try {
          const res = await fetch(req);
          if (res.ok) await cache.put(key, res.clone());
          return res;
        } catch {
          const hit = await cache.match(key);
          if (hit) return hit;
          throw new Error('offline');
        }
      }
      const hit = await cache.match(key, { ignoreSearch: req.mode === 'navigate' });
      if (hit) return hit;
      return fetch(req);
    })(),
  );
});
