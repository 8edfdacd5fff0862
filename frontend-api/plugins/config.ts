/**
 * The front-end's configuration, read from the environment once and validated. `buildApp({ config })` may
 * override any field (tests do).
 *
 * | variable | field | default |
 * | --- | --- | --- |
 * | `AWS_ENDPOINT_URL` | awsEndpointUrl | none: the SDK's regional endpoints (locally http://127.0.0.1:4566) |
 * | `AWS_REGION` | region | us-east-1 |
 * | `STATE_MACHINE_ARN` | stateMachineArn | required |
 * | `DATABASE_CLUSTER_ARN`, `DATABASE_SECRET_ARN`, `DATABASE_NAME` | database | required, required, payments |
 * | `ALLOWED_ORIGINS` (comma-separated) | allowedOrigins | http://127.0.0.1:3000,http://localhost:3000 |
 * | `PORT`, `HOST` | port, host | 3000, 127.0.0.1 |
 * | `RATE_LIMIT_MAX` (requests per minute per client) | rateLimitMax | 120 |
 * | `EVENT_POLL_INTERVAL_MS` | eventPollIntervalMs | 150 |
 */
import fp from 'fastify-plugin';
import { z } from 'zod';

export const FrontendConfigSchema = z.object({
  awsEndpointUrl: z.url().optional(),
  region: z.string().min(1).default('us-east-1'),
  stateMachineArn: z.string().startsWith('arn:'),
  database: z.object({
    resourceArn: z.string().startsWith('arn:'),
    secretArn: z.string().startsWith('arn:'),
    database: z.string().min(1).default('payments'),
  }),
  allowedOrigins: z.array(z.string().min(1)).default(['http://127.0.0.1:3000', 'http://localhost:3000']),
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  host: z.string().min(1).default('127.0.0.1'),
  rateLimitMax: z.coerce.number().int().positive().default(120),
  eventPollIntervalMs: z.coerce.number().int().min(10).max(5000).default(150),
});
export type FrontendConfig = z.infer<typeof FrontendConfigSchema>;
export type FrontendConfigInput = z.input<typeof FrontendConfigSchema>;

/**
 * The configuration from `env`.
 *
 * @example
 * const config = configFromEnv({ STATE_MACHINE_ARN: 'arn:...', DATABASE_CLUSTER_ARN: 'arn:...', DATABASE_SECRET_ARN: 'arn:...' });
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FrontendConfig {
  const blankToUndefined = (value: string | undefined) =>
    value === undefined || value === '' ? undefined : value;
  return FrontendConfigSchema.parse({
    awsEndpointUrl: blankToUndefined(env.AWS_ENDPOINT_URL),
    region: blankToUndefined(env.AWS_REGION),
    stateMachineArn: env.STATE_MACHINE_ARN,
    database: {
      resourceArn: env.DATABASE_CLUSTER_ARN,
      secretArn: env.DATABASE_SECRET_ARN,
      database: blankToUndefined(env.DATABASE_NAME),
    },
    allowedOrigins: blankToUndefined(env.ALLOWED_ORIGINS)
      ?.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    port: blankToUndefined(env.PORT),
    host: blankToUndefined(env.HOST),
    rateLimitMax: blankToUndefined(env.RATE_LIMIT_MAX),
    eventPollIntervalMs: blankToUndefined(env.EVENT_POLL_INTERVAL_MS),
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    config: FrontendConfig;
  }
}

export interface ConfigPluginOptions {
  /** Used as is when given; otherwise read from process.env. */
  readonly config?: FrontendConfigInput | undefined;
}

export const configPlugin = fp<ConfigPluginOptions>(
  async (fastify, options) => {
    fastify.decorate(
      'config',
      options.config ? FrontendConfigSchema.parse(options.config) : configFromEnv(process.env),
    );
  },
  { name: 'config', fastify: '5.x' },
);
