import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { dict, envelope, usageMiddleware, usageQuery, usageWindow, usageQuestion, windowSchema } from './window.js';

const tokenTotals = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() });

const usageLlmTokens = z
  .object({
    llm_tokens: z.record(z.string(), tokenTotals).openapi({ description: '{user_id: {input_tokens, output_tokens, total_tokens}}' }),
    days: z.number().int(),
    window: windowSchema,
    generated_at: z.string(),
  })
  .openapi('UsageLlmTokensResponse');

export const usageLlmTokensRoute = createRoute({
  method: 'get',
  path: '/api/v1/usage/llm-tokens',
  tags: ['usage monitoring'],
  summary: 'Input and output token totals per user over the last `days` days',
  description: 'Admin keys only. Tokens of every event type (llm.call, sql_generation, …); users without tokens are not listed. Cached 60 s.',
  security: [{ bearer: [] }],
  middleware: usageMiddleware('usage-llm-tokens'),
  request: { query: usageQuery },
  responses: { 200: { description: 'Tokens per user', content: { 'application/json': { schema: usageLlmTokens } } }, ...errorResponses },
});

export function registerUsageLlmTokens(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageLlmTokensRoute, async (c) => {
    const w = usageWindow(c, c.req.valid('query').days);
    const planner = timedPlanner(c, 'usage-llm-tokens');
    const a = await planner.ask(usageQuestion(c, w, { metrics: ['input_tokens', 'output_tokens', 'total_tokens'], dimensions: ['user_id'] }));
    planner.done();
    const llm_tokens = dict<z.infer<typeof tokenTotals>>();
    for (const r of a.rows) {
      const total = r.values.total_tokens as number;
      if (total === 0) continue;
      llm_tokens[r.dims.user_id as string] = { input_tokens: r.values.input_tokens as number, output_tokens: r.values.output_tokens as number, total_tokens: total };
    }
    return c.json({ llm_tokens, ...envelope(w) }, 200);
  });
}
