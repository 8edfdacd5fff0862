/**
 * The operator console's configuration: which AWS it reads (an endpoint such as the embedded AWS, or a real
 * account through the operator's own credentials), whether it may act, and where it listens (loopback only).
 *
 * `npm run console -- [flags]`:
 *
 * | flag | field | default |
 * | --- | --- | --- |
 * | `--endpoint <url>` | awsEndpointUrl | none: AWS's own endpoints |
 * | `--region <region>` | region | AWS_REGION / the profile's; us-east-1 with --endpoint |
 * | `--profile <name>` | profile | AWS_PROFILE / the SDK's default credential chain |
 * | `--port <n>` | port | OPS_PORT, else 3001 |
 * | `--enable-actions` | actionsEnabled | off: read-only |
 *
 * @example
 * const config = configFromArgs(['--endpoint', 'http://127.0.0.1:4566', '--enable-actions']);
 */
import { parseArgs } from 'node:util';
import fp from 'fastify-plugin';
import { z } from 'zod';

/** The console serves its operator's own browser: it never listens beyond this machine. */
export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'] as const;

export const OpsConsoleConfigSchema = z.object({
  awsEndpointUrl: z.url().optional(),
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  /** Stop and redrive; off unless asked for. */
  actionsEnabled: z.boolean().default(false),
  port: z.coerce.number().int().min(0).max(65535).default(3001),
  host: z.enum(LOOPBACK_HOSTS).default('127.0.0.1'),
  /** How often an execution's page refreshes while the execution runs. */
  pollIntervalMs: z.coerce.number().int().min(250).max(60_000).default(1500),
});
export type OpsConsoleConfig = z.infer<typeof OpsConsoleConfigSchema>;
export type OpsConsoleConfigInput = z.input<typeof OpsConsoleConfigSchema>;

export const USAGE = `npm run console -- [--endpoint <url>] [--region <region>] [--profile <name>] [--port <n>] [--enable-actions]

  --endpoint <url>   an AWS-compatible endpoint, e.g. http://127.0.0.1:4566 (the embedded AWS of npm start);
                     omit it for AWS itself
  --region <region>  default: AWS_REGION, or the profile's region; us-east-1 with --endpoint
  --profile <name>   the AWS profile whose credentials to use (default: AWS_PROFILE, or the SDK's default chain)
  --port <n>         default: OPS_PORT, else 3001 (always on 127.0.0.1)
  --enable-actions   allow stopping and redriving executions (read-only without it)`;

/** The configuration from command-line flags, with OPS_PORT as the port's default. Throws on an unknown flag. */
export function configFromArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): OpsConsoleConfig & { help: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      endpoint: { type: 'string' },
      region: { type: 'string' },
      profile: { type: 'string' },
      port: { type: 'string' },
      'enable-actions': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const config = OpsConsoleConfigSchema.parse({
    awsEndpointUrl: values.endpoint,
    region: values.region,
    profile: values.profile,
    actionsEnabled: values['enable-actions'],
    port: values.port ?? blankToUndefined(env.OPS_PORT),
  });
  return { ...config, help: values.help === true };
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

declare module 'fastify' {
  interface FastifyInstance {
    opsConfig: OpsConsoleConfig;
  }
}

export const opsConfigPlugin = fp<{ config: OpsConsoleConfigInput }>(
  async (fastify, options) => {
    fastify.decorate('opsConfig', OpsConsoleConfigSchema.parse(options.config));
  },
  { name: 'ops-config', fastify: '5.x' },
);
