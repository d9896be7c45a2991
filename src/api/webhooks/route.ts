import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { WebhookDelivery, WebhookEndpoint } from '../../control/notifications/store.js';
import { generateWebhookSecret } from '../../control/notifications/signing.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';

// Webhook endpoints of a tenant and their delivery log (issue 4, notifications). Admin only:
// an endpoint receives the tenant's budget and incident events and holds a signing secret.
const url = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http:// or https:// URL' })
  .max(2048)
  .openapi({ example: 'https://example.com/hooks/tallyhouse' });
const eventTypes = z
  .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an event type: 1–128 letters, digits, "_", ".", ":" or "-"'))
  .max(50)
  .transform((a) => [...new Set(a)])
  .openapi({ description: 'Event types this endpoint receives; empty (the default) means all', example: ['budget.exceeded', 'incident.opened'] });

const endpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    created_at: z.string(),
  })
  .openapi('WebhookEndpoint');
const createdSchema = endpointSchema
  .extend({ secret: z.string().openapi({ description: 'Signing secret, shown only in this response: keep it to verify X-Tallyhouse-Signature' }) })
  .openapi('WebhookEndpointCreated');
const deliverySchema = z
  .object({
    id: z.uuid().openapi({ description: 'Also sent as X-Tallyhouse-Delivery' }),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'dead']).openapi({ description: 'failed: retry scheduled at next_attempt_at; dead: gave up' }),
    attempts: z.number().int(),
    next_attempt_at: z.string().nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    payload: z.unknown(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

const toJson = (e: WebhookEndpoint) => ({ id: e.id, url: e.url, event_types: e.eventTypes, enabled: e.enabled, created_at: e.createdAt });
const deliveryJson = (d: WebhookDelivery) => ({
  id: d.id,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.nextAttemptAt,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  payload: d.payload,
  created_at: d.createdAt,
  delivered_at: d.deliveredAt,
});

const admin = requireScope('admin');
const idParam = z.object({ id: z.uuid() });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const notFound = { 404: json(errorSchema, 'WEBHOOK_NOT_FOUND: no such endpoint in this tenant') };
const common = { tags: ['webhooks'], security: [{ bearer: [] }], middleware: admin };

const createWebhook = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/webhooks',
  summary: 'Add a webhook endpoint; the response carries its signing secret, shown only once',
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.strictObject({ url, event_types: eventTypes.default([]), enabled: z.boolean().default(true) }) } },
    },
  },
  responses: { 201: json(createdSchema, 'Created'), ...errorResponses },
});

const listWebhooks = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/webhooks',
  summary: "The tenant's webhook endpoints (no secrets)",
  responses: { 200: json(z.object({ webhooks: z.array(endpointSchema) }), 'Endpoints'), ...errorResponses },
});

const getWebhook = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/webhooks/{id}',
  summary: 'One webhook endpoint (no secret)',
  request: { params: idParam },
  responses: { 200: json(endpointSchema, 'Endpoint'), ...errorResponses, ...notFound },
});

const patchWebhook = createRoute({
  ...common,
  method: 'patch',
  path: '/api/v1/webhooks/{id}',
  summary: 'Change the url, event filter or enabled flag of an endpoint',
  request: {
    params: idParam,
    body: { required: true, content: { 'application/json': { schema: z.strictObject({ url: url.optional(), event_types: eventTypes.optional(), enabled: z.boolean().optional() }) } } },
  },
  responses: { 200: json(endpointSchema, 'Updated'), ...errorResponses, ...notFound },
});

const deleteWebhook = createRoute({
  ...common,
  method: 'delete',
  path: '/api/v1/webhooks/{id}',
  summary: 'Remove an endpoint and its delivery log; nothing more is sent to it',
  request: { params: idParam },
  responses: { 204: { description: 'Removed' }, ...errorResponses, ...notFound },
});

const testWebhook = createRoute({
  ...common,
  method: 'post',
  path: '/api/v1/webhooks/{id}/test',
  summary: 'Queue a webhook.test delivery to this endpoint (whatever its event filter)',
  request: { params: idParam },
  responses: {
    202: json(z.object({ delivery_id: z.uuid(), status: z.literal('pending') }), 'Queued; follow it in the delivery log'),
    ...errorResponses,
    ...notFound,
    409: json(errorSchema, 'WEBHOOK_DISABLED: enable the endpoint first'),
  },
});

const listDeliveries = createRoute({
  ...common,
  method: 'get',
  path: '/api/v1/webhooks/{id}/deliveries',
  summary: 'The delivery log of an endpoint, newest first',
  request: {
    params: idParam,
    query: z.strictObject({
      status: z.enum(['pending', 'delivered', 'failed', 'dead']).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
  },
  responses: { 200: json(z.object({ deliveries: z.array(deliverySchema) }), 'Deliveries'), ...errorResponses, ...notFound },
});

const missing = () => new ApiError(404, 'WEBHOOK_NOT_FOUND', 'no webhook endpoint with this id in this tenant');

export function registerWebhooks(app: OpenAPIHono<AppEnv>) {
  const store = (c: { get(k: 'services'): AppEnv['Variables']['services'] }) => c.get('services').notifications.store;

  app.openapi(createWebhook, async (c) => {
    const body = c.req.valid('json');
    const secret = generateWebhookSecret();
    const e = await store(c).createEndpoint(c.get('principal').tenant.id, { url: body.url, eventTypes: body.event_types, enabled: body.enabled, secret });
    return c.json({ ...toJson(e), secret }, 201);
  });

  app.openapi(listWebhooks, async (c) => c.json({ webhooks: (await store(c).listEndpoints(c.get('principal').tenant.id)).map(toJson) }, 200));

  app.openapi(getWebhook, async (c) => {
    const e = await store(c).getEndpoint(c.get('principal').tenant.id, c.req.valid('param').id);
    if (!e) throw missing();
    return c.json(toJson(e), 200);
  });

  app.openapi(patchWebhook, async (c) => {
    const body = c.req.valid('json');
    const e = await store(c).updateEndpoint(c.get('principal').tenant.id, c.req.valid('param').id, {
      url: body.url,
      eventTypes: body.event_types,
      enabled: body.enabled,
    });
    if (!e) throw missing();
    return c.json(toJson(e), 200);
  });

  app.openapi(deleteWebhook, async (c) => {
    if (!(await store(c).deleteEndpoint(c.get('principal').tenant.id, c.req.valid('param').id))) throw missing();
    return c.body(null, 204);
  });

  app.openapi(testWebhook, async (c) => {
    const tenantId = c.get('principal').tenant.id;
    const { id } = c.req.valid('param');
    const e = await store(c).getEndpoint(tenantId, id);
    if (!e) throw missing();
    if (!e.enabled) throw new ApiError(409, 'WEBHOOK_DISABLED', 'this endpoint is disabled: PATCH {"enabled": true} first');
    const deliveryId = await c.get('services').notifications.enqueueTest(tenantId, id);
    if (!deliveryId) throw missing(); // deleted in between
    return c.json({ delivery_id: deliveryId, status: 'pending' as const }, 202);
  });

  app.openapi(listDeliveries, async (c) => {
    const tenantId = c.get('principal').tenant.id;
    const { id } = c.req.valid('param');
    if (!(await store(c).getEndpoint(tenantId, id))) throw missing();
    const q = c.req.valid('query');
    return c.json({ deliveries: (await store(c).listDeliveries(tenantId, id, { limit: q.limit, status: q.status })).map(deliveryJson) }, 200);
  });
}
