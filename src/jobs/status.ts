/** What GET /api/v1/ops/jobs shows per job, from whichever runtime runs the jobs. */
export interface JobStatus {
  job: string;
  every_ms: number | null;
  last_success_at: string | null;
  /** The window of the last success (its start). */
  last_success_window: string | null;
  last_failure_at: string | null;
  last_error: string | null;
  /** Failed attempts, retried ones included. */
  failures: number;
  /** Windows that failed every attempt and were set aside. */
  dead_lettered: number;
}

/** The jobs side of the engine as the API and `serve` see it. */
export interface JobRuntime {
  readonly mode: 'embedded' | 'queue';
  /** Embedded: starts the in-process scheduler. Queue mode: nothing (`tallyhouse worker` runs jobs). */
  start(): void;
  /** Stops scheduling and waits (bounded) for running jobs; releases connections. */
  stop(): Promise<void>;
  status(): Promise<JobStatus[]>;
}

export const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

// Errors can be long (stack-like driver messages); the status shows enough to say why.
export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 500);
