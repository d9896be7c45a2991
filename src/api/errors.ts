import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one error envelope: `{ error: { code, message, details?, requestId } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_REQUEST' }),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');

export function errorBody(c: Context, code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId: c.get('requestId') ?? '' } };
}

export function sendError(c: Context, err: ApiError) {
  for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
  return c.json(errorBody(c, err.code, err.message, err.details), err.status);
}

/** zod issues → a 400 that names the field. */
export function validationError(error: z.ZodError, where: string): ApiError {
  const issues = error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    // A record key's own issue, not zod's bare "Invalid key in record".
    message: i.code === 'invalid_key' ? `key ${i.issues[0]?.message ?? i.message}` : i.message,
    code: i.code,
  }));
  const first = issues[0]!;
  return new ApiError(
    400,
    'INVALID_REQUEST',
    `${where}${first.path ? ` field "${first.path}"` : ''}: ${first.message}`,
    { issues },
  );
}

/** Shared OpenAPI responses, so every route documents its errors the same way. */
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema } },
});
export const errorResponses = {
  400: errorResponse('Invalid request: the message and details name the field'),
  401: errorResponse('UNAUTHORIZED: missing, unknown or revoked API key'),
  403: errorResponse('FORBIDDEN: the key lacks the scope this route needs'),
  429: errorResponse('RATE_LIMITED: too many requests; see Retry-After'),
  500: errorResponse('INTERNAL: unexpected server error'),
} as const;
