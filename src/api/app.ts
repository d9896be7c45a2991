import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { Services } from '../services.js';
import type { AppEnv } from './env.js';
import { ApiError, errorBody, sendError, validationError } from './errors.js';
import { isConnectionError } from '../stores/unavailable.js';
import { storeUnavailable } from './store-unavailable.js';
import { registerQuery } from './analytics/query/route.js';
import { registerQueryExport } from './analytics/query/export-route.js';
import { registerExportEvents } from './export/events/route.js';
import { registerAgentAnalytics } from './analytics/agents/index.js';
import { registerUsageMonitoring } from './usage/index.js';
import { registerStatistics } from './analytics/statistics/routes.js';
import { registerCosts } from './analytics/costs/route.js';
import { registerAnalyticsStatus } from './analytics/status/route.js';
import { registerListEvents } from './events/list-route.js';
import { registerIngestEvents } from './events/route.js';
import { registerKeys } from './keys/route.js';
import { registerOps } from './ops/route.js';
import { registerOpsJobs } from './ops/jobs/route.js';
import { registerUsageEvents } from './usage-events/route.js';
import { registerReports } from './reports/register.js';
import { registerCsvExport } from './export/csv/route.js';
import { registerDocs } from './docs/route.js';
import { registerUnitRates } from './unit-rates/route.js';
import { registerBudgets } from './budgets/index.js';
import { registerWebhooks } from './webhooks/route.js';
import { registerIncidents } from './incidents/index.js';
import { requestGuards } from './request-guards.js';
import { registerSession } from './web/session-route.js';
import { registerWebConsole } from './web/static-route.js';

// Errors raised by Hono's own layers (validators, media-type gate) get the codes the handlers
// use for the same refusal, so a client sees one code per cause whichever layer said no.
const HTTP_EXCEPTION_CODES: Record<number, string> = {
  400: 'INVALID_REQUEST',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** The document's header, shared with the SDK type generator (src/client/gen/openapi-types.ts). */
export const OPENAPI_DOCUMENT_CONFIG = {
  openapi: '3.1.0',
  info: { title: 'tallyhouse', version: '0.1.0', description: 'Multi-tenant usage and cost analytics on ClickHouse' },
};

export function createApp(services: Services) {
  const app = new OpenAPIHono<AppEnv>({
    // zod validation failures of any route become the one error envelope, naming the field.
    defaultHook: (result) => {
      if (!result.success) {
        const where = { json: 'body', query: 'query', param: 'path', header: 'header', form: 'form', cookie: 'cookie' }[result.target] ?? result.target;
        throw validationError(result.error, where);
      }
    },
  });

  app.use('*', requestId());
  app.use('*', async (c, next) => {
    c.set('services', services);
    const end = services.metrics.httpDuration.startTimer({ method: c.req.method });
    try {
      await next();
    } finally {
      end({ route: routePath(c) || 'unmatched', status: String(c.res.status) });
    }
  });

  app.use('*', ...requestGuards(services.config));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key: th_…' });
  registerOps(app);
  registerOpsJobs(app);
  registerIngestEvents(app);
  registerListEvents(app);
  registerQuery(app);
  registerQueryExport(app);
  registerExportEvents(app);
  registerAgentAnalytics(app);
  registerUsageMonitoring(app);
  registerStatistics(app);
  registerCosts(app);
  registerAnalyticsStatus(app);
  registerUsageEvents(app);
  registerKeys(app);
  registerReports(app);
  registerCsvExport(app);
  registerDocs(app);
  registerUnitRates(app);
  registerBudgets(app);
  registerWebhooks(app);
  registerIncidents(app);
  registerSession(app);
  registerWebConsole(app);

  app.doc31('/openapi.json', OPENAPI_DOCUMENT_CONFIG);

  app.notFound((c) => c.json(errorBody(c, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return sendError(c, err);
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = HTTP_EXCEPTION_CODES[status] ?? 'HTTP_ERROR';
      return c.json(errorBody(c, code, err.message || 'request failed'), status);
    }
    if (err instanceof SyntaxError) return c.json(errorBody(c, 'MALFORMED_BODY', `malformed JSON body: ${err.message}`), 400);
    if (isConnectionError(err)) return sendError(c, storeUnavailable(err));
    console.error(`[${c.get('requestId')}] ${c.req.method} ${c.req.path}:`, err);
    return c.json(errorBody(c, 'INTERNAL', 'internal error; the request id identifies it in the server log'), 500);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
