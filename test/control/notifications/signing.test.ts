import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signatureHeader, verifySignature } from '../../../src/control/notifications/signing.js';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"d1","type":"budget.exceeded","data":{"spent_usd":"12.5"}}';

  it('is t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, the documented recipe', () => {
    const header = signatureHeader(secret, body, 1_800_000_000.9);
    const expected = createHmac('sha256', secret).update(`1800000000.${body}`).digest('hex');
    expect(header).toBe(`t=1800000000,v1=${expected}`);
    expect(verifySignature(secret, header, body, 300, 1_800_000_000)).toBe(true);
  });

  it('refuses a tampered body, another secret, a stale or future timestamp and malformed headers', () => {
    const header = signatureHeader(secret, body, 1_800_000_000);
    expect(verifySignature(secret, header, body.replace('12.5', '99.5'), 300, 1_800_000_000)).toBe(false);
    expect(verifySignature('whsec_other', header, body, 300, 1_800_000_000)).toBe(false);
    expect(verifySignature(secret, header, body, 300, 1_800_000_301)).toBe(false);
    expect(verifySignature(secret, header, body, 300, 1_799_999_699)).toBe(false);
    expect(verifySignature(secret, header, body, 300, 1_800_000_300)).toBe(true);
    // the timestamp is inside the MAC: moving it breaks the signature
    expect(verifySignature(secret, header.replace('t=1800000000', 't=1800000100'), body, 300, 1_800_000_100)).toBe(false);
    for (const bad of ['', 'v1=abc', `t=1800000000`, 't=x,v1=' + '0'.repeat(64), null, undefined]) {
      expect(verifySignature(secret, bad, body, 300, 1_800_000_000)).toBe(false);
    }
  });

  it('accepts any of several v1 entries (secret rotation)', () => {
    const good = signatureHeader(secret, body, 1_800_000_000).split(',v1=')[1];
    expect(verifySignature(secret, `t=1800000000,v1=${'0'.repeat(64)},v1=${good}`, body, 300, 1_800_000_000)).toBe(true);
  });

  it('generates distinct 256-bit secrets', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
