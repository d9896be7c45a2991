import { serve, type ServerType } from '@hono/node-server';
import { createApp } from './api/app.js';
import type { Services } from './services.js';

export interface RunningServer {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

export function startServer(services: Services, port = services.config.port, host = services.config.host): Promise<RunningServer> {
  const app = createApp(services);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      // Embedded mode runs the jobs here (webhooks.deliver sends notifications); with REDIS_URL
      // `tallyhouse worker` does.
      services.jobs.start();
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        server,
        close: async () => {
          await services.jobs.stop();
          await services.notifications.stop();
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
    server.once('error', reject);
  });
}
