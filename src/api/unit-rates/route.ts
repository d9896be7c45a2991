import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { dim } from '../../ingest/event-schema.js';
import { deleteUnitRate, listUnitRates, setUnitRate, type UnitRate } from '../../tenancy/unit-rates.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';

// A tenant's own price per event of a type, used by the costs report (seed 001).
const rateSchema = z
  .object({
    event_type: z.string(),
    usd_per_event: z.string().openapi({ description: 'Exact decimal USD', example: '0.01' }),
    updated_at: z.string(),
  })
  .openapi('UnitRate');
const toJson = (r: UnitRate) => ({ event_type: r.eventType, usd_per_event: r.usdPerEvent, updated_at: r.updatedAt });
const eventTypeParam = z.object({ event_type: dim(128).min(1) });
const admin = requireScope('admin');

const listRates = createRoute({
  method: 'get',
  path: '/api/v1/unit-rates',
  tags: ['reports'],
  summary: "The tenant's unit rates (USD per event, by event type)",
  security: [{ bearer: [] }],
  middleware: admin,
  responses: { 200: { description: 'Rates', content: { 'application/json': { schema: z.object({ rates: z.array(rateSchema) }) } } }, ...errorResponses },
});

const putRate = createRoute({
  method: 'put',
  path: '/api/v1/unit-rates',
  tags: ['reports'],
  summary: 'Set the rate of one event type (the costs report prices its events with it)',
  security: [{ bearer: [] }],
  middleware: admin,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({
            event_type: dim(128).min(1),
            usd_per_event: z.string().regex(/^\d{1,11}(\.\d{1,9})?$/, 'a non-negative decimal USD amount with at most 9 decimals, e.g. "0.01"'),
          }),
        },
      },
    },
  },
  responses: { 200: { description: 'Set', content: { 'application/json': { schema: rateSchema } } }, ...errorResponses },
});

const deleteRate = createRoute({
  method: 'delete',
  path: '/api/v1/unit-rates/{event_type}',
  tags: ['reports'],
  summary: 'Remove the rate of one event type',
  security: [{ bearer: [] }],
  middleware: admin,
  request: { params: eventTypeParam },
  responses: {
    204: { description: 'Removed' },
    ...errorResponses,
    404: { description: 'RATE_NOT_FOUND', content: { 'application/json': { schema: errorSchema } } },
  },
});

export function registerUnitRates(app: OpenAPIHono<AppEnv>) {
  app.openapi(listRates, async (c) => c.json({ rates: (await listUnitRates(c.get('services').pg.pool, c.get('principal').tenant.id)).map(toJson) }, 200));
  app.openapi(putRate, async (c) => {
    const body = c.req.valid('json');
    const r = await setUnitRate(c.get('services').pg.pool, c.get('principal').tenant.id, body.event_type, body.usd_per_event);
    return c.json(toJson(r), 200);
  });
  app.openapi(deleteRate, async (c) => {
    if (!(await deleteUnitRate(c.get('services').pg.pool, c.get('principal').tenant.id, c.req.valid('param').event_type))) {
      throw new ApiError(404, 'RATE_NOT_FOUND', 'no rate for this event type');
    }
    return c.body(null, 204);
  });
}
