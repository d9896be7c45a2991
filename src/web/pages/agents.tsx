import { get } from '../api.js';
import { epochSec, TimeChart } from '../components/chart.js';
import { Heatmap, Sparkline } from '../components/heatmap.js';
import { Panel } from '../components/panel.js';
import { Table } from '../components/table.js';
import { useView } from '../context.js';
import { fmtDateTime, fmtInt, fmtPct } from '../format.js';
import { setParams } from '../route.js';
import { dayRange } from '../time.js';
import type { AgentActivity, CredentialRotations, EndpointPatterns, TokenTrends } from '../types.js';
import { useApi } from '../use-api.js';

/** Seed 002's console: activity heatmap, token issuance trend, rotations, endpoint patterns. */
export function AgentsPage() {
  const { window: w, params, tick } = useView();
  const days = dayRange(w);
  const granularity = params.get('gran') === 'week' ? 'week' : 'day';
  const deps = [days.from, days.to, tick];
  const activity = useApi(() => get<AgentActivity>('/api/v1/analytics/agent-activity', days), deps);
  const trends = useApi(() => get<TokenTrends>('/api/v1/analytics/token-trends', { ...days, granularity }), [...deps, granularity]);
  const rotations = useApi(() => get<CredentialRotations>('/api/v1/analytics/credential-rotations', days), deps);
  const endpoints = useApi(() => get<EndpointPatterns>('/api/v1/analytics/endpoint-patterns', { ...days, tz: w.tz, limit: 20 }), [...deps, w.tz]);
  return (
    <div class="page" data-testid="page-agents">
      <p class="muted small">Agent analytics count whole days: {days.from} to {days.to} (UTC, inclusive).</p>
      <Panel title="API calls per agent and day" state={activity} class="wide" testId="agent-heatmap" empty={(d) => (d.agents.length === 0 ? 'No agent activity in these days.' : null)}>
        {(d) => {
          const dates = d.agents[0]?.dailyActivity.map((x) => x.date) ?? [];
          return <Heatmap testId="heatmap" unit="API calls" days={dates} rows={d.agents.map((a) => ({ label: a.agentName, values: a.dailyActivity.map((x) => x.apiCalls) }))} />;
        }}
      </Panel>
      <Panel
        title="Token issuance"
        state={trends}
        class="wide"
        testId="token-trends"
        empty={(d) => (d.dataPoints.every((p) => p.totalIssuances === 0) ? 'No tokens issued in these days.' : null)}
        actions={
          <div class="presets" role="group" aria-label="Granularity">
            {(['day', 'week'] as const).map((g) => (
              <button type="button" class={granularity === g ? 'active' : ''} aria-pressed={granularity === g} onClick={() => setParams({ gran: g })}>
                {g}
              </button>
            ))}
          </div>
        }
      >
        {(d) => (
          <TimeChart
            testId="token-chart"
            tz="UTC"
            times={d.dataPoints.map((p) => epochSec(`${p.date}T00:00:00Z`))}
            series={[
              { label: 'Succeeded', values: d.dataPoints.map((p) => p.successfulIssuances), color: '#2e9e6a', bars: true, format: (v) => fmtInt(Math.round(v)) },
              { label: 'Failed', values: d.dataPoints.map((p) => p.failedIssuances), color: '#d64545', right: true, format: (v) => fmtInt(Math.round(v)) },
            ]}
          />
        )}
      </Panel>
      <Panel title="Credential rotations" state={rotations} class="half" testId="rotations" empty={(d) => (d.agents.length === 0 ? 'No credential rotations in these days.' : null)}>
        {(d) => (
          <Table
            testId="rotations-table"
            rows={d.agents}
            initialSort={{ key: 'rotations', dir: 'desc' }}
            columns={[
              { key: 'agentId', label: 'Agent', sort: (r) => r.agentId },
              { key: 'rotations', label: 'Rotations', numeric: true, render: (r) => fmtInt(r.rotations), sort: (r) => r.rotations },
              { key: 'lastRotatedAt', label: 'Last rotated', render: (r) => fmtDateTime(r.lastRotatedAt, w.tz), sort: (r) => r.lastRotatedAt ?? '' },
              { key: 'avg', label: 'Avg days between', numeric: true, render: (r) => (r.averageDaysBetweenRotations == null ? '—' : r.averageDaysBetweenRotations.toFixed(2)), sort: (r) => r.averageDaysBetweenRotations ?? -1 },
            ]}
          />
        )}
      </Panel>
      <Panel title="Endpoint call patterns" state={endpoints} class="half" testId="endpoints" empty={(d) => (d.endpoints.length === 0 ? 'No endpoint calls in these days.' : null)}>
        {(d) => (
          <Table
            testId="endpoints-table"
            rows={d.endpoints}
            initialSort={{ key: 'calls', dir: 'desc' }}
            columns={[
              { key: 'endpoint', label: 'Endpoint', sort: (r) => r.endpoint, render: (r) => <code>{r.endpoint}</code> },
              { key: 'calls', label: 'Calls', numeric: true, render: (r) => fmtInt(r.totalCalls), sort: (r) => r.totalCalls },
              { key: 'trend', label: 'Daily', render: (r) => <Sparkline values={r.dailyCalls.map((x) => x.calls)} /> },
              { key: 'success', label: 'Success', numeric: true, render: (r) => (r.successRate == null ? '—' : fmtPct(r.successRate * 100)), sort: (r) => r.successRate ?? -1 },
              { key: 'p95', label: 'p95 ms', numeric: true, render: (r) => fmtInt(r.p95LatencyMs), sort: (r) => r.p95LatencyMs ?? -1 },
              { key: 'peak', label: `Peak hour (${w.tz})`, numeric: true, render: (r) => (r.peakHour == null ? '—' : `${String(r.peakHour).padStart(2, '0')}:00`), sort: (r) => r.peakHour ?? -1 },
            ]}
          />
        )}
      </Panel>
    </div>
  );
}
