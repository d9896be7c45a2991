import { setTimeout as sleep } from 'node:timers/promises';
import type { Services } from '../services.js';
import { runAttempt } from './instrument.js';
import { backoffDelay, DEFAULT_ATTEMPTS, windowAt, type JobDefinition } from './registry.js';
import { errorText, iso, type JobRuntime, type JobStatus } from './status.js';

export interface EmbeddedSchedulerOptions {
  /** How long stop() waits for running jobs before aborting their signal. */
  shutdownGraceMs: number;
  /** Where failures are logged. */
  log: (message: string) => void;
}

const DEFAULTS: EmbeddedSchedulerOptions = {
  shutdownGraceMs: 10_000,
  log: (m) => console.error(m),
};

// After the grace period the handlers' signal is aborted; this is how long they get to notice.
const ABORT_GRACE_MS = 2_000;

interface DeadWindow {
  windowStart: number;
  error: string;
  at: number;
}

interface JobState {
  def: JobDefinition;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  /** The latest window started (run or running): a window never starts twice. */
  lastWindow?: number;
  /** A window that came due while the previous run was still going; runs right after it. */
  pending?: number;
  lastSuccessAt?: number;
  lastSuccessWindow?: number;
  lastFailureAt?: number;
  lastError?: string;
  failures: number;
  deadLettered: number;
  /** The latest dead-lettered windows (the last 100). */
  dead: DeadWindow[];
}

/**
 * The embedded-mode job runtime (no REDIS_URL): runs each registered job in this process once per
 * window, never two runs of one job at once (a window that comes due meanwhile runs right after;
 * windows missed while it ran are coalesced into the latest), retries a failed window with
 * exponential backoff and then sets it aside as dead-lettered. State lives in memory: a restart
 * forgets it, and may run the current window again (handlers are idempotent per window).
 */
export class EmbeddedScheduler implements JobRuntime {
  readonly mode = 'embedded' as const;
  private readonly opts: EmbeddedSchedulerOptions;
  private readonly states: JobState[];
  private started = false;
  /** Cuts retry backoff sleeps short at stop(). */
  private stopping = new AbortController();
  /** The handlers' signal: aborted only when the shutdown grace period is over. */
  private aborting = new AbortController();

  constructor(
    private readonly services: Services,
    jobs: JobDefinition[],
    opts: Partial<EmbeddedSchedulerOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.states = jobs.map((def) => ({ def, failures: 0, deadLettered: 0, dead: [] }));
  }

  /** Runs each job's current window now, then each next window as it begins. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = new AbortController();
    this.aborting = new AbortController();
    for (const st of this.states) {
      this.due(st);
      this.arm(st);
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const st of this.states) {
      clearTimeout(st.timer);
      st.timer = undefined;
      st.pending = undefined;
    }
    this.stopping.abort();
    const running = () => Promise.allSettled(this.states.map((s) => s.running));
    const finished = await Promise.race([running().then(() => true), sleep(this.opts.shutdownGraceMs, false, { ref: false })]);
    if (finished) return;
    this.aborting.abort();
    await Promise.race([running(), sleep(ABORT_GRACE_MS, undefined, { ref: false })]);
  }

  async status(): Promise<JobStatus[]> {
    return this.states.map((st) => ({
      job: st.def.name,
      every_ms: st.def.everyMs,
      last_success_at: iso(st.lastSuccessAt),
      last_success_window: st.lastSuccessWindow === undefined ? null : iso(st.lastSuccessWindow),
      last_failure_at: iso(st.lastFailureAt),
      last_error: st.lastError ?? null,
      failures: st.failures,
      dead_lettered: st.deadLettered,
    }));
  }

  private arm(st: JobState) {
    const now = Date.now();
    const { windowEnd } = windowAt(now, st.def.everyMs);
    st.timer = setTimeout(() => {
      st.timer = undefined;
      if (!this.started) return;
      this.due(st);
      this.arm(st);
    }, windowEnd - now);
    st.timer.unref();
  }

  private due(st: JobState) {
    const { windowStart } = windowAt(Date.now(), st.def.everyMs);
    if (st.lastWindow !== undefined && windowStart <= st.lastWindow) return;
    if (st.running) {
      st.pending = windowStart;
      return;
    }
    this.run(st, windowStart);
  }

  private run(st: JobState, windowStart: number) {
    st.lastWindow = windowStart;
    st.running = this.attempts(st, windowStart).finally(() => {
      st.running = undefined;
      const next = st.pending;
      st.pending = undefined;
      if (this.started && next !== undefined && next > windowStart) this.run(st, next);
    });
  }

  private async attempts(st: JobState, windowStart: number): Promise<void> {
    const { def } = st;
    const attempts = def.attempts ?? DEFAULT_ATTEMPTS;
    const ctx = {
      services: this.services,
      windowStart: new Date(windowStart),
      windowEnd: new Date(windowStart + def.everyMs),
      signal: this.aborting.signal,
    };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await runAttempt(this.services.metrics, def, ctx);
        st.lastSuccessAt = Date.now();
        st.lastSuccessWindow = windowStart;
        return;
      } catch (e) {
        // A run cut short by shutdown is not the job's failure: the next start runs the window again.
        if (this.aborting.signal.aborted) return;
        st.failures++;
        st.lastFailureAt = Date.now();
        st.lastError = errorText(e);
        const last = attempt === attempts;
        this.opts.log(
          `job ${def.name} window ${iso(windowStart)}: attempt ${attempt}/${attempts} failed${last ? ', dead-lettered' : ''}: ${st.lastError}`,
        );
        if (last) {
          st.deadLettered++;
          st.dead.push({ windowStart, error: st.lastError, at: st.lastFailureAt });
          if (st.dead.length > 100) st.dead.shift();
          return;
        }
        const slept = await sleep(backoffDelay(def, attempt), true, { signal: this.stopping.signal }).catch(() => false);
        if (!slept) return;
      }
    }
  }
}
