import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerMttrReport } from '../reports/mttr/route.js';
import { registerRuns } from '../runs/route.js';
import { registerTimeline } from '../timeline/route.js';
import { registerAnomalyRoutes } from './anomaly-routes.js';
import { registerIncidentRoutes } from './incident-routes.js';
import { registerIncidentLinks } from './link-routes.js';

/** Anomalies → incidents → MTTR, and the links between runs, incidents, costs and the timeline (issue 4 §3–4). */
export function registerIncidents(app: OpenAPIHono<AppEnv>) {
  registerAnomalyRoutes(app);
  registerIncidentRoutes(app);
  registerIncidentLinks(app);
  registerRuns(app);
  registerTimeline(app);
  registerMttrReport(app);
}
