import { windowQuestion, type Question } from '../../../query/planner.js';
import type { Period } from './period.js';

/**
 * Seed 002's counts in tallyhouse's event vocabulary. One event is one occurrence (the
 * `requests` field is not multiplied in). Only `api.call` events are API calls: an `llm.call`
 * is a model call made by an agent, not a call to the API these analytics watch; it still makes
 * its agent active.
 */
export const API_CALL = 'api.call';
export const TOKEN_ISSUED = 'token.issued';
export const CREDENTIAL_ROTATED = 'credential.rotated';

/** A planner question over the period, for the key's tenant. */
export function periodQuestion(tenantId: string, period: Period, q: Partial<Question> & Pick<Question, 'metrics'>): Question {
  return windowQuestion({ tenantId, fromMs: period.fromMs, toMs: period.toMs, tz: period.tz }, q);
}

/** n / d rounded half up to 2 decimals, in integer arithmetic (no 1.005 → 1.00 float slip). */
export const ratio2 = (n: number, d: number) => Math.floor((200 * n + d) / (2 * d)) / 100;
