/**
 * The SDK's view of the API, all derived from the generated OpenAPI types (openapi.d.ts), so a
 * schema change in a route shows up here as a type error after `npm run gen:client`.
 */
import type { components, paths } from './openapi.js';

/** One event as track() takes it: the ingest body's Event schema. */
export type TrackEvent = components['schemas']['Event'];
/** The 202 answer of POST /api/v1/events. */
export type IngestResult = components['schemas']['IngestResult'];
export type Rejection = IngestResult['rejected'][number];
/** The error envelope every 4xx/5xx carries. */
export type ErrorBody = components['schemas']['Error'];

/** Paths with a GET operation that answers JSON. */
export type GetPath = {
  [P in keyof paths]: paths[P] extends { get: { responses: { 200: { content: { 'application/json': unknown } } } } } ? P : never;
}[keyof paths];

type GetOp<P extends GetPath> = paths[P] extends { get: infer O } ? O : never;
/** The query parameters of a GET path. */
export type QueryOf<P extends GetPath> = GetOp<P> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The 200 JSON body of a GET path. */
export type ResponseOf<P extends GetPath> = GetOp<P> extends { responses: { 200: { content: { 'application/json': infer R } } } } ? R : never;

export type UsageStatisticsQuery = QueryOf<'/api/v1/analytics/statistics/usage'>;
export type UsageStatistics = ResponseOf<'/api/v1/analytics/statistics/usage'>;
export type CostStatisticsQuery = QueryOf<'/api/v1/analytics/statistics/cost'>;
export type CostStatistics = ResponseOf<'/api/v1/analytics/statistics/cost'>;
export type UsageSummaryQuery = QueryOf<'/api/v1/analytics/usage-summary'>;
export type UsageSummary = ResponseOf<'/api/v1/analytics/usage-summary'>;
export type CostsQuery = QueryOf<'/api/v1/analytics/costs'>;
export type CostsBreakdown = ResponseOf<'/api/v1/analytics/costs'>;
export type EventsPageQuery = QueryOf<'/api/v1/events'>;
export type EventsPage = ResponseOf<'/api/v1/events'>;
