import { z } from '@hono/zod-openapi';
import { eventSchema } from '../../ingest/event-schema.js';

export const ingestResultSchema = z
  .object({
    accepted: z.number().int().openapi({ description: 'Events stored (now in ClickHouse)' }),
    duplicates: z.number().int().openapi({ description: 'Events whose event_id was already stored; counted once' }),
    rejected: z.array(
      z.object({
        index: z.number().int().openapi({ description: 'Position in the batch (0-based; NDJSON: non-empty line order)' }),
        code: z.string().openapi({ example: 'MISSING_FIELD' }),
        message: z.string(),
        path: z.string().openapi({ description: 'The offending field, dotted', example: 'input_tokens' }),
      }),
    ),
  })
  .openapi('IngestResult');

export const eventDoc = eventSchema.openapi('Event');
