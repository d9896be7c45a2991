import { serverPostgresAvailable, type PgMode } from './engine.js';

/**
 * The Postgres modes a route test file runs in: embedded PGlite always, the real Postgres when
 * it answers. Outside CI an unreachable server skips that mode (reported as skipped, not
 * hidden); in CI serverPostgresAvailable throws, so the file fails instead.
 * Use with top-level await: `describe.each(await pgModes())('… (%s)', (mode, skip) => …)`.
 */
export async function pgModes(): Promise<[PgMode, boolean][]> {
  return [
    ['embedded', false],
    ['server', !(await serverPostgresAvailable())],
  ];
}
