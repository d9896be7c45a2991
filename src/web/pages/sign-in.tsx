import { useState } from 'preact/hooks';
import { api, ApiFailure } from '../api.js';
import type { SessionInfo } from '../context.js';
import { storeKey } from '../session.js';

/** Asks GET /api/v1/session with the typed key; only a key the API accepts is kept. */
export function SignIn(props: { notice: string | null; onSignedIn: (s: SessionInfo) => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return setError('Paste an API key (it starts with th_).');
    setBusy(true);
    setError(null);
    try {
      const s = await api<SessionInfo>('GET', '/api/v1/session', { key: k });
      storeKey(k);
      props.onSignedIn(s);
    } catch (err) {
      const f = err instanceof ApiFailure ? err : null;
      setError(
        f?.status === 401
          ? `That key was refused: ${f.message}.`
          : f?.status === 403
            ? `That key cannot read analytics: ${f.message}. Use a key with the read or admin scope.`
            : (f?.describe() ?? String(err)),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form onSubmit={submit} class="panel" data-testid="sign-in">
        <h1>tallyhouse</h1>
        <p class="muted">Usage and cost analytics. Sign in with an API key of your tenant (read or admin scope).</p>
        {props.notice && (
          <p class="state-error inline" role="alert" data-testid="sign-in-notice">
            {props.notice}
          </p>
        )}
        <label>
          API key
          <input type="password" name="key" autoComplete="off" placeholder="th_…" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="state-error inline" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="muted small">The key stays in this tab's session storage and is sent only as an Authorization header.</p>
      </form>
    </main>
  );
}
