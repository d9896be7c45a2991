import type { DeliveryRunSummary } from '../control/notifications/dispatcher.js';
import type { JobDefinition } from './registry.js';

/**
 * Sends the webhook deliveries that are due. The dispatcher claims deliveries as leased rows,
 * so overlapping runs on several workers never send one twice; this job replaces the
 * dispatcher's own interval sender wherever a job runtime runs (serve and worker).
 */
export const webhooksDeliverJob: JobDefinition<DeliveryRunSummary> = {
  name: 'webhooks.deliver',
  everyMs: 5_000,
  // A failed run is simply the next window's work: retrying the same window adds nothing.
  attempts: 1,
  handler: ({ services }) => services.notifications.deliverDue(new Date()),
};
