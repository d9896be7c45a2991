import { useRef } from 'preact/hooks';
import { get } from '../api.js';
import { Kpi, Progress, Severity } from '../components/bits.js';
import { epochSec, TimeChart } from '../components/chart.js';
import { Panel } from '../components/panel.js';
import { useView } from '../context.js';
import { fmtCompact, fmtDateTime, fmtInt, fmtPct, fmtUsd } from '../format.js';
import { pageHref } from '../route.js';
import { autoResolution, previousWindow, windowQuery, type TimeWindow } from '../time.js';
import type { Budget, BudgetStatus, BreakdownRow, CostStats, Incident, UsageStats } from '../types.js';
import { useApi } from '../use-api.js';

const statsQuery = (w: TimeWindow) => ({ ...windowQuery(w), resolution: autoResolution(w) });

/** Headline numbers, spend over time, top spenders, open incidents and budgets near their limit. */
export function OverviewPage() {
  const { window: w, tick, params } = useView();
  const deps = [w.fromMs, w.toMs, w.tz, tick];
  // chDB answers one query at a time: the previous window (only the change percentages) is
  // asked after the current one, so the headline numbers never wait behind it.
  const current = useRef<Promise<unknown>>(Promise.resolve());
  const cur = useApi(() => {
    const p = Promise.all([get<UsageStats>('/api/v1/analytics/statistics/usage', statsQuery(w)), get<CostStats>('/api/v1/analytics/statistics/cost', statsQuery(w))]);
    current.current = p;
    return p;
  }, deps);
  // Effects run in declaration order: `current` holds this window's request by now.
  const prev = useApi(async () => {
    await current.current.catch(() => {});
    const p = previousWindow(w);
    return Promise.all([get<UsageStats>('/api/v1/analytics/statistics/usage', statsQuery(p)), get<CostStats>('/api/v1/analytics/statistics/cost', statsQuery(p))]);
  }, deps);
  const incidents = useApi(() => get<{ incidents: Incident[] }>('/api/v1/incidents', { status: 'open', limit: 5 }), [tick]);
  const budgets = useApi(async () => {
    const { budgets } = await get<{ budgets: Budget[] }>('/api/v1/budgets');
    await current.current.catch(() => {}); // each status asks ClickHouse for the period's spend
    const statuses = await Promise.all(budgets.map((b) => get<BudgetStatus>(`/api/v1/budgets/${b.id}/status`)));
    return statuses.sort((a, b) => b.pct_used - a.pct_used).slice(0, 5);
  }, [tick]);

  return (
    <div class="page overview" data-testid="page-overview">
      <Panel title="This window" state={cur} class="wide" testId="kpis">
        {([usage, cost]) => {
          const p = prev.data;
          return (
            <div class="kpis">
              <Kpi label="Spend" value={fmtUsd(cost.totals.spend_usd)} raw={cost.totals.spend_usd} current={cost.totals.spend_usd} previous={p ? p[1].totals.spend_usd : null} testId="kpi-spend" />
              <Kpi label="Requests" value={fmtInt(usage.totals.requests)} raw={usage.totals.requests} current={usage.totals.requests} previous={p ? p[0].totals.requests : null} testId="kpi-requests" />
              <Kpi label="Tokens" value={fmtCompact(usage.totals.tokens)} raw={usage.totals.tokens} current={usage.totals.tokens} previous={p ? p[0].totals.tokens : null} testId="kpi-tokens" />
              <Kpi label="Active users" value={fmtInt(usage.totals.unique_users)} raw={usage.totals.unique_users} current={usage.totals.unique_users} previous={p ? p[0].totals.unique_users : null} testId="kpi-users" />
              <Kpi label="Active agents" value={fmtInt(usage.totals.unique_agents)} raw={usage.totals.unique_agents} current={usage.totals.unique_agents} previous={p ? p[0].totals.unique_agents : null} testId="kpi-agents" />
            </div>
          );
        }}
      </Panel>
      <Panel title="Spend over time" state={cur} class="wide" empty={([, c]) => (c.series.every((s) => s.spend_cents === 0) ? 'No spend in this window.' : null)}>
        {([, cost]) => (
          <TimeChart
            testId="spend-chart"
            tz={w.tz}
            times={cost.series.map((s) => epochSec(s.ts))}
            series={[{ label: 'Spend (USD)', values: cost.series.map((s) => s.spend_cents / 100), color: '#2f6fde', bars: autoResolution(w) === 'day', format: (v) => fmtUsd(v) }]}
          />
        )}
      </Panel>
      {(['by_model', 'by_feature', 'by_user'] as const).map((k) => (
        <Panel title={{ by_model: 'Top models', by_feature: 'Top features', by_user: 'Top users' }[k]} state={cur} testId={`top-${k}`} empty={([, c]) => (c[k].length === 0 ? 'Nothing spent in this window.' : null)}>
          {([, cost]) => <TopList rows={cost[k]} field={{ by_model: 'model', by_feature: 'feature_tag', by_user: 'user_id' }[k]} />}
        </Panel>
      ))}
      <Panel
        title="Open incidents"
        state={incidents}
        class="half"
        testId="open-incidents"
        empty={(d) => (d.incidents.length === 0 ? 'No open incidents.' : null)}
        actions={<a href={pageHref(['incidents'], params)}>All</a>}
      >
        {(d) => (
          <ul class="list">
            {d.incidents.map((i) => (
              <li>
                <Severity value={i.severity} /> <a href={`#/incidents/${i.id}`}>{i.title}</a> <span class="muted small">{fmtDateTime(i.opened_at, w.tz)}</span>
              </li>
            ))}
          </ul>
        )}
      </Panel>
      <Panel
        title="Budgets nearest their limit"
        state={budgets}
        class="half"
        testId="budgets-near"
        empty={(d) => (d.length === 0 ? 'No budgets yet: create one on the Budgets page.' : null)}
        actions={<a href={pageHref(['budgets'], params)}>All</a>}
      >
        {(d) => (
          <ul class="list">
            {d.map((s) => (
              <li>
                <div class="row-between">
                  <span>{s.budget.name}</span>
                  <span class="num">{fmtPct(s.pct_used)}</span>
                </div>
                <Progress pct={s.pct_used} forecastPct={forecastPct(s)} label={s.budget.name} />
              </li>
            ))}
          </ul>
        )}
      </Panel>
    </div>
  );
}

export const forecastPct = (s: BudgetStatus) => (Number(s.forecast.period_end_projection) / Number(s.budget.limit)) * 100;

function TopList(props: { rows: BreakdownRow[]; field: string }) {
  const rows = props.rows.filter((r) => r.spend_cents > 0).slice(0, 5);
  if (rows.length === 0) return <div class="state state-empty">Nothing spent in this window.</div>;
  return (
    <ol class="top-list">
      {rows.map((r) => (
        <li>
          <div class="row-between">
            <span class="truncate">{r.other ? 'other' : String(r[props.field] ?? '(none)')}</span>
            <span class="num">{fmtUsd(r.spend_usd)}</span>
          </div>
          <div class="share" style={{ width: `${Math.min(100, r.pct_of_total)}%` }} title={fmtPct(r.pct_of_total, 2)} />
          <span class="muted small">{fmtPct(r.pct_of_total, 2)} of spend</span>
        </li>
      ))}
    </ol>
  );
}
