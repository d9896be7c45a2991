import type { Metric } from '../../query/catalog.js';
import { answer, type Answer } from '../../query/execute.js';
import { windowQuestion, type Question } from '../../query/planner.js';
import type { ClickHouseStore } from '../../stores/clickhouse/store.js';
import type { ReportWindow } from './window.js';

/**
 * The planner questions the reports are made of. Every report number comes from one of these
 * answers (cheapest covering table), so a report and /analytics/query agree to the digit.
 * Days are UTC days: a report is the same whoever reads it.
 */
const question = (tenantId: string, w: ReportWindow, metrics: Metric[], extra: Partial<Question> = {}): Question =>
  windowQuestion({ tenantId, fromMs: w.fromMs, toMs: w.toMs }, { metrics, ...extra });

/** Per event type: the service types of the costs report, and the totals of the overview. */
export const byEventType = (ch: ClickHouseStore, tenantId: string, w: ReportWindow): Promise<Answer> =>
  answer(ch, question(tenantId, w, ['events', 'requests', 'failures', 'cost'], { dimensions: ['event_type'] }));

/** Per UTC day, gap-filled: the trends series and the daily p95s the overview averages. */
export const daily = (ch: ClickHouseStore, tenantId: string, w: ReportWindow): Promise<Answer> =>
  answer(ch, question(tenantId, w, ['events', 'requests', 'failures', 'cost', 'latency_p95'], { granularity: 'day' }));

/** Distinct run ids of the window (raw events: no rollup keeps run_id). */
export const distinctRuns = (ch: ClickHouseStore, tenantId: string, w: ReportWindow): Promise<Answer> =>
  answer(ch, question(tenantId, w, ['unique_runs']));

export const sourcesOf = (...answers: Answer[]) => [...new Set(answers.flatMap((a) => a.sources))].join('+');
