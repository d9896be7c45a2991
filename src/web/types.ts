/**
 * The shapes the dashboard reads: the API's own schemas, through the OpenAPI document's generated
 * types (src/client/openapi.d.ts, from the routes' zod schemas), so a route change that the page
 * doesn't follow fails the type check instead of rendering blanks.
 */
import type { components } from '../client/openapi.js';

type Schemas = components['schemas'];

export type UsageStats = Schemas['UsageStatistics'];
export type CostStats = Schemas['CostStatistics'];
export type CostFields = CostStats['totals'];
/** A row of any breakdown: the shared measures, plus the dimension's own label columns. */
export type BreakdownRow = CostFields & { pct_of_total: number; other?: true } & Record<string, unknown>;
export type CostBreakdown = Schemas['CostBreakdown'];
export type Budget = Schemas['Budget'];
export type BudgetStatus = Schemas['BudgetStatus'];
export type Incident = Schemas['Incident'];
export type Anomaly = Schemas['Anomaly'];
export type TimelineEntry = Schemas['TimelineEntry'];
export type AgentActivity = Schemas['AgentActivity'];
export type TokenTrends = Schemas['TokenTrends'];
export type CredentialRotations = Schemas['CredentialRotations'];
export type EndpointPatterns = Schemas['EndpointPatterns'];
