# The front-end (frontend-api/server.ts) as a container for ECS Fargate.
#
# build:        installs everything and bundles the front-end's own TypeScript into one ESM file with
#               esbuild; its npm dependencies stay external (some, like @fastify/swagger-ui, read files
#               from their package folders at run time).
# dependencies: production dependencies only (no tsx, no esbuild, no test tools, no embedded AWS).
# runtime:      node + those dependencies + the bundle, run as the unprivileged `node` user.
#
# Build: docker build -t payment-to-vend-frontend .   Run: docker run -p 3000:3000 -e STATE_MACHINE_ARN=… …

# Node 24 LTS, as the Lambdas run (Node 20 reached end of life in April 2026; 24 is supported until April 2028).
# The major version only, so every build takes Node 24's latest security release.
ARG NODE_IMAGE=public.ecr.aws/docker/library/node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The workspaces' package.json files too: npm ci checks the lock file against every workspace.
COPY package.json package-lock.json ./
COPY packages/embedded-aws/package.json ./packages/embedded-aws/
COPY packages/postgres-lexer/package.json ./packages/postgres-lexer/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx esbuild frontend-api/server.ts --bundle --platform=node --format=esm --target=node24 \
      --packages=external --minify --sourcemap --outfile=dist/frontend-api/server.mjs \
 && cp -R frontend-api/public dist/frontend-api/public

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/embedded-aws/package.json ./packages/embedded-aws/
COPY packages/postgres-lexer/package.json ./packages/postgres-lexer/
# --workspaces=false: the root's production dependencies only, not the embedded AWS's (PGlite and the rest).
RUN npm ci --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
# server.mjs finds its static files at ./public beside it (new URL('./public/', import.meta.url)).
COPY --from=build /app/dist/frontend-api ./frontend-api
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "frontend-api/server.mjs"]
