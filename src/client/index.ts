/** `import { TallyhouseClient } from 'tallyhouse/client'` */
export { TallyhouseClient, type ClientOptions } from './client.js';
export { EventProducer, ProducerClosedError, type BatchFailure, type CloseResult, type ProducerOptions, type ProducerStats, type RejectedEvent } from './producer.js';
export { TallyhouseApiError, TallyhouseNetworkError } from './errors.js';
export type { RetryOptions } from './retry.js';
export type * from './types.js';
export type { components, paths } from './openapi.js';
