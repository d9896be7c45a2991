import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/cli/seed.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ensureWebBuilt } from '../../src/web/ensure-built.js';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';
import { record, spike } from '../api/incidents/dataset.js';

/**
 * The dashboard in headless Chromium against the real server (HTTP on a free port, embedded
 * ClickHouse and Postgres) on seeded data: every number the test reads off a page it also asks
 * the API for, with the window the page shows (data-from / data-to of the window picker).
 * Screenshots of every page (desktop and narrow) go to test-results/screenshots/.
 * DASHBOARD_SEED_EVENTS seeds more events (the Overview time-to-interactive is printed).
 */
const SEED_EVENTS = Number(process.env.DASHBOARD_SEED_EVENTS ?? 20_000);
const SHOTS = path.resolve('test-results/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DESKTOP = { width: 1366, height: 860 };
const NARROW = { width: 390, height: 844 };

let engine: TestEngine;
let server: RunningServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let key: string;
let tenantId: string;
/** Uncaught exceptions in the page: any is a bug (a panel would have vanished). */
const pageErrors: string[] = [];

async function apiGet<T>(p: string, query: Record<string, string | number> = {}): Promise<T> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${server.url}${p}${qs.size ? `?${qs}` : ''}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status, `${p}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}

/** The window the page shows, as the statistics routes take it. */
async function shownWindow(p: Page = page) {
  const picker = p.getByTestId('window-picker');
  return { from: (await picker.getAttribute('data-from'))!, to: (await picker.getAttribute('data-to'))!, tz: (await picker.getAttribute('data-tz'))! };
}

async function shoot(name: string, p: Page = page) {
  // Let uPlot and the last panels settle before the picture.
  await p.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), undefined, { timeout: 30_000 }).catch(() => {});
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(p: Page, k = key) {
  await p.goto(`${server.url}/`);
  await p.getByLabel('API key').fill(k);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

/** Polls until the page shows it; generous, since the 2-core CI box may be busy. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 30_000, interval: 150 });

const numberAttr = async (p: Page, testId: string) => Number(await p.getByTestId(testId).getAttribute('data-value'));

beforeAll(async () => {
  await ensureWebBuilt();
  fs.mkdirSync(SHOTS, { recursive: true });
  engine = await startTestEngine();
  await seed(engine.services, { events: SEED_EVENTS, days: 90, tenants: 1, seed: 1, batch: 10_000 });
  const tenant = (await engine.services.tenants.getTenant('acme'))!;
  tenantId = tenant.id;
  key = (await engine.services.tenants.createKey({ tenantId, scopes: ['admin'], name: 'dashboard e2e' })).key;
  server = await startServer(engine.services, 0, '127.0.0.1');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true, timezoneId: 'UTC' });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, Math.max(600_000, SEED_EVENTS / 5)); // seeding 10M events (the TTI run) takes a while

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await engine?.close();
});

describe('dashboard', () => {
  it('serves the bundle and leaves the API routes alone', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/openapi.json`)).headers.get('content-type')).toContain('application/json');
    expect((await fetch(`${server.url}/api/v1/nope`)).status).toBe(404);
  });

  it('refuses a bad key on the sign-in form, then signs in and shows the tenant', async () => {
    await signIn(page, 'th_not_a_real_key');
    await poll(() => page.getByTestId('sign-in-error').textContent()).toContain('refused');
    await shoot('sign-in-desktop');
    await page.getByLabel('API key').fill(key);
    const started = Date.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('tenant').waitFor();
    expect(await page.getByTestId('tenant').textContent()).toContain('acme');
    expect(await page.getByTestId('tenant').textContent()).toContain('pro');
    // Time to interactive: numbers and the chart drawn.
    await page.getByTestId('kpi-spend').waitFor();
    await page.locator('[data-testid="spend-chart"] canvas').waitFor();
    console.log(`Overview interactive ${Date.now() - started} ms after sign-in, cold server (${SEED_EVENTS} seeded events)`);
  });

  it('overview numbers are the API numbers for the window shown', async () => {
    await page.goto(`${server.url}/#/overview?preset=7d&tz=UTC`);
    await page.getByTestId('kpi-requests').waitFor();
    const w = await shownWindow();
    expect(Date.parse(w.to) - Date.parse(w.from)).toBe(7 * 86_400_000);
    const usage = await apiGet<{ totals: { requests: number; tokens: number; unique_users: number; unique_agents: number } }>('/api/v1/analytics/statistics/usage', { ...w, resolution: 'day' });
    const cost = await apiGet<{ totals: { spend_usd: number }; by_model: { model: string | null; spend_cents: number }[] }>('/api/v1/analytics/statistics/cost', { ...w, resolution: 'day' });
    expect(usage.totals.requests).toBeGreaterThan(0);
    await poll(() => numberAttr(page, 'kpi-requests')).toBe(usage.totals.requests);
    expect(await numberAttr(page, 'kpi-tokens')).toBe(usage.totals.tokens);
    expect(await numberAttr(page, 'kpi-users')).toBe(usage.totals.unique_users);
    expect(await numberAttr(page, 'kpi-agents')).toBe(usage.totals.unique_agents);
    expect(await numberAttr(page, 'kpi-spend')).toBe(cost.totals.spend_usd);
    const topModel = cost.by_model.find((m) => m.spend_cents > 0)!;
    expect(await page.getByTestId('top-by_model').locator('li').first().textContent()).toContain(topModel.model);
    await poll(() => page.getByTestId('kpi-requests').textContent()).toMatch(/vs previous|nothing in the previous/);
    await shoot('overview-desktop');
  });

  it('measures Overview time-to-interactive (reported, not asserted)', async () => {
    // A full page load of a window not asked before (no response cache), then the same again.
    for (const run of ['first load, 30d', 'reload, 30d']) {
      await page.goto('about:blank');
      const started = Date.now();
      await page.goto(`${server.url}/#/overview?preset=30d&tz=UTC`);
      await page.getByTestId('kpi-spend').waitFor();
      await page.locator('[data-testid="spend-chart"] canvas').waitFor();
      await page.getByTestId('top-by_model').locator('li').first().waitFor();
      console.log(`Overview TTI (${run}, ${SEED_EVENTS} seeded events): ${Date.now() - started} ms`);
    }
  });

  it('the window picker changes the data and the URL', async () => {
    await page.goto(`${server.url}/#/overview?preset=7d&tz=UTC`);
    await poll(async () => { const x = await shownWindow(); return Date.parse(x.to) - Date.parse(x.from); }).toBe(7 * 86_400_000);
    const weekApi = await apiGet<{ totals: { requests: number } }>('/api/v1/analytics/statistics/usage', { ...(await shownWindow()), resolution: 'day' });
    await poll(() => numberAttr(page, 'kpi-requests')).toBe(weekApi.totals.requests);
    const week = weekApi.totals.requests;
    await page.getByRole('button', { name: '30d', exact: true }).click();
    await poll(() => page.url()).toContain('preset=30d');
    const w = await shownWindow();
    expect(Date.parse(w.to) - Date.parse(w.from)).toBe(30 * 86_400_000);
    const usage = await apiGet<{ totals: { requests: number } }>('/api/v1/analytics/statistics/usage', { ...w, resolution: 'day' });
    await poll(() => numberAttr(page, 'kpi-requests')).toBe(usage.totals.requests);
    expect(usage.totals.requests).toBeGreaterThan(week);

    // A custom range typed as wall-clock time in the chosen zone.
    await page.goto(`${server.url}/#/overview?preset=7d&tz=Europe/Berlin`);
    await poll(async () => (await shownWindow()).tz).toBe('Europe/Berlin');
    const day = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    await page.locator('input[name="from"]').fill(`${day}T00:00`);
    await page.locator('input[name="to"]').fill(`${day}T12:00`);
    await page.getByRole('button', { name: 'Apply' }).click();
    await poll(async () => (await shownWindow()).from).not.toBe(w.from);
    const custom = await shownWindow();
    expect(custom.tz).toBe('Europe/Berlin');
    expect(Date.parse(custom.to) - Date.parse(custom.from)).toBe(12 * 3_600_000);
    // Midnight in Berlin is 23:00 or 22:00 UTC of the day before.
    expect(new Date(custom.from).getUTCHours()).toBeGreaterThanOrEqual(22);
    const u = await apiGet<{ totals: { requests: number } }>('/api/v1/analytics/statistics/usage', { ...custom, resolution: 'hour' });
    await poll(() => numberAttr(page, 'kpi-requests')).toBe(u.totals.requests);

    // Auto-refresh is part of the shared view too.
    await page.getByLabel('Auto-refresh (60 s)').check();
    await poll(() => page.url()).toContain('refresh=1');
    await page.getByRole('link', { name: 'Cost' }).click();
    await poll(() => page.url()).toMatch(/#\/cost\?.*refresh=1/);
    expect(page.url()).toContain('tz=Europe%2FBerlin');
  });

  it('usage page: table and totals match the API, CSV / JSON / Parquet exports download matching rows', async () => {
    await page.goto(`${server.url}/#/usage?preset=30d&tz=UTC&res=day`);
    await page.getByTestId('usage-table').waitFor();
    const w = await shownWindow();
    const api = await apiGet<{ totals: { requests: number }; series: { ts: string; requests: number; tokens: number }[] }>('/api/v1/analytics/statistics/usage', { ...w, resolution: 'day' });
    expect(await numberAttr(page, 'total-requests')).toBe(api.totals.requests);
    const rows = page.getByTestId('usage-table').locator('tbody tr');
    expect(await rows.count()).toBe(api.series.length);
    const firstCells = await rows.first().locator('td').allTextContents();
    expect(firstCells[0]).toBe(api.series[0]!.ts.slice(0, 10));
    expect(Number(firstCells[1]!.replace(/,/g, ''))).toBe(api.series[0]!.requests);

    const exports = page.getByTestId('export-usage');
    const [csv] = await Promise.all([page.waitForEvent('download'), exports.locator('button[data-format="csv"]').click()]);
    expect(csv.suggestedFilename()).toMatch(/^usage_.*_day\.csv$/);
    const lines = fs.readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('timestamp,requests,compute_units,tokens');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(api.series.map((s) => `${s.ts.slice(0, 10)},${s.requests}`));

    const [json] = await Promise.all([page.waitForEvent('download'), exports.locator('button[data-format="json"]').click()]);
    const body = JSON.parse(fs.readFileSync((await json.path())!, 'utf8')) as { rows: { requests: number; tokens: number }[] };
    expect(body.rows.map((r) => r.requests)).toEqual(api.series.map((s) => s.requests));
    expect(body.rows.map((r) => r.tokens)).toEqual(api.series.map((s) => s.tokens));

    const [parquet] = await Promise.all([page.waitForEvent('download'), exports.locator('button[data-format="parquet"]').click()]);
    const bytes = fs.readFileSync((await parquet.path())!);
    expect(parquet.suggestedFilename()).toMatch(/\.parquet$/);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(bytes.subarray(-4).toString()).toBe('PAR1');
    await poll(() => exports.textContent()).toContain('Downloaded');
    await shoot('usage-desktop');
  });

  it('cost page: totals, series and the breakdown by any dimension match the API', async () => {
    await page.goto(`${server.url}/#/cost?preset=30d&tz=UTC&res=week&by=feature`);
    await page.getByTestId('cost-table').waitFor();
    const w = await shownWindow();
    const api = await apiGet<{ totals: { spend_usd: number }; series: unknown[] }>('/api/v1/analytics/statistics/cost', { ...w, resolution: 'week' });
    expect(await numberAttr(page, 'total-spend')).toBe(api.totals.spend_usd);
    expect(await page.getByTestId('cost-table').locator('tbody tr').count()).toBe(api.series.length);
    await page.getByTestId('breakdown-table').waitFor();
    const breakdown = await apiGet<{ rows: { feature_tag: string | null; pct_of_total: number }[] }>('/api/v1/analytics/costs', { from: w.from, to: w.to, group_by: 'feature', limit: 50 });
    const shown = page.getByTestId('breakdown-table').locator('tbody tr');
    expect(await shown.count()).toBe(breakdown.rows.length);
    const first = await shown.first().locator('td').allTextContents();
    expect(first[0]).toBe(breakdown.rows[0]!.feature_tag ?? '(none)');
    expect(first[2]).toBe(`${breakdown.rows[0]!.pct_of_total.toFixed(2)}%`);
    await shoot('cost-desktop');
  });

  it('agents page: heatmap, token trend, sortable rotations and endpoint patterns from the API', async () => {
    await page.goto(`${server.url}/#/agents?preset=30d&tz=UTC`);
    await page.getByTestId('heatmap').waitFor();
    const w = await shownWindow();
    const days = { from: w.from.slice(0, 10), to: new Date(Math.min(Date.parse(w.to) - 1, Date.now())).toISOString().slice(0, 10) };
    const activity = await apiGet<{ agents: { agentName: string; dailyActivity: { apiCalls: number }[] }[] }>('/api/v1/analytics/agent-activity', days);
    expect(activity.agents.length).toBeGreaterThan(0);
    expect(await page.getByTestId('heatmap').locator('tbody tr').count()).toBe(activity.agents.length);
    const cells = await page.getByTestId('heatmap').locator('tbody tr').first().locator('td').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    expect(cells).toEqual(activity.agents[0]!.dailyActivity.map((d) => d.apiCalls));
    await page.locator('[data-testid="token-chart"] canvas').waitFor();
    await page.getByRole('button', { name: 'week', exact: true }).click();
    await poll(() => page.url()).toContain('gran=week');

    const rotations = await apiGet<{ agents: { agentId: string; rotations: number }[] }>('/api/v1/analytics/credential-rotations', days);
    const table = page.getByTestId('rotations-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(rotations.agents.length);
    await table.locator('th[data-key="agentId"]').click();
    const ids = await table.locator('tbody td[data-key="agentId"]').allTextContents();
    expect(ids).toEqual([...rotations.agents.map((a) => a.agentId)].sort());
    const endpoints = await apiGet<{ endpoints: { endpoint: string; totalCalls: number }[] }>('/api/v1/analytics/endpoint-patterns', { ...days, tz: 'UTC', limit: 20 });
    await page.getByTestId('endpoints-table').waitFor();
    expect(await page.getByTestId('endpoints-table').locator('tbody tr').count()).toBe(endpoints.endpoints.length);
    await shoot('agents-desktop');
  });

  it('budgets: the form shows the API validation message, then creates a budget that appears with its progress', async () => {
    await page.goto(`${server.url}/#/budgets`);
    await page.getByTestId('budget-list').waitFor();
    await page.getByRole('button', { name: 'New budget' }).click();
    const form = page.getByTestId('budget-form');
    await form.locator('input[name="name"]').fill('LLM monthly');
    await form.locator('input[name="limit"]').fill('not money');
    await form.getByRole('button', { name: 'Create budget' }).click();
    await poll(() => page.getByTestId('budget-error').textContent()).toContain('limit');
    expect(await form.locator('label.invalid input[name="limit"]').count()).toBe(1);
    await shoot('budget-form-error-desktop');
    await form.locator('input[name="limit"]').fill('25');
    await form.getByRole('button', { name: 'Create budget' }).click();
    const item = page.locator('[data-testid="budget"][data-name="LLM monthly"]');
    await item.waitFor();
    const { budgets } = await apiGet<{ budgets: { id: string; name: string }[] }>('/api/v1/budgets');
    const created = budgets.find((b) => b.name === 'LLM monthly')!;
    expect(created).toBeDefined();
    const status = await apiGet<{ pct_used: number }>(`/api/v1/budgets/${created.id}/status`);
    expect(Number(await item.getAttribute('data-pct'))).toBe(status.pct_used);
    await shoot('budgets-desktop');
  });

  it('incidents: one recorded by detection is listed, shown with its timeline, and resolved from the page', async () => {
    const D = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
    const rec = await record(engine, spike(tenantId, D, { dedupKey: `e2e-spike-${D}`, runId: null }));
    const incidentId = rec.incident!.id;
    await page.goto(`${server.url}/#/incidents?preset=7d&tz=UTC&status=open`);
    const list = page.getByTestId('incidents-table');
    await list.waitFor();
    await poll(() => list.textContent()).toContain('gpt-4o');
    await shoot('incidents-desktop');
    await list.locator(`a[href="#/incidents/${incidentId}"]`).click();
    await page.getByTestId('incident-timeline').locator('li').first().waitFor();
    await page.getByTestId('incident-impact').locator('dl').waitFor();
    await shoot('incident-desktop');
    await page.getByTestId('incident-detail').getByRole('button', { name: 'Resolve' }).click();
    await page.getByTestId('incident-detail').locator('input[name="note"]').fill('e2e: fixed the prompt loop');
    await page.getByRole('button', { name: 'Confirm resolve' }).click();
    await poll(() => page.getByTestId('incident-detail').textContent()).toContain('fixed the prompt loop');
    const inc = await apiGet<{ status: string; resolution_note: string }>(`/api/v1/incidents/${incidentId}`);
    expect(inc.status).toBe('resolved');
    expect(inc.resolution_note).toBe('e2e: fixed the prompt loop');
  });

  it('says what went wrong: a bad range (400), a rate limit (429), an expired key → sign-in', async () => {
    await page.goto(`${server.url}/#/usage?from=2026-11-10T00:00:00Z&to=2026-11-01T00:00:00Z&tz=UTC`);
    await poll(() => page.getByTestId('usage-totals').textContent()).toContain('Bad time window (400 INVALID_DATE_RANGE)');
    await shoot('error-bad-range-desktop');

    // The server's limiter allows 1200 a minute: the 429 is answered by the browser's router here.
    await page.route('**/api/v1/analytics/statistics/cost*', (r) =>
      r.fulfill({ status: 429, headers: { 'content-type': 'application/json', 'retry-after': '17' }, body: JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'too many requests', requestId: 'x' } }) }),
    );
    await page.goto(`${server.url}/#/cost?preset=7d&tz=UTC`);
    await poll(() => page.getByTestId('cost-totals').textContent()).toContain('Too many requests (429)');
    expect(await page.getByTestId('cost-totals').textContent()).toContain('in 17 s');
    await page.unroute('**/api/v1/analytics/statistics/cost*');

    // Revoke the key the tab signed in with: the next request goes back to sign-in with a message.
    const other = await engine.services.tenants.createKey({ tenantId, scopes: ['read'], name: 'to revoke' });
    await page.evaluate((k) => sessionStorage.setItem('tallyhouse.apiKey', k), other.key);
    await page.goto(`${server.url}/#/overview`);
    await page.getByTestId('kpi-requests').waitFor();
    await engine.services.tenants.revokeKey(other.info.id, tenantId);
    // Any request the page makes now is refused (one still in flight may already be): a new
    // window asks again either way.
    await page.evaluate(() => (location.hash = '#/overview?preset=24h'));
    await poll(() => page.getByTestId('sign-in-notice').textContent().catch(() => '')).toContain('Signed out');
    await shoot('sign-in-expired-desktop');
  });

  it('every page renders on a narrow window', async () => {
    const narrow = await browser.newContext({ viewport: NARROW, timezoneId: 'UTC' });
    const p = await narrow.newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await signIn(p);
    await p.getByTestId('kpi-requests').waitFor();
    for (const view of ['overview', 'usage', 'cost', 'agents', 'budgets', 'incidents']) {
      await p.goto(`${server.url}/#/${view}?preset=30d&tz=UTC`);
      await p.getByTestId(`page-${view}`).waitFor();
      await shoot(`${view}-narrow`, p);
      // Nothing wider than the viewport except inside the scrollable tables.
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${view} overflows by ${overflow}px`).toBeLessThanOrEqual(0);
    }
    await p.getByRole('button', { name: 'Menu' }).click();
    await shoot('menu-narrow', p);
    await narrow.close();
  });

  it('no page threw an uncaught error', () => {
    expect(pageErrors).toEqual([]);
  });
});
