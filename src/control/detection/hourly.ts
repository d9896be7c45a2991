import { HOUR_MS, floorTo } from '../../query/time-buckets.js';
import type { Services } from '../../services.js';
import { detectSeasonal, type SeasonalSummary } from './spikes.js';

/**
 * When the every-minute detection job runs seasonal detection: once per closed hour, not every
 * minute (it reads five rollup hours of every tenant and the raw events' user hours).
 *  - Not before DETECTION_GRACE_MINUTES past the hour, so events of hour H that arrive a little
 *    late are in the rollup when H is judged (a finding is recorded once: its first score stays).
 *  - Then at the first window of the hour not yet done by this process: a process that starts
 *    at 12:40 still checks 11:00–12:00, and a failed run is retried by the next minute's window.
 *    The memo is per process (and per Services); several workers, or a restart, may check the
 *    same hour again, which the anomalies' dedup keys make a no-op.
 */
const lastHourDone = new WeakMap<object, number>();

/** The hour to check for a job window starting at `windowStartMs`, or null inside the grace period. */
export function closedHourFor(windowStartMs: number, graceMinutes: number): number | null {
  const hourStart = floorTo(windowStartMs, HOUR_MS);
  return windowStartMs - hourStart < graceMinutes * 60_000 ? null : hourStart - HOUR_MS;
}

/** Seasonal detection of the last closed hour, if due (see above); null when not due. */
export async function detectSeasonalIfDue(services: Services, windowStart: Date): Promise<SeasonalSummary | null> {
  const hour = closedHourFor(windowStart.getTime(), services.config.detection.graceMinutes);
  if (hour === null || (lastHourDone.get(services) ?? -Infinity) >= hour) return null;
  const summary = await detectSeasonal(services, new Date(hour), windowStart);
  lastHourDone.set(services, hour);
  return summary;
}
