import { describe, expect, it } from 'vitest';
import { backoffMs, isRetryableStatus, resolveRetry, retryAfterMs } from '../../src/client/retry.js';

describe('retry rules', () => {
  it('retries no answer-like statuses (408, 429, 5xx) and never another 4xx', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 413, 415, 422].some(isRetryableStatus)).toBe(false);
  });

  it('backs off exponentially with jitter between half and the whole step, capped', () => {
    const r = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000 }, Infinity);
    expect(backoffMs(1, r, () => 0)).toBe(50);
    expect(backoffMs(1, r, () => 1)).toBe(100);
    expect(backoffMs(3, r, () => 0)).toBe(200);
    expect(backoffMs(3, r, () => 1)).toBe(400);
    expect(backoffMs(50, r, () => 1)).toBe(1000);
    expect(backoffMs(50, r, () => 0)).toBe(500);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-22T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Sun, 22 Nov 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Sat, 21 Nov 2026 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
