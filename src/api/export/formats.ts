import { z } from '@hono/zod-openapi';
import type { ExportFormat } from '../../stores/clickhouse/store.js';
import { errorResponses } from '../errors.js';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson', 'parquet'] as const;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];

export const FORMATS: Record<ExportFormatName, { engine: ExportFormat; contentType: string; extension: string }> = {
  csv: { engine: 'CSVWithNames', contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  json: { engine: 'JSONArray', contentType: 'application/json', extension: 'json' },
  ndjson: { engine: 'JSONEachRow', contentType: 'application/x-ndjson', extension: 'ndjson' },
  parquet: { engine: 'Parquet', contentType: 'application/vnd.apache.parquet', extension: 'parquet' },
};

export const formatParam = z
  .enum(EXPORT_FORMATS, { error: `must be one of: ${EXPORT_FORMATS.join(', ')}` })
  .default('csv')
  .openapi({ description: 'csv (with a header row), json (one array), ndjson (one object per line) or parquet (one file)' });

/** OpenAPI: the 200 of an export in each format, and the shared errors. */
export function exportResponses(description: string) {
  const text = { schema: z.string() };
  return {
    200: {
      description: `${description}. Sent as an attachment (Content-Disposition) and streamed.`,
      content: {
        'text/csv': text,
        'application/json': text,
        'application/x-ndjson': text,
        'application/vnd.apache.parquet': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    ...errorResponses,
  };
}
