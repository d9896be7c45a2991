import { get } from '../api.js';
import { useView } from '../context.js';
import { fmtInt, fmtPct, fmtUsd } from '../format.js';
import { setParams } from '../route.js';
import { windowQuery } from '../time.js';
import type { BreakdownRow, CostBreakdown } from '../types.js';
import { useApi } from '../use-api.js';
import { Panel } from './panel.js';
import { Table } from './table.js';

const DIMENSIONS = { model: 'model', feature: 'feature_tag', user: 'user_id', api_key: 'api_key_id', project: 'project', provider: 'provider', run: 'run_id' } as const;
type Dim = keyof typeof DIMENSIONS;

/** GET /api/v1/analytics/costs grouped by the dimension picked (URL: by=…), with pct_of_total. */
export function Breakdown() {
  const { window: w, params, tick } = useView();
  const by = (params.get('by') ?? 'model') as Dim;
  const dim: Dim = by in DIMENSIONS ? by : 'model';
  const field = DIMENSIONS[dim];
  const state = useApi(() => get<CostBreakdown>('/api/v1/analytics/costs', { from: windowQuery(w).from, to: windowQuery(w).to, group_by: dim, limit: 50 }), [w.fromMs, w.toMs, dim, tick]);
  const label = (r: BreakdownRow) => (r.other ? 'other' : r[field] == null ? '(none)' : String(r.key_name ? `${r.key_name} (${r.key_prefix})` : r[field]));
  return (
    <Panel
      title="Breakdown (whole tenant)"
      state={state}
      class="wide"
      testId="breakdown"
      empty={(d) => (d.rows.length === 0 ? 'No events in this window.' : null)}
      actions={
        <label>
          By{' '}
          <select name="by" value={dim} onChange={(e) => setParams({ by: e.currentTarget.value })}>
            {Object.keys(DIMENSIONS).map((d) => (
              <option value={d}>{d.replace('_', ' ')}</option>
            ))}
          </select>
        </label>
      }
    >
      {(d) => (
        <Table
          testId="breakdown-table"
          rows={d.rows}
          initialSort={{ key: 'spend', dir: 'desc' }}
          columns={[
            { key: 'value', label: dim.replace('_', ' '), render: label, sort: label },
            { key: 'spend', label: 'Spend', numeric: true, render: (r) => fmtUsd(r.spend_usd), sort: (r) => r.spend_cents },
            { key: 'pct', label: '% of total', numeric: true, render: (r) => fmtPct(r.pct_of_total, 2), sort: (r) => r.pct_of_total },
            { key: 'requests', label: 'Requests', numeric: true, render: (r) => fmtInt(r.requests), sort: (r) => r.requests },
            { key: 'tokens', label: 'Tokens in / out', numeric: true, render: (r) => `${fmtInt(r.input_tokens)} / ${fmtInt(r.output_tokens)}`, sort: (r) => r.input_tokens + r.output_tokens },
          ]}
        />
      )}
    </Panel>
  );
}
