import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { dim } from '../../ingest/event-schema.js';
import { SCOPES } from '../../tenancy/keys.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';

const keySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'Display prefix; the secret is never stored' }),
    scopes: z.array(z.enum(SCOPES)),
    user_id: z.string().nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi('ApiKey');

const toJson = (k: import('../../tenancy/tenant-store.js').ApiKeyInfo) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  user_id: k.userId,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
  last_used_at: k.lastUsedAt,
});

const admin = requireScope('admin');

const listKeys = createRoute({
  method: 'get',
  path: '/api/v1/keys',
  tags: ['keys'],
  summary: "The tenant's API keys (no secrets)",
  security: [{ bearer: [] }],
  middleware: admin,
  responses: { 200: { description: 'Keys', content: { 'application/json': { schema: z.object({ keys: z.array(keySchema) }) } } }, ...errorResponses },
});

const createKey = createRoute({
  method: 'post',
  path: '/api/v1/keys',
  tags: ['keys'],
  summary: 'Create an API key for this tenant; the secret is in this response only',
  security: [{ bearer: [] }],
  middleware: admin,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({
            name: z.string().max(200).default(''),
            scopes: z.array(z.enum(SCOPES)).min(1),
            // Stored as the user_id dimension of the key's usage events: the same rules, or the
            // key could never post one.
            user_id: dim().min(1).optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: z.object({ key: z.string(), api_key: keySchema }) } } },
    ...errorResponses,
  },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/api/v1/keys/{id}',
  tags: ['keys'],
  summary: 'Revoke an API key of this tenant',
  security: [{ bearer: [] }],
  middleware: admin,
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    200: { description: 'Revoked', content: { 'application/json': { schema: z.object({ api_key: keySchema }) } } },
    ...errorResponses,
    404: { description: 'KEY_NOT_FOUND', content: { 'application/json': { schema: errorSchema } } },
  },
});

export function registerKeys(app: OpenAPIHono<AppEnv>) {
  app.openapi(listKeys, async (c) => {
    const keys = await c.get('services').tenants.listKeys(c.get('principal').tenant.id);
    return c.json({ keys: keys.map(toJson) }, 200);
  });
  app.openapi(createKey, async (c) => {
    const body = c.req.valid('json');
    const { key, info } = await c.get('services').tenants.createKey({
      tenantId: c.get('principal').tenant.id,
      scopes: body.scopes,
      name: body.name,
      userId: body.user_id,
    });
    return c.json({ key, api_key: toJson(info) }, 201);
  });
  app.openapi(revokeKey, async (c) => {
    const info = await c.get('services').tenants.revokeKey(c.req.valid('param').id, c.get('principal').tenant.id);
    if (!info) throw new ApiError(404, 'KEY_NOT_FOUND', 'no such API key in this tenant');
    return c.json({ api_key: toJson(info) }, 200);
  });
}
