import type { Context } from 'hono';
import { answer, type Answer, type AnswerOptions } from '../query/execute.js';
import type { Question } from '../query/planner.js';
import type { AppEnv } from './env.js';

/**
 * A request's planner questions, timed together: the duration lands in queryDuration under the
 * endpoint and every table that answered (source "actors_daily+daily+raw" etc.).
 */
export function timedPlanner(c: Context<AppEnv>, endpoint: string) {
  const { ch, metrics } = c.get('services');
  const started = performance.now();
  const sources = new Set<string>();
  return {
    async ask(q: Question, opts?: AnswerOptions): Promise<Answer> {
      const a = await answer(ch, q, opts);
      a.sources.forEach((s) => sources.add(s));
      return a;
    },
    done() {
      metrics.queryDuration.observe({ endpoint, source: [...sources].sort().join('+') }, (performance.now() - started) / 1000);
    },
  };
}
