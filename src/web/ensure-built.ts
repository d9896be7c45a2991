import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the dashboard when dist/web is missing or older than a file of src/web. `npm start`
 * (prestart) and the dashboard's e2e tests call it, so neither serves a stale or absent bundle;
 * when nothing changed it only compares mtimes (a few ms), keeping `npm start` fast.
 */
const SRC = fileURLToPath(new URL('.', import.meta.url));
const INDEX = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  if (!fs.existsSync(INDEX)) return true;
  return newestMtime(SRC) > fs.statSync(INDEX).mtimeMs;
}

export async function ensureWebBuilt(): Promise<'built' | 'fresh'> {
  if (!webBuildIsStale()) return 'fresh';
  const { build } = await import('vite');
  await build({ configFile: path.join(SRC, 'vite.config.ts') });
  return 'built';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureWebBuilt().then(
    (r) => r === 'built' && console.log('dashboard built into dist/web'),
    (e: unknown) => {
      console.error('dashboard build failed:', e);
      process.exit(1);
    },
  );
}
