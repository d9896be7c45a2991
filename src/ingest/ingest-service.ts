import type { ClickHouseStore } from '../stores/clickhouse/store.js';
import type { Metrics } from '../metrics.js';
import { KeyedMutex } from '../util/mutex.js';
import type { IngestJournal } from './journal.js';
import type { PriceBook } from './prices.js';
import { storedEventIds } from './stored-ids.js';
import { EVENT_COLUMNS, buildEventRows } from './event-rows.js';
import { isRejection, validateEvent, type Rejection, type ValidEvent } from './validate-event.js';

export interface IngestContext {
  tenantId: string;
  /** The ingesting key: the default `api_key_id` of an event that names none. */
  apiKeyId: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export interface IngestOptions {
  maxFutureDays: number;
  retentionDays: number;
}

const DAY_MS = 86_400_000;

/**
 * The one ingestion path (HTTP batches, single usage events and `tallyhouse seed` all use it).
 *
 * Order matters for "never lost, never twice": validate → drop ids already seen (in this batch,
 * or in ClickHouse's event_ids) → insert → answer. The insert returning is what makes an event
 * accepted; the event_ids marker is written by the insert itself (a materialized view), so a
 * marker never exists without its event. Batches of one tenant are serialised so two concurrent
 * retries of the same id cannot both pass the check.
 */
export class IngestService {
  readonly #tenantLocks = new KeyedMutex();

  constructor(
    private readonly ch: ClickHouseStore,
    private readonly prices: PriceBook,
    private readonly metrics: Metrics,
    private readonly opts: IngestOptions,
    /** Where single usage events go (INGEST_JOURNAL); without it they are inserted one by one. */
    private readonly journal?: IngestJournal,
  ) {}

  /**
   * Events the server names itself (no producer event_id, so no duplicate to look for): into
   * the journal when there is one, accepted once appended; else through `ingest`.
   */
  async ingestOwn(ctx: IngestContext, rawEvents: unknown[], nowMs = Date.now()): Promise<IngestResult> {
    if (!this.journal) return this.ingest(ctx, rawEvents, nowMs);
    const { valid, rejected } = this.#validate(rawEvents, nowMs);
    if (valid.some((v) => v.producerId)) throw new Error('ingestOwn takes events without an event_id');
    if (!valid.length) return { accepted: 0, duplicates: 0, rejected };
    await this.prices.ensureFresh();
    const lines = buildEventRows(ctx, valid, this.prices, nowMs).toString('utf8').split('\n');
    this.journal.append(
      ctx.tenantId,
      valid.map((v, i) => ({ eventId: v.eventId, row: lines[i]! })),
    );
    this.metrics.usageEvents.inc(valid.length);
    this.metrics.journalPending.set(this.journal.pending);
    return { accepted: valid.length, duplicates: 0, rejected };
  }

  /** Each event validated (and counted in the batch metrics): the valid ones and the rejections. */
  #validate(rawEvents: unknown[], nowMs: number): { valid: ValidEvent[]; rejected: Rejection[] } {
    const rejected: Rejection[] = [];
    const valid: ValidEvent[] = [];
    const vopts = { nowMs, maxFutureMs: this.opts.maxFutureDays * DAY_MS, retentionMs: this.opts.retentionDays * DAY_MS };
    for (let i = 0; i < rawEvents.length; i++) {
      const v = validateEvent(rawEvents[i], i, vopts);
      if (isRejection(v)) rejected.push(v);
      else valid.push(v);
    }
    this.metrics.ingestBatchSize.observe(rawEvents.length);
    if (rejected.length) this.metrics.ingestRejected.inc(rejected.length);
    return { valid, rejected };
  }

  async ingest(ctx: IngestContext, rawEvents: unknown[], nowMs = Date.now()): Promise<IngestResult> {
    const { valid, rejected } = this.#validate(rawEvents, nowMs);

    // Same id twice in one batch: the first one counts.
    const seen = new Set<string>();
    let duplicates = 0;
    const unique: ValidEvent[] = [];
    for (const v of valid) {
      if (seen.has(v.eventId)) duplicates++;
      else {
        seen.add(v.eventId);
        unique.push(v);
      }
    }
    if (unique.length === 0) return { accepted: 0, duplicates, rejected };

    await this.prices.ensureFresh();
    const result = await this.#tenantLocks.run(ctx.tenantId, async () => {
      const known = await this.#alreadyStored(ctx.tenantId, unique);
      const fresh = known.size ? unique.filter((v) => !known.has(v.eventId)) : unique;
      if (fresh.length) {
        const body = buildEventRows(ctx, fresh, this.prices, nowMs);
        const end = this.metrics.insertDuration.startTimer({ table: 'events' });
        await this.ch.insertRows('events', EVENT_COLUMNS, body);
        end();
      }
      return { fresh, known: unique.length - fresh.length };
    });

    if (result.fresh.length) this.metrics.usageEvents.inc(result.fresh.length);
    return { accepted: result.fresh.length, duplicates: duplicates + result.known, rejected };
  }

  /**
   * Runs fn while no batch of this tenant is being inserted by this process (the reconciliation
   * job rebuilds a tenant-day's rollups under it, so a concurrent insert cannot be counted twice).
   */
  exclusive<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    return this.#tenantLocks.run(tenantId, fn);
  }

  #alreadyStored(tenantId: string, events: ValidEvent[]): Promise<Set<string>> {
    return storedEventIds(this.ch, tenantId, events.filter((v) => v.producerId).map((v) => v.eventId));
  }
}
