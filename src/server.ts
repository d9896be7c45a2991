import { serve, type ServerType } from '@hono/node-server';
import { createApp } from './api/app.js';
import type { Services } from './services.js';

/** How long a shutdown waits for requests in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

export function startServer(services: Services, port = services.config.port, host = services.config.host): Promise<RunningServer> {
  const app = createApp(services);
  return new Promise((resolve, reject) => {
    // Node's defaults give a client 300 s for its request and check only every 30 s: a slow-drip
    // body held a connection (and a handler) that long. Past REQUEST_TIMEOUT_MS Node answers 408.
    const timeoutMs = services.config.http.requestTimeoutMs;
    const serverOptions = {
      requestTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))),
    };
    // Once closing, every answer carries `Connection: close`, so keep-alive clients that stay busy
    // (a producer streaming batches) move off this process instead of holding its shutdown open.
    let closing = false;
    const fetch: typeof app.fetch = async (req, ...rest) => {
      const res = await app.fetch(req, ...rest);
      if (closing) res.headers.set('connection', 'close');
      return res;
    };
    const server = serve({ fetch, port, hostname: host, serverOptions }, (info) => {
      // Embedded mode runs the jobs here (webhooks.deliver sends notifications); with REDIS_URL
      // `tallyhouse worker` does.
      services.jobs.start();
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        server,
        close: async () => {
          closing = true;
          await services.jobs.stop();
          await services.notifications.stop();
          const closed = new Promise<void>((r) => server.close(() => r()));
          // Requests still running after the grace period are cut: a client whose batch was cut
          // got no 202 and retries it (event_id makes that idempotent), so nothing acknowledged is lost.
          const http1 = server as Partial<import('node:http').Server>;
          http1.closeIdleConnections?.();
          const force = setTimeout(() => http1.closeAllConnections?.(), SHUTDOWN_GRACE_MS);
          force.unref();
          await closed;
          clearTimeout(force);
        },
      });
    });
    server.once('error', reject);
  });
}
