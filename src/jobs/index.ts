import { detectBudgets } from '../control/detection/budgets.js';
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
// Every minute: detection. Budgets now; spike/drop and error-rate detection join this handler
// (after the budgets, each in its own module under src/control/detection/) when they exist.
registerJob({ name: 'detection', everyMs: 60_000, handler: ({ services, windowStart }) => detectBudgets(services, windowStart) });

export const registeredJobs = () => jobRegistry.list();
export { registerJob };
