import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../../helpers/engine.js';

const distDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/absolute-path.js'));

describe('GET /docs: the API reference, served offline', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(() => engine?.close());

  it('is an HTML page whose every script, style and icon comes from this server', async () => {
    const r = await engine.request('GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    // the browser itself refuses anything from elsewhere
    expect(r.headers.get('content-security-policy')).toBe("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'");
    const html = await r.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.sort()).toEqual(['/docs/favicon-32x32.png', '/docs/init.js', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']);
    expect(html).not.toMatch(/https?:\/\/|\/\/[a-z]/i);
  });

  it("serves swagger-ui-dist's own files byte for byte, with their types", async () => {
    for (const [file, type] of [
      ['swagger-ui-bundle.js', /^text\/javascript/],
      ['swagger-ui.css', /^text\/css/],
      ['favicon-32x32.png', /^image\/png$/],
    ] as const) {
      const r = await engine.request('GET', `/docs/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers.get('content-type')).toMatch(type);
      expect(Buffer.from(await r.arrayBuffer()).equals(fs.readFileSync(path.join(distDir, file))), file).toBe(true);
    }
  });

  it('points Swagger UI at /openapi.json and at no online validator', async () => {
    const r = await engine.request('GET', '/docs/init.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
    const js = await r.text();
    expect(js).toContain("url: '/openapi.json'");
    expect(js).toContain('validatorUrl: null');
    const doc = (await (await engine.request('GET', '/openapi.json')).json()) as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
  });

  it('serves nothing else from the package folder', async () => {
    for (const p of ['/docs/package.json', '/docs/index.html', '/docs/..%2Fpackage.json', '/docs/swagger-ui-bundle.js.map', '/docs/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const r = await engine.request('GET', p);
      expect(r.status, p).toBe(404);
    }
  });
});
