import { z } from '@hono/zod-openapi';
import { usdToNano } from '../../../ingest/money.js';
import type { Dimension, Metric } from '../../../query/catalog.js';
import type { AnswerRow } from '../../../query/execute.js';
import { centsFromNano, pctOfTotal, usdFromNano, type ExactNumber } from '../exact-json.js';

/**
 * Cost sums and cost breakdown rows (seed 000 by_model / by_feature, seed 004 costs by API key,
 * policy, …). Money stays integer nano-USD until it is printed.
 */
export const COST_METRICS: Metric[] = ['cost', 'requests', 'input_tokens', 'output_tokens'];

export interface CostSums {
  costNano: bigint;
  requests: bigint;
  inputTokens: bigint;
  outputTokens: bigint;
}

export const zeroSums = (): CostSums => ({ costNano: 0n, requests: 0n, inputTokens: 0n, outputTokens: 0n });

/** A planner row asked for COST_METRICS → exact sums (cost arrives as a decimal USD string). */
export function sumsOf(row: AnswerRow): CostSums {
  const v = row.values;
  return {
    costNano: usdToNano(String(v.cost ?? '0')),
    requests: BigInt(v.requests ?? 0),
    inputTokens: BigInt(v.input_tokens ?? 0),
    outputTokens: BigInt(v.output_tokens ?? 0),
  };
}

export function addInto(acc: CostSums, s: CostSums): CostSums {
  acc.costNano += s.costNano;
  acc.requests += s.requests;
  acc.inputTokens += s.inputTokens;
  acc.outputTokens += s.outputTokens;
  return acc;
}

/** The entry of `key`, created at zero. */
export function sumsAt<K>(map: Map<K, CostSums>, key: K): CostSums {
  let s = map.get(key);
  if (!s) map.set(key, (s = zeroSums()));
  return s;
}

export const minus = (a: CostSums, b: CostSums): CostSums => ({
  costNano: a.costNano - b.costNano,
  requests: a.requests - b.requests,
  inputTokens: a.inputTokens - b.inputTokens,
  outputTokens: a.outputTokens - b.outputTokens,
});

const isZero = (s: CostSums) => s.costNano === 0n && s.requests === 0n && s.inputTokens === 0n && s.outputTokens === 0n;

export interface CostFields {
  spend_cents: ExactNumber;
  spend_usd: ExactNumber;
  requests: number;
  input_tokens: number;
  output_tokens: number;
}

export const costFields = (s: CostSums): CostFields => ({
  spend_cents: centsFromNano(s.costNano),
  spend_usd: usdFromNano(s.costNano),
  requests: Number(s.requests),
  input_tokens: Number(s.inputTokens),
  output_tokens: Number(s.outputTokens),
});

/** What a breakdown groups by and how its rows name the group. */
export interface BreakdownSpec {
  dimension: Dimension;
  /** Field of the row holding the group's value, e.g. "model", "feature_tag". */
  field: string;
  /** Events without a value: seed 000 calls an empty feature "untagged"; elsewhere null. */
  emptyLabel: string | null;
}

export const BREAKDOWNS = {
  model: { dimension: 'model', field: 'model', emptyLabel: null },
  feature: { dimension: 'feature', field: 'feature_tag', emptyLabel: 'untagged' },
  user: { dimension: 'user_id', field: 'user_id', emptyLabel: null },
  api_key: { dimension: 'api_key_id', field: 'api_key_id', emptyLabel: null },
  project: { dimension: 'project', field: 'project', emptyLabel: null },
  provider: { dimension: 'provider', field: 'provider', emptyLabel: null },
  run: { dimension: 'run_id', field: 'run_id', emptyLabel: null },
} as const satisfies Record<string, BreakdownSpec>;

/**
 * Grouping by user_id (or agent_id) covers only events that name one (planner rule); the rest
 * of the total is put back as the group without a value, so every breakdown sums to the total.
 */
export const coversOnlyNamed = (d: Dimension) => d === 'user_id' || d === 'agent_id';

export type BreakdownRow = Record<string, string | null | number | boolean | ExactNumber>;

/**
 * Rows sorted by spend (then requests, then value), pct_of_total of the total spend; past
 * `limit` the rest is summed into one row `{<field>: null, other: true}`.
 */
export function breakdownRows(
  spec: BreakdownSpec,
  groups: Map<string, CostSums>,
  total: CostSums,
  limit: number,
  /** More fields for a group's value ('' for rows without one). */
  extra?: (value: string) => Record<string, string | null>,
): BreakdownRow[] {
  const merged = new Map<string, CostSums>();
  for (const [value, s] of groups) addInto(sumsAt(merged, value), s);
  if (coversOnlyNamed(spec.dimension)) {
    let named = zeroSums();
    for (const s of merged.values()) named = addInto(named, s);
    const rest = minus(total, named);
    if (!isZero(rest)) addInto(sumsAt(merged, ''), rest);
  }
  const entries = [...merged.entries()].sort(([va, a], [vb, b]) => {
    if (a.costNano !== b.costNano) return a.costNano > b.costNano ? -1 : 1;
    if (a.requests !== b.requests) return a.requests > b.requests ? -1 : 1;
    return va < vb ? -1 : va > vb ? 1 : 0;
  });
  const row = (label: string | null, s: CostSums): BreakdownRow => ({
    [spec.field]: label,
    ...costFields(s),
    pct_of_total: pctOfTotal(s.costNano, total.costNano),
  });
  const rows = entries.slice(0, limit).map(([value, s]) => ({
    ...row(value === '' ? spec.emptyLabel : value, s),
    ...(extra ? extra(value) : {}),
  }));
  if (entries.length > limit) {
    const rest = entries.slice(limit).reduce((acc, [, s]) => addInto(acc, s), zeroSums());
    rows.push({ ...row(null, rest), ...(extra ? extra('') : {}), other: true });
  }
  return rows;
}

/** Rows of a planner answer grouped by one dimension → sums per value. */
export function groupSums(rows: AnswerRow[], d: Dimension): Map<string, CostSums> {
  const out = new Map<string, CostSums>();
  for (const r of rows) {
    const v = String(r.dims[d] ?? '');
    addInto(sumsAt(out, v), sumsOf(r));
  }
  return out;
}

export const exactMoney = z.number().openapi({ description: 'Exact decimal (printed from integer nano-USD, never through a float)' });

export const costFieldsSchema = {
  spend_cents: exactMoney.openapi({ example: 4 }),
  spend_usd: exactMoney.openapi({ example: 0.04 }),
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
};

/** A breakdown row: `field` holds the group's value (null: the field is named by the request). */
export const breakdownRowSchema = (field: string | null, description: string) =>
  z
    .object({
      ...(field ? { [field]: z.string().nullable().openapi({ description }) } : {}),
      ...costFieldsSchema,
      pct_of_total: z.number().openapi({ description: 'Share of the total spend in percent, 2 decimals; 0 when the total is 0', example: 100 }),
      other: z.literal(true).optional().openapi({ description: 'The sum of the rows past `limit`' }),
    })
    .catchall(z.string().nullable().openapi({ description: field ? 'by_api_key: key_name, key_prefix' : description }));
