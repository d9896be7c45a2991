import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Bars instead of a line (counts per bucket). */
  bars?: boolean;
  /** Right-hand axis (a second unit). */
  right?: boolean;
  format?: (v: number) => string;
}

/**
 * uPlot: canvas drawing that keeps up with 90 days × 24 hourly points. Sized to its container
 * (ResizeObserver), so it follows a narrow window. Times are epoch seconds shown in `tz`.
 */
export function TimeChart(props: { times: number[]; series: ChartSeries[]; tz: string; height?: number; stacked?: boolean; testId?: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const bars = uPlot.paths.bars!({ size: [0.7, 40] });
    const hasRight = props.series.some((s) => s.right);
    const fmtOf = (right: boolean) => props.series.find((s) => !!s.right === right)?.format;
    const axisValues = (right: boolean) => (_u: uPlot, splits: number[]) => splits.map((v) => (fmtOf(right) ?? ((x: number) => String(x)))(v));
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), props.tz),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] }, r: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        // Wide tick spacing: daily points do not get hour labels between them.
        { stroke: '#5b6475', grid: { stroke: '#eef0f4' }, space: 90 },
        { stroke: '#5b6475', grid: { stroke: '#eef0f4' }, size: 70, values: axisValues(false) },
        ...(hasRight ? [{ scale: 'r', side: 1 as const, stroke: '#5b6475', grid: { show: false }, size: 70, values: axisValues(true) }] : []),
      ],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.bars ? s.color + 'cc' : s.color + '22',
          width: s.bars ? 0 : 2,
          scale: s.right ? 'r' : 'y',
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : (s.format ?? String)(v)),
          ...(s.bars ? { paths: bars } : {}),
        })),
      ],
    };
    const data: uPlot.AlignedData = [props.times, ...props.series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series, props.tz, props.height]);
  return <div class="chart" ref={host} data-testid={props.testId} />;
}

export const epochSec = (iso: string) => Date.parse(iso) / 1000;
