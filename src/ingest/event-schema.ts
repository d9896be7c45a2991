// From @hono/zod-openapi, not zod: zod 4 adds .openapi() per instance, so the extension must
// load before these schemas are built.
import { z } from '@hono/zod-openapi';
import { NANO_PER_USD, usdToNano } from './money.js';

/**
 * The shape of one usage/cost event as a producer posts it. Strict: an unknown field is an
 * error, because a misspelt `input_token` silently dropped would be lost data.
 * The tenant never comes from here (see TENANT_FIELD).
 */
const CONTROL = /[\u0000-\u001f\u007f]/;
// A UTF-16 surrogate without its pair ("\ud800" is valid JSON) is no Unicode text: ClickHouse
// refuses the whole insert (CANNOT_PARSE_ESCAPE_SEQUENCE), which failed the batch with a 500.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A dimension value: bounded, no control characters (also a key's user_id, which events carry). */
export const dim = (max = 256) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'control characters are not allowed')
    .refine((s) => !LONE_SURROGATE.test(s), 'unpaired UTF-16 surrogates (e.g. "\\ud800") are not allowed');
const count = (max: number) =>
  z.number().int('must be a whole number').min(0, 'must not be negative').max(max, `at most ${max}`);

export const METADATA_LIMITS = { keys: 64, keyLength: 128, valueLength: 4096, totalBytes: 16 * 1024 };

// zod skips a record's "__proto__" key without a word (assigning it would replace the
// prototype of the object it builds), so the key would vanish from the stored map: refused.
const noProtoKey = <T extends z.ZodType>(record: T) =>
  z.preprocess((v, ctx) => {
    if (typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')) {
      ctx.issues.push({ code: 'custom', message: 'metadata key "__proto__" is reserved', input: v, path: ['__proto__'] });
    }
    return v;
  }, record);

const MAX_COST_NANO = 1_000_000_000n * NANO_PER_USD;

export const eventSchema = z.strictObject({
  event_id: dim(200).min(1, 'must not be empty').optional(),
  ts: z
    .union([
      z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time with a time zone, e.g. 2026-01-01T12:00:00Z' }),
      z.number().int('epoch milliseconds must be a whole number').min(0),
    ])
    .optional(),
  event_type: dim(128).min(1, 'must not be empty'),
  project: dim().optional(),
  environment: dim().optional(),
  user_id: dim().optional(),
  agent_id: dim().optional(),
  api_key_id: dim().optional(),
  feature: dim().optional(),
  model: dim().optional(),
  provider: dim().optional(),
  endpoint: dim(512).optional(),
  run_id: dim().optional(),
  policy_id: dim().optional(),
  source: dim().optional(),
  success: z.boolean().optional(),
  status: dim(64).optional(),
  requests: count(1_000_000).optional(),
  input_tokens: count(1e12).optional(),
  output_tokens: count(1e12).optional(),
  compute_units: count(1e12).optional(),
  latency_ms: z.number().min(0, 'must not be negative').max(86_400_000, 'at most one day (86400000)').optional(),
  cost: z
    .union([
      z.number().min(0, 'must not be negative').max(1e9, 'at most 1e9 USD'),
      // Same ceiling as a number: 1e10 USD would overflow cost_nano (Int64) and wrap negative.
      z
        .string()
        .regex(/^\d{1,10}(\.\d+)?$/, { message: 'must be a non-negative decimal amount in USD, e.g. "0.0123"', abort: true })
        .refine((s) => usdToNano(s) <= MAX_COST_NANO, 'at most 1e9 USD'),
    ])
    .optional(),
  metadata: noProtoKey(
    z
      .record(dim(METADATA_LIMITS.keyLength).min(1, 'metadata keys must not be empty'), dim(METADATA_LIMITS.valueLength))
      .refine((m) => Object.keys(m).length <= METADATA_LIMITS.keys, `at most ${METADATA_LIMITS.keys} metadata keys`),
  ).optional(),
});

export type EventInput = z.infer<typeof eventSchema>;

/** The field a producer might send to pick a tenant; refused with its own code. */
export const TENANT_FIELD = 'tenant_id';

/** Seed 003's single usage event: `{event_type, metadata, source?}`. */
export const usageEventSchema = z.strictObject({
  event_type: dim(128).min(1, 'must not be empty'),
  metadata: noProtoKey(z.record(dim(METADATA_LIMITS.keyLength).min(1), dim(METADATA_LIMITS.valueLength))).default({}),
  source: dim().optional(),
});
