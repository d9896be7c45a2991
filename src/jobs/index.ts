import { detectBudgets } from '../control/detection/budgets.js';
import { detectSeasonalIfDue } from '../control/detection/hourly.js';
import { HOUR_MS } from '../query/time-buckets.js';
import { reconcileRecent } from './reconciliation.js';
import { jobRegistry, registerJob } from './registry.js';
import { retentionJob } from './retention.js';
import { webhooksDeliverJob } from './webhooks-deliver.js';

/**
 * The engine's jobs. Features add theirs here with registerJob (detection, reconciliation), so
 * both runtimes — the embedded scheduler of `serve` and `tallyhouse worker` — run them.
 */
registerJob(webhooksDeliverJob);
registerJob(retentionJob);
// Every closed hour: rollups against deduplicated raw over the last 48 h, repairing what drifted.
registerJob({ name: 'reconciliation', everyMs: HOUR_MS, handler: ({ services, windowEnd }) => reconcileRecent(services, { now: windowEnd }) });
// Every minute: detection. Budgets every minute; then spikes, drops and error rates of the last
// closed hour, once per hour (src/control/detection/hourly.ts). A failing budget check does not
// stop the seasonal one: both run, then the first failure fails the window (and it is retried).
registerJob({
  name: 'detection',
  everyMs: 60_000,
  handler: async ({ services, windowStart }) => {
    const [budgets, seasonal] = [await settle(detectBudgets(services, windowStart)), await settle(detectSeasonalIfDue(services, windowStart))];
    if (!budgets.ok) throw budgets.error;
    if (!seasonal.ok) throw seasonal.error;
    return { ...budgets.value, seasonal: seasonal.value };
  },
});

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

export const registeredJobs = () => jobRegistry.list();
export { registerJob };
