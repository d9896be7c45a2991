import type { Services } from '../services.js';

/** What a handler gets for one run: the engine, its window and a signal that fires on shutdown. */
export interface JobContext {
  services: Services;
  /** The schedule slot this run is for: [windowStart, windowEnd), windowEnd = windowStart + everyMs. */
  windowStart: Date;
  windowEnd: Date;
  /** Aborted when the runtime shuts down and stops waiting for the run; stop work promptly. */
  signal: AbortSignal;
}

/**
 * A named periodic job. "A job runs once per window": the window (the schedule slot, e.g. the
 * minute of an every-minute job) is the idempotency key in both runtimes, so a handler may be
 * called again for a window only after a failure, and must be safe to re-run then.
 */
export interface JobDefinition<R = unknown> {
  /** Stable id: also the BullMQ scheduler id and the prefix of each window's job id. No ":". */
  name: string;
  /** Windows are aligned to multiples of this since the epoch (UTC). */
  everyMs: number;
  handler(ctx: JobContext): Promise<R>;
  /** Runs of one window before it is dead-lettered (default 3). */
  attempts?: number;
  /** First retry delay; doubles per attempt (default 1 s). */
  backoffMs?: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** The jobs this engine runs; src/jobs/index.ts registers the built-in ones. */
export class JobRegistry {
  private readonly jobs = new Map<string, JobDefinition>();

  register(def: JobDefinition): void {
    if (!NAME.test(def.name)) throw new Error(`job name ${JSON.stringify(def.name)} must be 1–100 of A-Z a-z 0-9 _ . -`);
    if (!Number.isInteger(def.everyMs) || def.everyMs < 100) throw new Error(`job ${def.name}: everyMs must be a whole number ≥ 100`);
    if (this.jobs.has(def.name)) throw new Error(`job ${def.name} is already registered`);
    this.jobs.set(def.name, def);
  }

  list(): JobDefinition[] {
    return [...this.jobs.values()];
  }
}

export const jobRegistry = new JobRegistry();

/** The hook other features (detection, reconciliation) use to add their job. */
export const registerJob = <R>(def: JobDefinition<R>): void => jobRegistry.register(def as JobDefinition);

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;

/** The window a moment falls in. */
export function windowAt(t: number, everyMs: number): { windowStart: number; windowEnd: number } {
  const windowStart = Math.floor(t / everyMs) * everyMs;
  return { windowStart, windowEnd: windowStart + everyMs };
}

/** base · 2^(attempt−1): the delay before retry number `attempt` (1-based). */
export const backoffDelay = (def: JobDefinition, attempt: number) => (def.backoffMs ?? DEFAULT_BACKOFF_MS) * 2 ** Math.min(attempt - 1, 20);
