import { change, fmtPct } from '../format.js';

/** A headline number with its change vs the previous window of the same length. */
export function Kpi(props: { label: string; value: string; current: number; previous: number | null; testId: string; raw: number }) {
  const delta = props.previous == null ? null : change(props.current, props.previous);
  const cls = delta === null || delta === 0 ? 'flat' : delta > 0 ? 'up' : 'down';
  return (
    <div class="kpi" data-testid={props.testId} data-value={props.raw}>
      <div class="kpi-label">{props.label}</div>
      <div class="kpi-value">{props.value}</div>
      <div class={`kpi-change ${cls}`}>
        {props.previous == null ? 'loading previous window…' : delta == null ? 'new (nothing in the previous window)' : `${delta > 0 ? '+' : ''}${fmtPct(delta)} vs previous`}
      </div>
    </div>
  );
}

/**
 * A budget's use: the bar to pct_used, a tick at the forecast projection (both capped at 150 %
 * of the track so an overrun is visible without squashing the rest).
 */
export function Progress(props: { pct: number; forecastPct?: number | null; label?: string }) {
  const cap = (p: number) => Math.max(0, Math.min(p, 150)) / 1.5;
  const level = props.pct >= 100 ? 'over' : props.pct >= 80 ? 'near' : 'ok';
  return (
    <div class="progress" role="progressbar" aria-valuenow={props.pct} aria-valuemin={0} aria-valuemax={100} aria-label={props.label}>
      <div class={`progress-bar ${level}`} style={{ width: `${cap(props.pct)}%` }} />
      <div class="progress-limit" style={{ left: `${cap(100)}%` }} title="limit" />
      {props.forecastPct != null && <div class="progress-forecast" style={{ left: `${cap(props.forecastPct)}%` }} title={`forecast: ${fmtPct(props.forecastPct)} at period end`} />}
    </div>
  );
}

export function Severity(props: { value: string }) {
  return <span class={`badge sev-${props.value.toLowerCase()}`}>{props.value}</span>;
}

export function Status(props: { value: string }) {
  return <span class={`badge status-${props.value}`}>{props.value}</span>;
}
