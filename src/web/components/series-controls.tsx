import { useState } from 'preact/hooks';
import { download, type Query } from '../api.js';
import { setParams } from '../route.js';
import { autoResolution, windowQuery, type TimeWindow } from '../time.js';

export const RESOLUTIONS = ['hour', 'day', 'week', 'month'] as const;

/** Resolution and scope of the statistics pages, from the URL (res, scope, project, env). */
export function seriesParams(params: URLSearchParams, w: TimeWindow) {
  const res = params.get('res');
  const resolution = (RESOLUTIONS as readonly string[]).includes(res ?? '') ? res! : autoResolution(w);
  const scope = params.get('scope') ?? 'org';
  const project = scope === 'org' ? undefined : (params.get('project') ?? undefined);
  const env = scope === 'env' ? (params.get('env') ?? undefined) : undefined;
  return { resolution, scope, project, env };
}

export type SeriesParams = ReturnType<typeof seriesParams>;

export const statisticsQuery = (w: TimeWindow, s: SeriesParams): Query => ({ ...windowQuery(w), resolution: s.resolution, scope: s.scope, project: s.project, env: s.env });

export function SeriesControls(props: { s: SeriesParams }) {
  const { s } = props;
  const [project, setProject] = useState(s.project ?? '');
  const [env, setEnv] = useState(s.env ?? '');
  const apply = (e: Event) => {
    e.preventDefault();
    setParams({ project: project || null, env: env || null });
  };
  return (
    <form class="controls" onSubmit={apply} data-testid="series-controls">
      <label>
        Resolution{' '}
        <select name="resolution" value={s.resolution} onChange={(e) => setParams({ res: e.currentTarget.value })}>
          {RESOLUTIONS.map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        Scope{' '}
        <select name="scope" value={s.scope} onChange={(e) => setParams({ scope: e.currentTarget.value })}>
          <option value="org">whole tenant</option>
          <option value="project">one project</option>
          <option value="env">one environment</option>
        </select>
      </label>
      {s.scope !== 'org' && (
        <label>
          Project <input name="project" value={project} onInput={(e) => setProject(e.currentTarget.value)} size={12} placeholder={s.scope === 'env' ? 'any' : 'required'} />
        </label>
      )}
      {s.scope === 'env' && (
        <label>
          Environment <input name="env" value={env} onInput={(e) => setEnv(e.currentTarget.value)} size={10} placeholder="e.g. prod" />
        </label>
      )}
      {s.scope !== 'org' && <button type="submit">Apply</button>}
    </form>
  );
}

/**
 * CSV and JSON: the statistics exports (the numbers of this page's table). Parquet: the
 * streamed query export for the same window, buckets and scope.
 */
export function ExportButtons(props: { topic: 'usage' | 'cost'; w: TimeWindow; s: SeriesParams }) {
  const [state, setState] = useState<{ busy: string | null; message: string | null; error: boolean }>({ busy: null, message: null, error: false });
  const run = async (format: 'csv' | 'json' | 'parquet') => {
    setState({ busy: format, message: null, error: false });
    try {
      const q = statisticsQuery(props.w, props.s);
      const name =
        format === 'parquet'
          ? await download('POST', '/api/v1/analytics/query/export', {
              query: { format: 'parquet' },
              body: parquetBody(props.topic, props.w, props.s),
              fallbackName: `${props.topic}.parquet`,
            })
          : await download('GET', `/api/v1/analytics/statistics/${props.topic}/export.${format}`, { query: q, fallbackName: `${props.topic}.${format}` });
      setState({ busy: null, message: `Downloaded ${name}`, error: false });
    } catch (e) {
      setState({ busy: null, message: e instanceof Error && 'describe' in e ? (e as { describe(): string }).describe() : String(e), error: true });
    }
  };
  return (
    <div class="exports" data-testid={`export-${props.topic}`}>
      <span class="muted small">Export</span>
      {(['csv', 'json', 'parquet'] as const).map((f) => (
        <button type="button" disabled={state.busy !== null} onClick={() => run(f)} data-format={f}>
          {state.busy === f ? '…' : f.toUpperCase()}
        </button>
      ))}
      {state.message && <span class={state.error ? 'state-error inline' : 'muted small'}>{state.message}</span>}
    </div>
  );
}

function parquetBody(topic: 'usage' | 'cost', w: TimeWindow, s: SeriesParams) {
  const q = windowQuery(w);
  const filters = [
    ...(s.project ? [{ dimension: 'project', op: 'eq', values: [s.project] }] : []),
    ...(s.env ? [{ dimension: 'environment', op: 'eq', values: [s.env] }] : []),
  ];
  return {
    metrics: topic === 'usage' ? ['requests', 'compute_units', 'input_tokens', 'output_tokens'] : ['cost', 'requests', 'input_tokens', 'output_tokens'],
    group_by: ['time'],
    granularity: s.resolution,
    from: q.from,
    to: q.to,
    tz: q.tz,
    filters,
  };
}
