import type { Metrics } from '../metrics.js';
import type { JobContext, JobDefinition } from './registry.js';

/** Runs one attempt of a window with the job metrics recorded (duration, last success, failures). */
export async function runAttempt<R>(metrics: Metrics, def: JobDefinition<R>, ctx: JobContext): Promise<R> {
  const end = metrics.jobDuration.startTimer({ job: def.name });
  try {
    const result = await def.handler(ctx);
    end();
    metrics.jobLastSuccess.set({ job: def.name }, Date.now() / 1000);
    return result;
  } catch (e) {
    end();
    metrics.jobFailures.inc({ job: def.name });
    throw e;
  }
}
