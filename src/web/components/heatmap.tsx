/** Rows × days, cell shade by value (relative to the largest cell); the number is in the title. */
export function Heatmap(props: { rows: { label: string; values: number[] }[]; days: string[]; unit: string; testId?: string }) {
  const max = Math.max(1, ...props.rows.flatMap((r) => r.values));
  return (
    <div class="heatmap-wrap">
      <table class="heatmap" data-testid={props.testId}>
        <thead>
          <tr>
            <th />
            {props.days.map((d, i) => (
              <th class="day" title={d}>
                {i % Math.ceil(props.days.length / 15) === 0 ? d.slice(5) : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <th class="agent">{r.label}</th>
              {r.values.map((v, i) => (
                <td title={`${r.label} · ${props.days[i]}: ${v} ${props.unit}`} data-value={v} style={{ background: v === 0 ? '#f3f4f7' : `rgba(47, 111, 222, ${0.15 + 0.85 * (v / max)})` }} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">Darker: more {props.unit} (max {max} in a day).</p>
    </div>
  );
}

/** A tiny inline trend line (endpoint daily calls). */
export function Sparkline(props: { values: number[] }) {
  const w = 120;
  const h = 24;
  const max = Math.max(1, ...props.values);
  const step = props.values.length > 1 ? w / (props.values.length - 1) : w;
  const pts = props.values.map((v, i) => `${(i * step).toFixed(1)},${(h - (v / max) * (h - 2) - 1).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden="true">
      <polyline points={pts} fill="none" stroke="#2f6fde" stroke-width="1.5" />
    </svg>
  );
}
