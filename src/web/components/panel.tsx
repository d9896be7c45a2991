import type { ComponentChildren } from 'preact';
import { useErrorBoundary } from 'preact/hooks';
import type { Loaded } from '../use-api.js';

/**
 * Every data panel goes through here: loading, error (what happened and a retry) and empty
 * states are spelled out, so a panel is never blank.
 */
export function Panel<T>(props: {
  title: string;
  state: Loaded<T>;
  /** When the loaded data has nothing to show: the sentence to show instead. */
  empty?: (data: T) => string | null;
  actions?: ComponentChildren;
  class?: string;
  testId?: string;
  children: (data: T) => ComponentChildren;
}) {
  const { data, error, loading, reload } = props.state;
  let body: ComponentChildren;
  if (error) {
    body = (
      <div class="state state-error" role="alert">
        <p>{error.describe()}</p>
        <button type="button" onClick={reload}>
          Retry
        </button>
      </div>
    );
  } else if (data === null) {
    body = <div class="state state-loading">Loading {props.title.toLowerCase()}…</div>;
  } else {
    const emptyText = props.empty?.(data) ?? null;
    body = emptyText ? <div class="state state-empty">{emptyText}</div> : <Guard render={() => props.children(data)} />;
  }
  return (
    <section class={`panel ${props.class ?? ''}`} data-testid={props.testId} aria-busy={loading}>
      <header class="panel-head">
        <h2>{props.title}</h2>
        {loading && data !== null && <span class="refreshing">refreshing…</span>}
        {props.actions && <div class="panel-actions">{props.actions}</div>}
      </header>
      {body}
    </section>
  );
}

/**
 * A rendering bug in one panel (an unexpected response shape) stays in that panel, saying so,
 * instead of unmounting the whole page.
 */
function Guard(props: { render: () => ComponentChildren }) {
  const [error, reset] = useErrorBoundary();
  if (error) {
    return (
      <div class="state state-error" role="alert">
        <p>This panel could not show the data: {String((error as Error).message ?? error)}</p>
        <button type="button" onClick={reset}>
          Retry
        </button>
      </div>
    );
  }
  return <>{props.render()}</>;
}
