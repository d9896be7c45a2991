/**
 * Time windows in IANA zones without a date library: Intl gives a zone's offset at an instant,
 * which is all that is needed to turn wall-clock input into UTC and back.
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const PRESETS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS, '90d': 90 * DAY_MS } as const;
export type Preset = keyof typeof PRESETS;
export const isPreset = (p: string | null): p is Preset => p !== null && p in PRESETS;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const partsCache = new Map<string, Intl.DateTimeFormat>();
function fmt(tz: string) {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    partsCache.set(tz, f);
  }
  return f;
}

/** Wall-clock fields of `ms` in `tz`. */
export function wallClock(ms: number, tz: string) {
  const p: Record<string, number> = {};
  for (const part of fmt(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour! % 24, minute: p.minute!, second: p.second! };
}

/** Offset of `tz` from UTC at `ms`, in ms (Berlin in summer: +2 h). */
export function offsetMs(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/** "2026-11-01T09:30" read as wall-clock time in `tz` → UTC ms (NaN if malformed). */
export function zonedToUtc(local: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(local);
  if (!m) return NaN;
  const guess = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0));
  const first = guess - offsetMs(guess, tz);
  // Re-read the offset at the result: near a DST change the first guess used the other side's.
  return guess - offsetMs(first, tz);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** UTC ms → "2026-11-01T09:30" wall-clock in `tz` (the value of a datetime-local input). */
export function utcToZoned(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

export const isoUtc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
export const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface TimeWindow {
  fromMs: number;
  toMs: number;
  tz: string;
  /** The preset it came from, or null for a custom range. */
  preset: Preset | null;
}

/**
 * A preset ends at the next whole hour: stable for an hour, so reloads and shared links ask the
 * same (cached) question, and the rollups answer whole buckets.
 */
export function presetWindow(preset: Preset, tz: string, nowMs = Date.now()): TimeWindow {
  const toMs = Math.ceil(nowMs / HOUR_MS) * HOUR_MS;
  return { fromMs: toMs - PRESETS[preset], toMs, tz, preset };
}

export const previousWindow = (w: TimeWindow): TimeWindow => ({ ...w, fromMs: w.fromMs - (w.toMs - w.fromMs), toMs: w.fromMs, preset: null });

/** Bucket size the charts use when the page does not pick one: ≤ 2 days hourly, else daily. */
export const autoResolution = (w: TimeWindow): 'hour' | 'day' => (w.toMs - w.fromMs <= 2 * DAY_MS ? 'hour' : 'day');

/** The window as the statistics routes take it. */
export const windowQuery = (w: TimeWindow) => ({ from: isoUtc(w.fromMs), to: isoUtc(w.toMs), tz: w.tz });

/**
 * The window as the agent routes take it: calendar days (UTC), `to` inclusive and not after
 * today.
 */
export function dayRange(w: TimeWindow, nowMs = Date.now()) {
  const last = Math.min(w.toMs - 1, nowMs);
  return { from: utcDate(w.fromMs), to: utcDate(last) };
}

export function describeWindow(w: TimeWindow): string {
  const f = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: w.tz, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
  return `${f(w.fromMs)} – ${f(w.toMs)} (${w.tz})`;
}
