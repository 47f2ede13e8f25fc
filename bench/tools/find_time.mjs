// find_time.mjs -- how long the page's Worker takes to find the red cells of a field (the cell
// finder alone: MalariaClassifier.findCells, no classification), 7 calls per file; the first
// call of a fresh engine is the slowest (its working buffers are made then).
//
//   node web/serve.mjs build-wasm/site --port 8134 &
//   node bench/tools/find_time.mjs http://127.0.0.1:8134/ FIELD.jpg [FIELD2.png ...]
import fs from 'node:fs';
import { launchFresh } from './browser.mjs';
const [url, ...files] = process.argv.slice(2);
if (!url || !files.length) {
  console.error('usage: node bench/tools/find_time.mjs URL FIELD...');
  process.exit(2);
}
const { ctx, profile } = await launchFresh('find-');
const page = ctx.pages()[0] || (await ctx.newPage());
await page.goto(url);
await page.waitForSelector('html[data-engine="ready"]');
for (const f of files) {
  const type = /\.png$/i.test(f) ? 'image/png' : 'image/jpeg';
  const r = await page.evaluate(
    async ([b64, type]) => {
      const { MalariaClassifier } = await import('./malaria-classifier.js');
      const c = await MalariaClassifier.create({ workers: 1 });
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const ms = [];
      let n = 0;
      for (let i = 0; i < 7; i++) {
        const r = await c.findCells(new Blob([bytes], { type }));
        ms.push(Math.round(r.ms));
        n = r.counted;
      }
      c.dispose();
      return { ms, n };
    },
    [fs.readFileSync(f).toString('base64'), type],
  );
  console.log(f.split('/').pop(), JSON.stringify(r));
}
await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
