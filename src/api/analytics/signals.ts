import { DateTime } from 'luxon';
import type { SourceName } from '../../query/catalog.js';
import { ADDITIVE_ORDER } from '../../query/planner.js';
import { SOURCE_TABLE } from '../../query/sql.js';

/** Tables that answered, in the planner's cheapest-first order, each once. */
export function sourceTables(sources: Iterable<SourceName>): string[] {
  const set = new Set(sources);
  return ADDITIVE_ORDER.filter((s) => set.has(s)).map((s) => SOURCE_TABLE[s]);
}

/** RFC 3339 in UTC without a zero millisecond part: "2026-11-01T00:00:00Z". */
export const isoUtc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A bucket start as RFC 3339 in the request's zone: "2026-10-25T02:00:00+01:00" (Z for UTC). */
export const isoInZone = (ms: number, tz: string) =>
  DateTime.fromMillis(ms, { zone: tz }).toISO({ suppressMilliseconds: true })!;

/** The local calendar date of a bucket start: "2026-10-25". */
export const dateInZone = (ms: number, tz: string) => DateTime.fromMillis(ms, { zone: tz }).toISODate()!;
