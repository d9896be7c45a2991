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

export const registeredJobs = () => jobRegistry.list();
export { registerJob };
