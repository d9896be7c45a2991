import { storedKey } from './session.js';

/** A refused or failed request, with the API's error envelope when there was one. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }

  /** What the panel says: the cause and, when there is one, what to do about it. */
  describe(): string {
    if (this.status === 0) return `Cannot reach the server (${this.message}). Check that tallyhouse is running, then retry.`;
    if (this.status === 429) return `Too many requests (429): the rate limit of this key is reached. Retry ${this.retryAfterSec ? `in ${this.retryAfterSec} s` : 'shortly'}.`;
    if (this.code === 'INVALID_DATE_RANGE') return `Bad time window (400 ${this.code}): ${this.message}. Pick another window above.`;
    if (this.status === 403) return `Not allowed (403 ${this.code}): ${this.message}.`;
    if (this.status >= 500) return `The server failed (${this.status} ${this.code}): ${this.message}.`;
    return `${this.status} ${this.code}: ${this.message}`;
  }
}

/** Set by the app: a 401 means the key is invalid or revoked → back to sign-in, saying so. */
let unauthorized: (message: string) => void = () => {};
export const onUnauthorized = (fn: (message: string) => void) => {
  unauthorized = fn;
};

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

async function send(method: string, path: string, init: { query?: Query; body?: unknown; key?: string } = {}): Promise<Response> {
  const key = init.key ?? storedKey();
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, init.query), { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  } catch (e) {
    throw new ApiFailure(0, 'NETWORK', (e as Error).message);
  }
  if (res.ok) return res;
  let code = 'HTTP_ERROR';
  let message = res.statusText || 'request failed';
  let details: unknown;
  try {
    const body = (await res.json()) as { error?: { code: string; message: string; details?: unknown } };
    if (body.error) ({ code, message, details } = body.error);
  } catch {
    /* not the error envelope: keep the status text */
  }
  const retry = Number(res.headers.get('retry-after'));
  const failure = new ApiFailure(res.status, code, message, details, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  // The sign-in check itself passes its own key and reports the 401 on the form.
  if (res.status === 401 && init.key === undefined) unauthorized(`Signed out: the API key was refused (${message}). Sign in with a valid key.`);
  throw failure;
}

export async function api<T>(method: string, path: string, init: { query?: Query; body?: unknown; key?: string } = {}): Promise<T> {
  return (await (await send(method, path, init)).json()) as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, { query });

/**
 * Downloads need the Authorization header, so a plain link cannot carry them (and the key must
 * not go into a URL): fetch → blob → a temporary object-URL link clicked once.
 */
export async function download(method: 'GET' | 'POST', path: string, init: { query?: Query; body?: unknown; fallbackName: string }): Promise<string> {
  const res = await send(method, path, init);
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? init.fallbackName;
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
