import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';

/** Where `npm run build:web` (vite, src/web/vite.config.ts) writes the dashboard. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>tallyhouse</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto">
<h1>tallyhouse</h1><p>The dashboard is not built. Run <code>npm run build:web</code> (or <code>npm install</code>, which builds it) and reload.</p>
<p>The API is up: see <a href="/docs">/docs</a>.</p></body>`;

/**
 * The dashboard: `/` is its index.html and `/assets/<file>` its hashed bundles. Only these two
 * paths: the app routes with the URL hash, so nothing here can shadow /api, /docs, /metrics or
 * /healthz. Files are read per request (a few KB, and a rebuild shows without a restart).
 */
export function registerWebConsole(app: OpenAPIHono<AppEnv>, dir = WEB_DIST_DIR) {
  app.get('/', async (c) => {
    const html = await fs.promises.readFile(path.join(dir, 'index.html'), 'utf8').catch(() => null);
    if (html === null) return c.html(NOT_BUILT, 503, { 'Cache-Control': 'no-store' });
    // index.html names the current hashed bundles: never cached, so a rebuild is picked up.
    return c.html(html, 200, { 'Cache-Control': 'no-cache' });
  });
  app.get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    // One path segment of safe characters: no traversal out of the assets folder.
    if (!/^[\w.-]+$/.test(file) || file.startsWith('.')) return c.notFound();
    const body = await fs.promises.readFile(path.join(dir, 'assets', file)).catch(() => null);
    if (body === null) return c.notFound();
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      // Vite puts a content hash in every asset name: a changed file is a new name.
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });
}
