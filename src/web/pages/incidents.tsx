import { useState } from 'preact/hooks';
import { api, get } from '../api.js';
import { Severity, Status } from '../components/bits.js';
import { Panel } from '../components/panel.js';
import { Table } from '../components/table.js';
import { useView } from '../context.js';
import { fmtDateTime, fmtUsd } from '../format.js';
import { setParams } from '../route.js';
import { windowQuery } from '../time.js';
import type { Anomaly, Incident } from '../types.js';
import { useApi } from '../use-api.js';

const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const STATUSES = ['open', 'acknowledged', 'resolved'];
const TYPES = ['BUDGET_THRESHOLD', 'BUDGET_FORECAST_EXCEEDED', 'BUDGET_EXCEEDED', 'SPEND_SPIKE', 'USAGE_DROP', 'ERROR_RATE_SPIKE'];

/** Incidents (filters: status, severity) with acknowledge / resolve, and the window's anomalies. */
export function IncidentsPage() {
  const { window: w, params, tick } = useView();
  const status = params.get('status') ?? '';
  const severity = params.get('severity') ?? '';
  const type = params.get('type') ?? '';
  const [nonce, setNonce] = useState(0);
  const incidents = useApi(() => get<{ incidents: Incident[] }>('/api/v1/incidents', { status, severity, limit: 100 }), [status, severity, tick, nonce]);
  const anomalies = useApi(
    () => get<{ anomalies: Anomaly[] }>('/api/v1/anomalies', { ...windowQuery(w), tz: undefined, type, severity, limit: 100 }),
    [w.fromMs, w.toMs, type, severity, tick, nonce],
  );
  const filter = (name: string, value: string, options: string[]) => (
    <label>
      {name}{' '}
      <select name={name} value={value} onChange={(e) => setParams({ [name]: e.currentTarget.value || null })}>
        <option value="">any</option>
        {options.map((o) => (
          <option value={o}>{o.toLowerCase().replace(/_/g, ' ')}</option>
        ))}
      </select>
    </label>
  );
  return (
    <div class="page" data-testid="page-incidents">
      <div class="controls">
        {filter('status', status, STATUSES)}
        {filter('severity', severity, SEVERITIES)}
        {filter('type', type, TYPES)}
      </div>
      <Panel title="Incidents" state={incidents} class="wide" testId="incident-list" empty={(d) => (d.incidents.length === 0 ? 'No incidents match these filters.' : null)}>
        {(d) => (
          <Table
            testId="incidents-table"
            rows={d.incidents}
            columns={[
              { key: 'severity', label: 'Severity', render: (r) => <Severity value={r.severity} />, sort: (r) => SEVERITIES.indexOf(r.severity) },
              { key: 'title', label: 'Incident', render: (r) => <a href={`#/incidents/${r.id}`}>{r.title}</a>, sort: (r) => r.title },
              { key: 'status', label: 'Status', render: (r) => <Status value={r.status} />, sort: (r) => r.status },
              { key: 'opened', label: 'Opened', render: (r) => fmtDateTime(r.opened_at, w.tz), sort: (r) => r.opened_at },
              { key: 'actions', label: '', render: (r) => <IncidentActions incident={r} onDone={() => setNonce((n) => n + 1)} /> },
            ]}
          />
        )}
      </Panel>
      <Panel title="Anomalies in this window" state={anomalies} class="wide" testId="anomaly-list" empty={(d) => (d.anomalies.length === 0 ? 'No anomalies detected in this window.' : null)}>
        {(d) => (
          <Table
            testId="anomalies-table"
            rows={d.anomalies}
            columns={[
              { key: 'severity', label: 'Severity', render: (r) => <Severity value={r.severity} />, sort: (r) => SEVERITIES.indexOf(r.severity) },
              { key: 'type', label: 'Type', render: (r) => r.type.toLowerCase().replace(/_/g, ' '), sort: (r) => r.type },
              { key: 'on', label: 'On', render: (r) => `${r.dimension}${r.dimension_value ? `: ${r.dimension_value}` : ''}` },
              { key: 'observed', label: 'Observed / expected', render: (r) => `${r.observed} / ${r.expected ?? '—'}` },
              { key: 'impact', label: 'Impact', numeric: true, render: (r) => fmtUsd(r.impact_usd), sort: (r) => Number(r.impact_usd) },
              { key: 'when', label: 'Window start', render: (r) => fmtDateTime(r.window_start, w.tz), sort: (r) => r.window_start },
              { key: 'incident', label: 'Incident', render: (r) => (r.incident_id ? <a href={`#/incidents/${r.incident_id}`}>open</a> : '—') },
            ]}
          />
        )}
      </Panel>
    </div>
  );
}

/** Acknowledge (open only) and resolve (with an optional note); errors are said next to the buttons. */
export function IncidentActions(props: { incident: Incident; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [resolving, setResolving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (action: 'acknowledge' | 'resolve') => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/v1/incidents/${props.incident.id}/${action}`, action === 'resolve' && note ? { body: { note } } : {});
      setResolving(false);
      props.onDone();
    } catch (e) {
      setError(e instanceof Error && 'describe' in e ? (e as { describe(): string }).describe() : String(e));
    } finally {
      setBusy(false);
    }
  };
  if (props.incident.status === 'resolved') return <span class="muted small">resolved</span>;
  return (
    <div class="actions" data-testid="incident-actions">
      {props.incident.status === 'open' && (
        <button type="button" disabled={busy} onClick={() => act('acknowledge')}>
          Acknowledge
        </button>
      )}
      {resolving ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('resolve');
          }}
        >
          <input name="note" placeholder="Resolution note (optional)" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          <button type="submit" class="primary" disabled={busy}>
            Confirm resolve
          </button>
        </form>
      ) : (
        <button type="button" disabled={busy} onClick={() => setResolving(true)}>
          Resolve
        </button>
      )}
      {error && <span class="state-error inline">{error}</span>}
    </div>
  );
}
