/**
 * src/client/openapi.d.ts is generated (npm run gen:client) and committed; this fails when a
 * route's schema changed and the file was not regenerated, so the SDK's types cannot drift
 * from what the server documents.
 */
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { GENERATED_TYPES_FILE, openApiDocument, renderOpenApiTypes } from '../../src/client/gen/openapi-types.js';

it('the committed SDK types match the current OpenAPI document (else: npm run gen:client)', async () => {
  const fresh = await renderOpenApiTypes();
  const committed = fs.readFileSync(GENERATED_TYPES_FILE, 'utf8');
  expect(committed === fresh, 'src/client/openapi.d.ts is stale: run `npm run gen:client`').toBe(true);
});

it('the document the types come from is the one /openapi.json serves, with the ingest Event schema', () => {
  const doc = openApiDocument() as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
  expect(doc.paths['/api/v1/events']).toBeDefined();
  expect(doc.components.schemas.Event).toMatchObject({ type: 'object', required: ['event_type'] });
});
