import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';

/**
 * The API reference at /docs: Swagger UI over /openapi.json, its assets served from the
 * swagger-ui-dist package through this server, so the page works with no network beyond the
 * engine itself. The Content-Security-Policy holds the page to this origin: a CDN reference
 * would fail loudly instead of quietly phoning out.
 */
const require = createRequire(import.meta.url);
const distDir = () => path.dirname(require.resolve('swagger-ui-dist/absolute-path.js'));

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// The initialiser is a file of its own, not an inline script, so the policy needs no 'unsafe-inline' for scripts.
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>tallyhouse API reference</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

export const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

export function registerDocs(app: OpenAPIHono<AppEnv>) {
  const cache = new Map<string, Buffer>();
  const asset = (name: string) => {
    let b = cache.get(name);
    if (!b) cache.set(name, (b = fs.readFileSync(path.join(distDir(), name))));
    return b;
  };
  app.get('/docs', (c) => c.html(PAGE, 200, { 'Content-Security-Policy': DOCS_CSP }));
  app.get('/docs/init.js', (c) => c.body(INIT_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }));
  app.get('/docs/:file', (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    return c.body(new Uint8Array(asset(file)), 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  });
}
