import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

/** The ConfigError a bad environment raises (fails the test if it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has embedded defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8787);
    expect(c.clickhouse).toEqual({ mode: 'embedded', path: path.join(c.dataDir, 'clickhouse'), database: 'default', connections: 4, queryThreads: 1 });
    expect(c.postgres).toEqual({ mode: 'embedded', path: path.join(c.dataDir, 'postgres') });
    expect(c.redisUrl).toBeUndefined();
    expect(c.retentionDays).toBe(400);
    expect(c.rollupRetentionDays).toBe(1830);
    expect(c.ingest).toEqual({
      maxEvents: 10_000,
      maxBytes: 10 * 1024 * 1024,
      maxFutureDays: 7,
      journal: { enabled: true, dir: path.resolve('./data/ingest-journal'), flushMs: 50, maxPending: 100_000, fsync: false },
    });
    expect(c.usageRetentionDays).toBe(30);
    expect(c.analytics).toEqual({ enabled: true, freeTier: false });
    expect(c.jobs).toEqual({ prefix: 'tallyhouse' });
    expect(c.bootstrap).toBe(true);
    expect(c.logLevel).toBe('info');
  });

  it('reads values from the environment', () => {
    const c = loadConfig({
      TALLYHOUSE_DATA_DIR: '/tmp/th-config-test',
      PORT: '9000',
      RETENTION_DAYS: '30',
      INGEST_MAX_EVENTS: '500',
      ANALYTICS_ENABLED: 'no',
      ANALYTICS_FREE_TIER: '1',
      LOG_LEVEL: 'warn',
    });
    expect(c.dataDir).toBe('/tmp/th-config-test');
    expect(c.clickhouse).toMatchObject({ mode: 'embedded', path: '/tmp/th-config-test/clickhouse' });
    expect(c.port).toBe(9000);
    expect(c.retentionDays).toBe(30);
    expect(c.ingest.maxEvents).toBe(500);
    expect(c.analytics).toEqual({ enabled: false, freeTier: true });
    expect(c.logLevel).toBe('warn');
  });

  it('reads whole numbers with surrounding blanks', () => {
    expect(loadConfig({ PORT: ' 9001 ', INGEST_MAX_FUTURE_DAYS: '0' })).toMatchObject({ port: 9001, ingest: { maxFutureDays: 0 } });
  });

  it('treats an empty string as unset', () => {
    const c = loadConfig({ PORT: '', CLICKHOUSE_URL: '', DATABASE_URL: '' });
    expect(c.port).toBe(8787);
    expect(c.clickhouse.mode).toBe('embedded');
    expect(c.postgres.mode).toBe('embedded');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['PORT', ' '], // not 0
    ['PORT', '0x50'],
    ['INGEST_MAX_FUTURE_DAYS', '\t'],
    ['INGEST_MAX_EVENTS', '1e3'],
    ['CLICKHOUSE_URL', 'notaurl'],
    ['DATABASE_URL', 'not a url'],
    ['RETENTION_DAYS', '0'],
    ['RETENTION_DAYS', '-5'],
    ['ANALYTICS_ENABLED', 'maybe'],
    ['LOG_LEVEL', 'verbose'],
    ['CLICKHOUSE_DATABASE', 'bad-name;drop'],
    ['INGEST_MAX_EVENTS', '0'],
    ['JOBS_PREFIX', 'a:b'], // BullMQ separates its keys with ":"
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    const e = configError({ [variable]: value });
    expect(e.issues.map((i) => i.variable)).toEqual([variable]);
    expect(e.message).toContain(variable);
    expect(e.message).toContain(JSON.stringify(value));
  });

  it('names every bad variable at once', () => {
    const e = configError({ PORT: 'abc', RETENTION_DAYS: '0', ANALYTICS_ENABLED: 'maybe' });
    expect(e.issues.map((i) => i.variable).sort()).toEqual(['ANALYTICS_ENABLED', 'PORT', 'RETENTION_DAYS']);
    for (const v of ['PORT', 'RETENTION_DAYS', 'ANALYTICS_ENABLED']) expect(e.message).toContain(v);
  });

  it('refuses CLICKHOUSE_CLUSTER without CLICKHOUSE_URL', () => {
    const e = configError({ CLICKHOUSE_CLUSTER: 'c1' });
    expect(e.issues.map((i) => i.variable)).toEqual(['CLICKHOUSE_CLUSTER']);
    expect(e.message).toContain('CLICKHOUSE_CLUSTER');
    expect(e.message).toContain('CLICKHOUSE_URL');
  });

  it('switches ClickHouse to server mode with CLICKHOUSE_URL (and keeps the cluster)', () => {
    const c = loadConfig({
      CLICKHOUSE_URL: 'http://ch.internal:8123',
      CLICKHOUSE_USER: 'writer',
      CLICKHOUSE_PASSWORD: 's3cret',
      CLICKHOUSE_DATABASE: 'tally',
      CLICKHOUSE_CLUSTER: 'c1',
    });
    expect(c.clickhouse).toEqual({
      mode: 'server',
      url: 'http://ch.internal:8123',
      user: 'writer',
      password: 's3cret',
      database: 'tally',
      cluster: 'c1',
    });
    expect(c.postgres.mode).toBe('embedded');
  });

  it('switches Postgres to server mode with DATABASE_URL', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/tally' });
    expect(c.postgres).toEqual({ mode: 'server', url: 'postgres://u:p@db:5432/tally' });
    expect(c.clickhouse.mode).toBe('embedded');
  });
});
