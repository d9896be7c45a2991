import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { usdToNano } from './money.js';
import { METADATA_LIMITS, TENANT_FIELD, eventSchema, type EventInput } from './event-schema.js';

export interface Rejection {
  index: number;
  code: string;
  message: string;
  path: string;
}

/** A validated event with everything but its cost settled. */
export interface ValidEvent {
  index: number;
  input: EventInput;
  eventId: string;
  producerId: boolean;
  tsMs: number;
}

export interface ValidateOptions {
  nowMs: number;
  maxFutureMs: number;
  retentionMs: number;
}

const ISSUE_CODES: Record<string, string> = {
  unrecognized_keys: 'UNKNOWN_FIELD',
  invalid_type: 'INVALID_TYPE',
};

export function validateEvent(raw: unknown, index: number, opts: ValidateOptions): ValidEvent | Rejection {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { index, code: 'INVALID_EVENT', message: 'an event must be a JSON object', path: '' };
  }
  if (TENANT_FIELD in raw) {
    return {
      index,
      code: 'TENANT_ID_NOT_ALLOWED',
      message: 'tenant_id is taken from the API key and must not be sent',
      path: TENANT_FIELD,
    };
  }
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) return fromZod(index, raw, parsed.error);
  const input = parsed.data;

  let tsMs = opts.nowMs;
  if (input.ts !== undefined) {
    tsMs = typeof input.ts === 'number' ? input.ts : Date.parse(input.ts);
    if (!Number.isFinite(tsMs)) {
      return { index, code: 'INVALID_TIMESTAMP', message: 'ts is not a valid date-time', path: 'ts' };
    }
    if (tsMs > opts.nowMs + opts.maxFutureMs) {
      return {
        index,
        code: 'TIMESTAMP_IN_FUTURE',
        message: `ts is more than ${Math.round(opts.maxFutureMs / 86_400_000)} days in the future`,
        path: 'ts',
      };
    }
    if (tsMs < opts.nowMs - opts.retentionMs) {
      return {
        index,
        code: 'TIMESTAMP_BEYOND_RETENTION',
        message: `ts is older than the ${Math.round(opts.retentionMs / 86_400_000)}-day retention and would be dropped`,
        path: 'ts',
      };
    }
  }
  if (input.metadata) {
    let bytes = 0;
    for (const [k, v] of Object.entries(input.metadata)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (bytes > METADATA_LIMITS.totalBytes) {
      return {
        index,
        code: 'METADATA_TOO_LARGE',
        message: `metadata holds ${bytes} bytes; at most ${METADATA_LIMITS.totalBytes}`,
        path: 'metadata',
      };
    }
  }
  if (input.cost !== undefined) {
    try {
      usdToNano(input.cost);
    } catch {
      return { index, code: 'INVALID_VALUE', message: 'cost is not a decimal amount', path: 'cost' };
    }
  }
  return {
    index,
    input,
    eventId: input.event_id ?? randomUUID(),
    producerId: input.event_id !== undefined,
    tsMs,
  };
}

function fromZod(index: number, raw: object, error: z.ZodError): Rejection {
  const issue = error.issues[0]!;
  let path = issue.path.map(String).join('.');
  let message = issue.message;
  // zod 4 leaves `input` out of issues, so "absent" is decided from the event itself: a field
  // of the wrong type must not be reported as missing.
  const value = valueAt(raw, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    path = [path, keys[0]].filter(Boolean).join('.');
    message = `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
  } else if (issue.code === 'invalid_type' && value === undefined) {
    return { index, code: 'MISSING_FIELD', message: `${path} is required`, path };
  } else if (issue.code === 'invalid_union') {
    return { index, ...unionRejection(issue, path, value) };
  } else if (issue.code === 'invalid_key') {
    // zod says only "Invalid key in record"; the key's own issue says what is wrong with it.
    message = `${path}: key ${issue.issues[0]?.message ?? message}`;
  } else if (path) {
    message = `${path}: ${message}`;
  }
  return { index, code: ISSUE_CODES[issue.code] ?? 'INVALID_VALUE', message, path };
}

function valueAt(raw: object, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

// zod says only "Invalid input" when every branch of a union failed (ts: 1.5, cost: true).
// Name the branch the value was meant for, or else the types that would have been accepted.
function unionRejection(issue: z.core.$ZodIssue, path: string, value: unknown): Omit<Rejection, 'index'> {
  const firsts = (issue as z.core.$ZodIssueInvalidUnion).errors.map((b) => b[0]).filter((i) => i !== undefined);
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const mismatch = (i: z.core.$ZodIssue) =>
    i.code === 'invalid_type' && i.expected !== got && !(i.expected === 'int' && got === 'number');
  const fitting = firsts.find((i) => !mismatch(i));
  if (fitting) return { code: ISSUE_CODES[fitting.code] ?? 'INVALID_VALUE', message: `${path}: ${fitting.message}`, path };
  const expected = [...new Set(firsts.map((i) => (i.code === 'invalid_type' ? i.expected : i.code)))];
  return { code: 'INVALID_TYPE', message: `${path}: expected ${expected.join(' or ')}, received ${got}`, path };
}

export const isRejection = (v: ValidEvent | Rejection): v is Rejection => 'code' in v;
