import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { Severity, Status } from '../components/bits.js';
import { Panel } from '../components/panel.js';
import { useView } from '../context.js';
import { fmtDateTime, fmtInt, fmtUsd } from '../format.js';
import type { Incident, TimelineEntry } from '../types.js';
import { useApi } from '../use-api.js';
import { IncidentActions } from './incidents.js';

interface CostBlock {
  spend_usd: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  events: number;
}
interface SourceRun {
  run_id: string | null;
  cost: CostBlock | null;
}
interface CostImpact {
  source_run: (CostBlock & { run_id: string }) | null;
  window: CostBlock & { from: string; to: string; dimension: string; dimension_value: string | null };
}

/** One incident: what and when, actions, timeline, the run that caused it and its cost. */
export function IncidentPage(props: { id: string }) {
  const { window: w, tick } = useView();
  const [nonce, setNonce] = useState(0);
  const base = `/api/v1/incidents/${encodeURIComponent(props.id)}`;
  const incident = useApi(() => get<Incident>(base), [props.id, tick, nonce]);
  const timeline = useApi(() => get<{ events: TimelineEntry[] }>(`${base}/timeline`), [props.id, tick, nonce]);
  const run = useApi(() => get<SourceRun>(`${base}/source-run`), [props.id, tick]);
  const impact = useApi(() => get<CostImpact>(`${base}/cost-impact`), [props.id, tick]);
  const tz = w.tz;
  return (
    <div class="page" data-testid="page-incident">
      <p>
        <a href="#/incidents">← All incidents</a>
      </p>
      <Panel title="Incident" state={incident} class="wide" testId="incident-detail">
        {(i) => (
          <div>
            <h3 class="incident-title">
              <Severity value={i.severity} /> {i.title} <Status value={i.status} />
            </h3>
            <dl class="facts">
              <div><dt>Category</dt><dd>{i.category.toLowerCase().replace(/_/g, ' ')}</dd></div>
              <div><dt>On</dt><dd>{i.dimension}{i.dimension_value ? `: ${i.dimension_value}` : ''}</dd></div>
              <div><dt>Window</dt><dd>{fmtDateTime(i.window_start, tz)} – {fmtDateTime(i.window_end, tz)}</dd></div>
              <div><dt>Opened</dt><dd>{fmtDateTime(i.opened_at, tz)}</dd></div>
              {i.acknowledged_at && <div><dt>Acknowledged</dt><dd>{fmtDateTime(i.acknowledged_at, tz)}{i.acknowledged_by ? ` by ${i.acknowledged_by}` : ''}</dd></div>}
              {i.resolved_at && <div><dt>Resolved</dt><dd>{fmtDateTime(i.resolved_at, tz)}{i.resolution_note ? ` — ${i.resolution_note}` : ''}</dd></div>}
            </dl>
            <IncidentActions incident={i} onDone={() => setNonce((n) => n + 1)} />
          </div>
        )}
      </Panel>
      <Panel title="Source run" state={run} class="half" testId="incident-run" empty={(r) => (r.run_id == null ? 'No run caused this incident (e.g. a tenant-wide budget breach).' : null)}>
        {(r) => (
          <dl class="facts">
            <div><dt>Run</dt><dd><code>{r.run_id}</code></dd></div>
            {r.cost && <CostFacts c={r.cost} />}
          </dl>
        )}
      </Panel>
      <Panel title="Cost impact" state={impact} class="half" testId="incident-impact">
        {(c) => (
          <dl class="facts">
            <div><dt>Window</dt><dd>{fmtDateTime(c.window.from, tz)} – {fmtDateTime(c.window.to, tz)}</dd></div>
            <div><dt>Scope</dt><dd>{c.window.dimension}{c.window.dimension_value ? `: ${c.window.dimension_value}` : ''}</dd></div>
            <CostFacts c={c.window} />
          </dl>
        )}
      </Panel>
      <Panel title="Timeline" state={timeline} class="wide" testId="incident-timeline" empty={(t) => (t.events.length === 0 ? 'Nothing recorded yet.' : null)}>
        {(t) => (
          <ol class="timeline">
            {t.events.map((e) => (
              <li>
                <time>{fmtDateTime(e.ts, tz)}</time> <span class="badge">{e.source_domain}</span> <span>{e.summary}</span>
              </li>
            ))}
          </ol>
        )}
      </Panel>
    </div>
  );
}

function CostFacts(props: { c: CostBlock }) {
  return (
    <>
      <div><dt>Spend</dt><dd data-testid="impact-spend">{fmtUsd(props.c.spend_usd)}</dd></div>
      <div><dt>Events / requests</dt><dd>{fmtInt(props.c.events)} / {fmtInt(props.c.requests)}</dd></div>
      <div><dt>Tokens in / out</dt><dd>{fmtInt(props.c.input_tokens)} / {fmtInt(props.c.output_tokens)}</dd></div>
    </>
  );
}
