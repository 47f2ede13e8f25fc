// browser.mjs -- the headless Chromium that bench/'s page tools (page_time.mjs, page_scenario.mjs,
// soak.mjs) open the site in: Debian's /usr/bin/chromium (or $CHROMIUM_PATH), a fresh profile
// under the system's temporary folder, a laptop-sized window, and flags that keep the browser
// from doing work of its own (updates, sync, background requests) during a measurement.
//
//   import { launchFresh } from './tools/browser.mjs';
//   const { ctx, profile } = await launchFresh('page-time-', ['--enable-precise-memory-info']);
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const QUIET_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A persistent context on a new profile folder (prefix: its name's start; extra: more flags). */
export async function launchFresh(prefix, extra = [], dir = os.tmpdir()) {
  const { chromium } = await import(path.join(REPO, 'node_modules/playwright-core/index.mjs'));
  const profile = fs.mkdtempSync(path.join(dir, prefix));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [...QUIET_ARGS, ...extra],
    viewport: { width: 1366, height: 768 },
  });
  return { ctx, profile };
}
