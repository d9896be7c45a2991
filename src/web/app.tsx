import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiFailure, onUnauthorized } from './api.js';
import { WindowPicker } from './components/window-picker.js';
import { View, type SessionInfo } from './context.js';
import { AgentsPage } from './pages/agents.js';
import { BudgetsPage } from './pages/budgets.js';
import { CostPage } from './pages/cost.js';
import { IncidentPage } from './pages/incident.js';
import { IncidentsPage } from './pages/incidents.js';
import { OverviewPage } from './pages/overview.js';
import { SignIn } from './pages/sign-in.js';
import { UsagePage } from './pages/usage.js';
import { pageHref, useRoute, windowFromParams } from './route.js';
import { forgetKey, storedKey, takeNotice } from './session.js';

const PAGES = [
  { path: 'overview', label: 'Overview' },
  { path: 'usage', label: 'Usage' },
  { path: 'cost', label: 'Cost' },
  { path: 'agents', label: 'Agents' },
  { path: 'budgets', label: 'Budgets' },
  { path: 'incidents', label: 'Anomalies & incidents' },
] as const;

const REFRESH_MS = 60_000;
const browserTz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [checking, setChecking] = useState(() => storedKey() !== null);
  const [notice, setNotice] = useState<string | null>(takeNotice);
  const route = useRoute();

  const signOut = (message: string | null) => {
    forgetKey();
    setSession(null);
    setNotice(message);
  };

  useEffect(() => {
    onUnauthorized((message) => signOut(message));
    // A key from earlier in this tab: check it is still valid before showing anything.
    const key = storedKey();
    if (!key) return;
    api<SessionInfo>('GET', '/api/v1/session', { key }).then(
      (s) => setSession(s),
      (e: unknown) => signOut(e instanceof ApiFailure && e.status === 401 ? `Signed out: the stored API key was refused (${e.message}).` : null),
    ).finally(() => setChecking(false));
  }, []);

  if (checking) return <main class="state state-loading">Checking your API key…</main>;
  if (!session) return <SignIn notice={notice} onSignedIn={(s) => (setNotice(null), setSession(s))} />;
  return <Shell session={session} route={route} onSignOut={() => signOut('Signed out.')} />;
}

function Shell(props: { session: SessionInfo; route: ReturnType<typeof useRoute>; onSignOut: () => void }) {
  const { path, params } = props.route;
  const page = path[0] ?? 'overview';
  const refresh = params.get('refresh') === '1';
  const [tick, setTick] = useState(0);
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    if (!refresh) return;
    const t = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearInterval(t);
  }, [refresh]);
  // Presets are relative to now: recompute them on every refresh tick.
  const key = params.toString();
  const { window, problem } = useMemo(() => windowFromParams(params, props.session.tenant.timezone || browserTz), [key, tick]);
  const usesWindow = page !== 'budgets' && !(page === 'incidents' && path[1]);

  return (
    <View.Provider value={{ session: props.session, window, params, tick }}>
      <header class="top">
        <div class="brand">
          <button type="button" class="menu-toggle" aria-label="Menu" onClick={() => setMenuOpen((o) => !o)}>
            ☰
          </button>
          <strong>tallyhouse</strong>
        </div>
        <nav class={menuOpen ? 'open' : ''} onClick={() => setMenuOpen(false)}>
          {PAGES.map((p) => (
            <a href={pageHref([p.path], params)} class={page === p.path ? 'active' : ''} aria-current={page === p.path ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <div class="who" data-testid="tenant">
          <span class="tenant-name">{props.session.tenant.name}</span> <span class={`badge plan-${props.session.tenant.plan}`}>{props.session.tenant.plan}</span>
          <button type="button" class="link" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main class="content">
        {usesWindow && <WindowPicker window={window} refresh={refresh} problem={problem} />}
        <Page page={page} rest={path.slice(1)} />
      </main>
    </View.Provider>
  );
}

function Page(props: { page: string; rest: string[] }) {
  switch (props.page) {
    case 'overview':
      return <OverviewPage />;
    case 'usage':
      return <UsagePage />;
    case 'cost':
      return <CostPage />;
    case 'agents':
      return <AgentsPage />;
    case 'budgets':
      return <BudgetsPage />;
    case 'incidents':
      return props.rest[0] ? <IncidentPage id={props.rest[0]} /> : <IncidentsPage />;
    default:
      return <p class="state state-empty">No page "{props.page}". Pick one from the menu.</p>;
  }
}
