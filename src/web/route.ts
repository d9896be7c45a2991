import { useEffect, useState } from 'preact/hooks';
import { isPreset, isTimeZone, presetWindow, type TimeWindow } from './time.js';

/**
 * The view lives in the URL hash — `#/cost?preset=30d&tz=Europe/Berlin&res=day` — so a link
 * reproduces it; the server only ever serves `/`. The key is never part of it.
 */
export interface Route {
  /** Path segments after '#/', e.g. ['incidents', '<id>']. */
  path: string[];
  params: URLSearchParams;
}

export function parseHash(hash = location.hash): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [p = '', q = ''] = raw.split('?');
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q) };
}

export function hrefOf(path: string[], params: URLSearchParams): string {
  const q = params.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Sets (or, with null, removes) query parameters of the current view. */
export function setParams(updates: Record<string, string | null>) {
  const r = parseHash();
  for (const [k, v] of Object.entries(updates)) {
    if (v === null) r.params.delete(k);
    else r.params.set(k, v);
  }
  location.hash = hrefOf(r.path, r.params);
}

/** Link to another page keeping the shared window parameters. */
export function pageHref(path: string[], current: URLSearchParams): string {
  const keep = new URLSearchParams();
  for (const k of ['preset', 'from', 'to', 'tz', 'refresh']) {
    const v = current.get(k);
    if (v !== null) keep.set(k, v);
  }
  return hrefOf(path, keep);
}

/** The window the URL names: a preset (default 7d) or a custom from/to, in tz (default: the browser's). */
export function windowFromParams(params: URLSearchParams, fallbackTz: string): { window: TimeWindow; problem: string | null } {
  const tzParam = params.get('tz');
  const tz = tzParam && isTimeZone(tzParam) ? tzParam : fallbackTz;
  const problem = tzParam && !isTimeZone(tzParam) ? `Unknown time zone "${tzParam}"; showing ${tz}.` : null;
  const from = params.get('from');
  const to = params.get('to');
  if (from && to) {
    const fromMs = Date.parse(from);
    const toMs = Date.parse(to);
    if (Number.isFinite(fromMs) && Number.isFinite(toMs)) return { window: { fromMs, toMs, tz, preset: null }, problem };
  }
  const preset = params.get('preset');
  return { window: presetWindow(isPreset(preset) ? preset : '7d', tz), problem };
}
