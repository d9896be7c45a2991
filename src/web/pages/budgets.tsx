import { useState } from 'preact/hooks';
import { api, ApiFailure, get } from '../api.js';
import { Progress } from '../components/bits.js';
import { Panel } from '../components/panel.js';
import { useView } from '../context.js';
import { fmtDateTime, fmtInt, fmtPct, fmtUsd } from '../format.js';
import type { Budget, BudgetStatus } from '../types.js';
import { useApi } from '../use-api.js';
import { forecastPct } from './overview.js';

const SCOPE_TYPES = ['tenant', 'project', 'feature', 'user', 'model', 'api_key'] as const;

const amount = (metric: Budget['metric'], v: string) => (metric === 'cost' ? fmtUsd(v) : fmtInt(Number(v)));

/** Budgets with their status (GET …/status): use, forecast marker, create and edit. */
export function BudgetsPage() {
  const { tick, window: w } = useView();
  const [editing, setEditing] = useState<Budget | 'new' | null>(null);
  const [nonce, setNonce] = useState(0);
  const list = useApi(async () => {
    const { budgets } = await get<{ budgets: Budget[] }>('/api/v1/budgets');
    return Promise.all(budgets.map((b) => get<BudgetStatus>(`/api/v1/budgets/${b.id}/status`)));
  }, [tick, nonce]);
  const saved = () => {
    setEditing(null);
    setNonce((n) => n + 1);
  };
  return (
    <div class="page" data-testid="page-budgets">
      {editing ? (
        <BudgetForm budget={editing === 'new' ? null : editing} onSaved={saved} onCancel={() => setEditing(null)} />
      ) : (
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New budget
          </button>
        </div>
      )}
      <p class="muted small legend">
        Bar: spent so far this period · <span class="legend-limit">|</span> the limit · <span class="legend-forecast">▼</span> the forecast at period end.
      </p>
      <Panel title="Budgets" state={list} class="wide" testId="budget-list" empty={(d) => (d.length === 0 ? 'No budgets yet. Create one to be warned before spend runs over.' : null)}>
        {(d) => (
          <ul class="budgets">
            {d.map((s) => (
              <li data-testid="budget" data-name={s.budget.name} data-pct={s.pct_used}>
                <div class="row-between">
                  <div>
                    <strong>{s.budget.name}</strong>{' '}
                    <span class="muted small">
                      {s.budget.scope_type}
                      {s.budget.scope_value ? `: ${s.budget.scope_value}` : ''} · {s.budget.metric} per {s.budget.period}
                    </span>
                  </div>
                  <button type="button" class="link" onClick={() => setEditing(s.budget)}>
                    Edit
                  </button>
                </div>
                <Progress pct={s.pct_used} forecastPct={forecastPct(s)} label={s.budget.name} />
                <div class="row-between small">
                  <span>
                    {amount(s.budget.metric, s.spent)} of {amount(s.budget.metric, s.budget.limit)} ({fmtPct(s.pct_used, 2)})
                  </span>
                  <span class={s.forecast.exceeds_limit ? 'warn' : 'muted'}>
                    forecast {amount(s.budget.metric, s.forecast.period_end_projection)} by {fmtDateTime(s.period.to, w.tz)}
                    {s.forecast.exceeds_limit ? ' — over the limit' : ''}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Panel>
    </div>
  );
}

/** Create (POST) or edit (PATCH); the API's validation message is shown and its field marked. */
function BudgetForm(props: { budget: Budget | null; onSaved: () => void; onCancel: () => void }) {
  const b = props.budget;
  const [f, setF] = useState({
    name: b?.name ?? '',
    scope_type: b?.scope_type ?? 'tenant',
    scope_value: b?.scope_value ?? '',
    period: b?.period ?? 'month',
    metric: b?.metric ?? 'cost',
    limit: b?.limit ?? '',
    thresholds: (b?.thresholds ?? [50, 80, 100]).join(', '),
  });
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const thresholds = f.thresholds.trim() === '' ? undefined : f.thresholds.split(',').map((t) => Number(t.trim()));
    const body: Record<string, unknown> = {
      name: f.name,
      period: f.period,
      metric: f.metric,
      limit: f.limit,
      ...(thresholds ? { thresholds } : {}),
    };
    if (!b) Object.assign(body, { scope_type: f.scope_type, ...(f.scope_type === 'tenant' ? {} : { scope_value: f.scope_value }) });
    try {
      if (b) await api('PATCH', `/api/v1/budgets/${b.id}`, { body });
      else await api('POST', '/api/v1/budgets', { body });
      props.onSaved();
    } catch (err) {
      if (err instanceof ApiFailure) {
        const d = err.details as { field?: string; issues?: { path: string }[] } | undefined;
        setError({ message: err.status === 400 ? err.message : err.describe(), field: d?.field ?? d?.issues?.[0]?.path.split('.')[0] ?? null });
      } else setError({ message: String(err), field: null });
    } finally {
      setBusy(false);
    }
  };
  const bad = (k: string) => (error?.field === k ? 'invalid' : '');
  return (
    <form class="panel budget-form" onSubmit={submit} data-testid="budget-form" noValidate>
      <h2>{b ? `Edit ${b.name}` : 'New budget'}</h2>
      {error && (
        <p class="state-error inline" role="alert" data-testid="budget-error">
          {error.message}
        </p>
      )}
      <div class="form-grid">
        <label class={bad('name')}>
          Name <input name="name" value={f.name} onInput={set('name')} />
        </label>
        <label class={bad('scope_type')}>
          Scope
          <select name="scope_type" value={f.scope_type} onChange={set('scope_type')} disabled={!!b}>
            {SCOPE_TYPES.map((s) => (
              <option value={s}>{s.replace('_', ' ')}</option>
            ))}
          </select>
        </label>
        {f.scope_type !== 'tenant' && (
          <label class={bad('scope_value')}>
            {f.scope_type.replace('_', ' ')} <input name="scope_value" value={f.scope_value} onInput={set('scope_value')} disabled={!!b} />
          </label>
        )}
        <label class={bad('metric')}>
          Metric
          <select name="metric" value={f.metric} onChange={set('metric')}>
            <option value="cost">cost (USD)</option>
            <option value="tokens">tokens</option>
            <option value="requests">requests</option>
          </select>
        </label>
        <label class={bad('period')}>
          Period
          <select name="period" value={f.period} onChange={set('period')}>
            <option value="day">day</option>
            <option value="week">week</option>
            <option value="month">month</option>
          </select>
        </label>
        <label class={bad('limit')}>
          Limit {f.metric === 'cost' ? '(USD)' : ''} <input name="limit" value={f.limit} onInput={set('limit')} inputMode="decimal" />
        </label>
        <label class={bad('thresholds')}>
          Alert at % <input name="thresholds" value={f.thresholds} onInput={set('thresholds')} placeholder="50, 80, 100" />
        </label>
      </div>
      <div class="toolbar">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : b ? 'Save' : 'Create budget'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
