/**
 * `npm run console`: the operator console alone, against any AWS: the embedded AWS of a running `npm start`,
 * another endpoint, or a real account with the operator's own credentials. Listens on 127.0.0.1 only.
 *
 * ```sh
 * npm run console -- --endpoint http://127.0.0.1:4566                # the embedded AWS (npm start's)
 * npm run console -- --profile ops-readonly --region eu-west-2       # a real account, read-only
 * npm run console -- --profile ops --region eu-west-2 --enable-actions --port 3002
 * ```
 *
 * Flags: see config.ts (`--help`).
 */
import { buildOpsConsole } from './app.ts';
import { configFromArgs, USAGE } from './config.ts';

/** How long a graceful shutdown may take before the process gives up on stragglers. */
const SHUTDOWN_GRACE_MS = 5_000;

let parsed: ReturnType<typeof configFromArgs>;
try {
  parsed = configFromArgs(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  console.log(USAGE);
  process.exit(0);
}
const { help: _help, ...config } = parsed;

const app = await buildOpsConsole({
  config,
  fastify: { logger: { level: process.env.LOG_LEVEL ?? 'info' }, requestTimeout: 30_000 },
});

let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    const forced = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS);
    forced.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

await app.listen({ port: config.port, host: config.host });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : config.port;
console.log(`
operator console: http://127.0.0.1:${port}/   (API docs: http://127.0.0.1:${port}/docs)
  reading ${app.opsAws.target}; ${config.actionsEnabled ? 'actions ENABLED: stop and redrive are allowed' : 'read-only (--enable-actions to stop or redrive)'}
Ctrl-C stops it.`);
