# syntax=docker/dockerfile:1
# The edxgate gateway image (README, "Running several gateway nodes").
#
#   docker build -t edxgate .
#   docker run -p 8080:8080 -v edxgate-data:/data edxgate                 # one node, embedded database
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://… edxgate          # one of N nodes on Postgres
#
# Two stages: `build` installs every dependency and compiles src/ to dist/ (`npm run build`); the
# runtime stage has production dependencies only, the compiled tree and bin/edxgate.js, which runs
# dist/ when there is no src/ and no tsx (bin/edxgate.js). test/deploy/dockerfile.test.ts checks
# this file without a Docker engine.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# HOST=0.0.0.0: the default 127.0.0.1 keeps a bare `npm start` off the network (src/config/schema.ts);
# a container is reached through its published port, so it listens on every interface.
# DATA_DIR=/data: the embedded database and its payload files (without DATABASE_URL), and the demo
# tokens file written when an empty database is seeded.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# Created (and owned by the unprivileged `node` user of the official image) before VOLUME, so a new
# named volume starts out writable by it. A bind-mounted host folder must be writable by uid 1000.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# No curl in the slim image: node asks /health itself (200 when the database answers, migrations are
# current and the delivery workers run; 503 otherwise, and while the node shuts down).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `npm start` without npm in between: node is PID 1 and gets SIGTERM itself, which drains in-flight
# requests and deliveries for up to SHUTDOWN_TIMEOUT_MS (give `docker stop -t` a little more).
CMD ["node", "bin/edxgate.js", "serve"]
