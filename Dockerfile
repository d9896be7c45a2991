# tallyhouse in server mode (see docker-compose.yml): ClickHouse, Postgres and Redis are
# separate services reached through CLICKHOUSE_URL, DATABASE_URL and REDIS_URL. Run without
# those variables, the same image falls back to the embedded stores under /data.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a source change does not reinstall them. tsx is a runtime dependency:
# the TypeScript sources run as they are, no build step.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

RUN mkdir -p /data && chown node:node /data
USER node

ENV HOST=0.0.0.0 \
    PORT=8787 \
    TALLYHOUSE_DATA_DIR=/data
EXPOSE 8787
VOLUME ["/data"]

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The same as `npx tsx src/cli/main.ts serve`, but one process: `docker stop`'s SIGTERM reaches
# the engine itself, which closes its stores and exits 0 (through npx, a `sh -c` in between
# would swallow it).
CMD ["node", "--import", "tsx", "src/cli/main.ts", "serve"]
