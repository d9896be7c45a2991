/**
 * Marks each figure within/over its budget from bench/budgets.json and prints the table (plain
 * text for the terminal, Markdown for the README's "Performance" section).
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO, type Figure } from './common.js';

interface Budget {
  min?: number;
  max?: number;
  why?: string;
}

export function loadBudgets(file = path.join(REPO, 'bench/budgets.json')): Record<string, Budget> {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Budget | string>;
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, Budget] => !e[0].startsWith('_') && typeof e[1] === 'object'));
}

export function applyBudgets(figures: Figure[], budgets: Record<string, Budget>): Figure[] {
  return figures.map((f) => {
    if (f.id.endsWith('.failed')) return { ...f, budget: 'runs', status: 'over' as const };
    const b = budgets[f.id];
    if (!b) return { ...f, status: 'info' as const };
    const ok = Number.isFinite(f.value) && (b.min === undefined || f.value >= b.min) && (b.max === undefined || f.value <= b.max);
    const budget = [b.min !== undefined ? `≥ ${b.min}` : '', b.max !== undefined ? `≤ ${b.max}` : ''].filter(Boolean).join(', ');
    return { ...f, budget, status: ok ? ('within' as const) : ('over' as const) };
  });
}

const mark = (f: Figure) => (f.status === 'within' ? 'within' : f.status === 'over' ? 'OVER' : '');
const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en') : String(v));

export function textTable(figures: Figure[]): string {
  const rows = figures.map((f) => [f.section, f.label, `${num(f.value)} ${f.unit}`, f.budget ?? '', mark(f), f.note ?? '']);
  const head = ['section', 'figure', 'value', 'budget', 'status', 'note'];
  const widths = head.map((h, i) => Math.min(i === 1 ? 90 : 60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c.padEnd(widths[i]!))).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function markdownTable(figures: Figure[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| section | figure | value | budget | status | note |',
    '|---|---|---:|---|---|---|',
    ...figures.map((f) => `| ${f.section} | ${esc(f.label)} | ${num(f.value)} ${f.unit} | ${f.budget ?? ''} | ${f.status === 'over' ? '**OVER**' : mark(f)} | ${esc(f.note ?? '')} |`),
  ].join('\n');
}

/**
 * The README's table: dashboard views one row each (rollups and forced raw side by side), every
 * other figure one row, over-budget figures in bold.
 */
export function summaryMarkdown(figures: Figure[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const byId = new Map(figures.map((f) => [f.id, f]));
  const status = (f?: Figure) => (!f ? '' : f.status === 'over' ? `**OVER** (${f.budget})` : f.status === 'within' ? `within (${f.budget})` : '');
  const out: string[] = [];
  const views = [...new Set(figures.filter((f) => f.section === 'queries').map((f) => /^queries\.([^.]+)\./.exec(f.id)?.[1]).filter((x): x is string => !!x))];
  if (views.length) {
    out.push('| dashboard view (largest tenant, HTTP) | p50 / p95 / p99 ms, rollups | p50 / p95 / p99 ms, forced raw | raw ÷ rollups p95 | budget | tables (rollups) |', '|---|---|---|---:|---|---|');
    for (const v of views) {
      const g = (k: string) => byId.get(`queries.${v}.${k}`);
      const trio = (k: string) => [g(`${k}.p50_ms`), g(`${k}.p95_ms`), g(`${k}.p99_ms`)].map((f) => (f ? String(f.value) : '–')).join(' / ');
      const label = g('auto.p50_ms')!.label.replace(/: rollups p50.*$/, '');
      const ep = g('endpoint.p95_ms');
      const rollups = ep ? `${trio('endpoint')} (endpoint); ${trio('auto')} (its questions)` : trio('auto');
      const budgeted = [g('auto.p95_ms'), g('endpoint.p95_ms')].find((f) => f?.status && f.status !== 'info');
      out.push(`| ${esc(label)} | ${rollups} | ${trio('raw')} | ${g('raw_over_auto_p95')?.value ?? '–'} | ${status(budgeted)} | ${esc((g('auto.p50_ms')?.note ?? '').replace(/^tables /, ''))} |`);
    }
    out.push('');
  }
  out.push('| section | figure | value | budget | note |', '|---|---|---:|---|---|');
  for (const f of figures.filter((x) => x.section !== 'queries' || x.id.endsWith('.failed'))) {
    out.push(`| ${f.section} | ${esc(f.label)} | ${num(f.value)} ${f.unit} | ${status(f)} | ${esc(f.note ?? '')} |`);
  }
  return out.join('\n');
}
