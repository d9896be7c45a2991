import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../../helpers/engine.js';

interface Op {
  security?: unknown[];
  parameters?: { in: string; name: string; schema?: { enum?: unknown[] } }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

/**
 * Every route documents the errors it can answer with, in the one error envelope: a route
 * taking input documents 400; a route behind an API key 401, 403 and 429 (requireScope also
 * rate-limits); a route with an id in its path 404. Only input-less public probes (healthz,
 * readyz, analytics/health) have no 4xx to document. Statuses the routes really answer with
 * are checked against these documents in test/api/security/analytics-isolation.test.ts.
 */
describe('/openapi.json documents every error response', () => {
  let engine: TestEngine;
  let ops: { key: string; op: Op }[];
  beforeAll(async () => {
    engine = await startTestEngine();
    const doc = (await (await engine.request('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, Op>> };
    ops = Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })));
  });
  afterAll(() => engine?.close());

  const missing = (want: (op: Op) => string[]) =>
    ops.flatMap(({ key, op }) => want(op).filter((s) => !(s in op.responses)).map((s) => `${key}: ${s}`));

  it('lists the routes', () => {
    expect(ops.length).toBeGreaterThan(20);
  });

  it('a route that takes input documents 400', () => {
    expect(missing((op) => ((op.parameters?.length ?? 0) > 0 || op.requestBody ? ['400'] : []))).toEqual([]);
  });

  it('a secured route documents 401, 403 and 429', () => {
    expect(missing((op) => ((op.security?.length ?? 0) > 0 ? ['401', '403', '429'] : []))).toEqual([]);
  });

  it('a route with an id in its path documents 404', () => {
    // an enum path parameter (/export/csv/{type}) is validated input: a 400, not a missing thing
    expect(missing((op) => (op.parameters?.some((p) => p.in === 'path' && !p.schema?.enum) ? ['404'] : []))).toEqual([]);
  });

  it('every 4xx and 500 is the error envelope', () => {
    // (readyz's 503 is the probe's own {status, stores} answer, not an error of a request)
    const bad = ops.flatMap(({ key, op }) =>
      Object.entries(op.responses)
        .filter(([status]) => /^4\d\d$|^500$/.test(status))
        .filter(([, r]) => r.content?.['application/json']?.schema?.$ref !== '#/components/schemas/Error')
        .map(([status]) => `${key}: ${status}`),
    );
    expect(bad).toEqual([]);
  });

  it('only input-less public probes document no 4xx', () => {
    const without4xx = ops.filter(({ op }) => !Object.keys(op.responses).some((s) => /^4\d\d$/.test(s)));
    for (const { key, op } of without4xx) {
      expect(op.security ?? [], key).toEqual([]);
      expect(op.parameters ?? [], key).toEqual([]);
      expect(op.requestBody, key).toBeUndefined();
    }
  });
});
