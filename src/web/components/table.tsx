import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface Column<R> {
  key: string;
  label: string;
  /** The cell; defaults to the row's field. */
  render?: (row: R) => ComponentChildren;
  /** Sort value; columns without one are not sortable. */
  sort?: (row: R) => number | string;
  numeric?: boolean;
}

/** A table, sortable by clicking a header (again: the other direction), scrollable when narrow. */
export function Table<R>(props: { columns: Column<R>[]; rows: R[]; initialSort?: { key: string; dir: 'asc' | 'desc' }; testId?: string; caption?: string }) {
  const [sort, setSort] = useState(props.initialSort ?? null);
  const col = sort ? props.columns.find((c) => c.key === sort.key) : undefined;
  const rows = col?.sort
    ? [...props.rows].sort((a, b) => {
        const x = col.sort!(a);
        const y = col.sort!(b);
        const c = x < y ? -1 : x > y ? 1 : 0;
        return sort!.dir === 'asc' ? c : -c;
      })
    : props.rows;
  const click = (c: Column<R>) => {
    if (!c.sort) return;
    setSort((s) => (s?.key === c.key ? { key: c.key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key: c.key, dir: c.numeric ? 'desc' : 'asc' }));
  };
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        {props.caption && <caption>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th
                class={`${c.numeric ? 'num' : ''} ${c.sort ? 'sortable' : ''}`}
                aria-sort={sort?.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                onClick={() => click(c)}
                data-key={c.key}
              >
                {c.label}
                {sort?.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              {props.columns.map((c) => (
                <td class={c.numeric ? 'num' : ''} data-key={c.key}>
                  {c.render ? c.render(r) : String((r as Record<string, unknown>)[c.key] ?? '—')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
