import { get } from '../api.js';
import { Breakdown } from '../components/breakdown.js';
import { epochSec, TimeChart } from '../components/chart.js';
import { Panel } from '../components/panel.js';
import { ExportButtons, SeriesControls, seriesParams, statisticsQuery } from '../components/series-controls.js';
import { Table } from '../components/table.js';
import { useView } from '../context.js';
import { fmtDateTime, fmtInt, fmtUsd } from '../format.js';
import type { CostStats } from '../types.js';
import { useApi } from '../use-api.js';

export function CostPage() {
  const { window: w, params, tick } = useView();
  const s = seriesParams(params, w);
  const state = useApi(() => get<CostStats>('/api/v1/analytics/statistics/cost', statisticsQuery(w, s)), [w.fromMs, w.toMs, w.tz, s.resolution, s.scope, s.project, s.env, tick]);
  return (
    <div class="page" data-testid="page-cost">
      <SeriesControls s={s} />
      <Panel title="Cost totals" state={state} class="wide" testId="cost-totals">
        {(d) => (
          <dl class="totals">
            <div><dt>Spend</dt><dd data-testid="total-spend" data-value={d.totals.spend_usd}>{fmtUsd(d.totals.spend_usd)}</dd></div>
            <div><dt>Requests</dt><dd>{fmtInt(d.totals.requests)}</dd></div>
            <div><dt>Input tokens</dt><dd>{fmtInt(d.totals.input_tokens)}</dd></div>
            <div><dt>Output tokens</dt><dd>{fmtInt(d.totals.output_tokens)}</dd></div>
            <div><dt>Per request</dt><dd>{d.totals.requests ? fmtUsd(d.totals.spend_usd / d.totals.requests) : '—'}</dd></div>
          </dl>
        )}
      </Panel>
      <Panel title="Spend over time" state={state} class="wide" empty={(d) => (d.series.every((x) => x.spend_cents === 0 && x.requests === 0) ? 'No spend in this window and scope.' : null)}>
        {(d) => (
          <TimeChart
            testId="cost-chart"
            tz={w.tz}
            times={d.series.map((x) => epochSec(x.ts))}
            series={[
              { label: 'Spend (USD)', values: d.series.map((x) => x.spend_cents / 100), color: '#2f6fde', bars: true, format: (v) => fmtUsd(v) },
              { label: 'Requests', values: d.series.map((x) => x.requests), color: '#8a5cd1', right: true, format: (v) => fmtInt(Math.round(v)) },
            ]}
          />
        )}
      </Panel>
      <Panel title="Series" state={state} class="wide" testId="cost-series" actions={<ExportButtons topic="cost" w={w} s={s} />} empty={(d) => (d.series.length === 0 ? 'No buckets in this window.' : null)}>
        {(d) => (
          <Table
            testId="cost-table"
            rows={d.series}
            columns={[
              { key: 'ts', label: 'Bucket', render: (r) => (s.resolution === 'hour' ? fmtDateTime(r.ts, w.tz) : r.ts.slice(0, 10)), sort: (r) => r.ts },
              { key: 'spend', label: 'Spend', numeric: true, render: (r) => fmtUsd(r.spend_cents / 100), sort: (r) => r.spend_cents },
              { key: 'requests', label: 'Requests', numeric: true, render: (r) => fmtInt(r.requests), sort: (r) => r.requests },
              { key: 'in', label: 'Input tokens', numeric: true, render: (r) => fmtInt(r.input_tokens), sort: (r) => r.input_tokens },
              { key: 'out', label: 'Output tokens', numeric: true, render: (r) => fmtInt(r.output_tokens), sort: (r) => r.output_tokens },
            ]}
          />
        )}
      </Panel>
      <Breakdown />
    </div>
  );
}
