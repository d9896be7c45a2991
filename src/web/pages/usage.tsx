import { get } from '../api.js';
import { Breakdown } from '../components/breakdown.js';
import { epochSec, TimeChart } from '../components/chart.js';
import { Panel } from '../components/panel.js';
import { ExportButtons, SeriesControls, seriesParams, statisticsQuery } from '../components/series-controls.js';
import { Table } from '../components/table.js';
import { useView } from '../context.js';
import { fmtCompact, fmtDateTime, fmtInt, fmtPct } from '../format.js';
import type { UsageStats } from '../types.js';
import { useApi } from '../use-api.js';

export function UsagePage() {
  const { window: w, params, tick } = useView();
  const s = seriesParams(params, w);
  const state = useApi(() => get<UsageStats>('/api/v1/analytics/statistics/usage', statisticsQuery(w, s)), [w.fromMs, w.toMs, w.tz, s.resolution, s.scope, s.project, s.env, tick]);
  return (
    <div class="page" data-testid="page-usage">
      <SeriesControls s={s} />
      <Panel title="Usage totals" state={state} class="wide" testId="usage-totals">
        {(d) => (
          <dl class="totals">
            <div><dt>Requests</dt><dd data-testid="total-requests" data-value={d.totals.requests}>{fmtInt(d.totals.requests)}</dd></div>
            <div><dt>Tokens</dt><dd data-testid="total-tokens" data-value={d.totals.tokens}>{fmtInt(d.totals.tokens)}</dd></div>
            <div><dt>Compute units</dt><dd>{fmtInt(d.totals.compute_units)}</dd></div>
            <div><dt>Users / agents</dt><dd>{fmtInt(d.totals.unique_users)} / {fmtInt(d.totals.unique_agents)}</dd></div>
            <div><dt>p95 latency</dt><dd>{d.totals.latency_p95 == null ? '—' : `${fmtInt(d.totals.latency_p95)} ms`}</dd></div>
            <div><dt>Success rate</dt><dd>{d.totals.success_rate == null ? '—' : fmtPct(d.totals.success_rate * 100, 2)}</dd></div>
          </dl>
        )}
      </Panel>
      <Panel title="Requests and tokens" state={state} class="wide" empty={(d) => (d.totals.events === 0 ? 'No events in this window and scope.' : null)}>
        {(d) => (
          <TimeChart
            testId="usage-chart"
            tz={w.tz}
            times={d.series.map((x) => epochSec(x.ts))}
            series={[
              { label: 'Requests', values: d.series.map((x) => x.requests), color: '#2f6fde', bars: true, format: (v) => fmtCompact(Math.round(v)) },
              { label: 'Tokens', values: d.series.map((x) => x.tokens), color: '#e07b39', right: true, format: (v) => fmtCompact(Math.round(v)) },
            ]}
          />
        )}
      </Panel>
      <Panel title="Series" state={state} class="wide" testId="usage-series" actions={<ExportButtons topic="usage" w={w} s={s} />} empty={(d) => (d.series.length === 0 ? 'No buckets in this window.' : null)}>
        {(d) => (
          <Table
            testId="usage-table"
            rows={d.series}
            columns={[
              { key: 'ts', label: 'Bucket', render: (r) => (s.resolution === 'hour' ? fmtDateTime(r.ts, w.tz) : r.ts.slice(0, 10)), sort: (r) => r.ts },
              { key: 'requests', label: 'Requests', numeric: true, render: (r) => fmtInt(r.requests), sort: (r) => r.requests },
              { key: 'tokens', label: 'Tokens', numeric: true, render: (r) => fmtInt(r.tokens), sort: (r) => r.tokens },
              { key: 'compute_units', label: 'Compute units', numeric: true, render: (r) => fmtInt(r.compute_units), sort: (r) => r.compute_units },
            ]}
          />
        )}
      </Panel>
      <Breakdown />
    </div>
  );
}
