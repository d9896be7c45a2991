import { useEffect, useState } from 'preact/hooks';
import { setParams } from '../route.js';
import { describeWindow, isoUtc, isTimeZone, PRESETS, utcToZoned, zonedToUtc, type TimeWindow } from '../time.js';

const ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney'];

/**
 * The one window of every page, written into the URL: presets, a custom range read as wall-clock
 * time in the chosen zone, the zone itself, and auto-refresh. data-from/data-to expose the
 * resolved window (the e2e tests ask the API the same question).
 */
export function WindowPicker(props: { window: TimeWindow; refresh: boolean; problem: string | null }) {
  const w = props.window;
  const [from, setFrom] = useState(utcToZoned(w.fromMs, w.tz));
  const [to, setTo] = useState(utcToZoned(w.toMs, w.tz));
  const [tz, setTz] = useState(w.tz);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setFrom(utcToZoned(w.fromMs, w.tz));
    setTo(utcToZoned(w.toMs, w.tz));
    setTz(w.tz);
  }, [w.fromMs, w.toMs, w.tz]);
  const zones = ZONES.includes(w.tz) ? ZONES : [w.tz, ...ZONES];

  const applyCustom = (e: Event) => {
    e.preventDefault();
    const fromMs = zonedToUtc(from, w.tz);
    const toMs = zonedToUtc(to, w.tz);
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return setError('Enter both ends of the range.');
    setError(null);
    // An inverted range is sent as is: the API's 400 says what is wrong with it.
    setParams({ preset: null, from: isoUtc(fromMs), to: isoUtc(toMs) });
  };
  const applyTz = (value: string) => {
    setTz(value);
    if (isTimeZone(value)) setParams({ tz: value });
  };

  return (
    <div class="window-picker" data-testid="window-picker" data-from={isoUtc(w.fromMs)} data-to={isoUtc(w.toMs)} data-tz={w.tz}>
      <div class="presets" role="group" aria-label="Time window">
        {Object.keys(PRESETS).map((p) => (
          <button type="button" class={w.preset === p ? 'active' : ''} aria-pressed={w.preset === p} onClick={() => setParams({ preset: p, from: null, to: null })}>
            {p}
          </button>
        ))}
      </div>
      <form class="custom-range" onSubmit={applyCustom}>
        <label>
          From <input type="datetime-local" name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To <input type="datetime-local" name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <label class="tz">
        Zone{' '}
        <input list="tz-list" name="tz" value={tz} onChange={(e) => applyTz(e.currentTarget.value)} size={16} />
        <datalist id="tz-list">
          {zones.map((z) => (
            <option value={z} />
          ))}
        </datalist>
      </label>
      <label class="refresh">
        <input type="checkbox" name="refresh" checked={props.refresh} onChange={(e) => setParams({ refresh: e.currentTarget.checked ? '1' : null })} /> Auto-refresh (60 s)
      </label>
      <p class="window-text">{describeWindow(w)}</p>
      {(error ?? props.problem) && <p class="state-error inline">{error ?? props.problem}</p>}
    </div>
  );
}
