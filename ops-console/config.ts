/**
 * The operator console's configuration: which AWS it reads (an endpoint such as the embedded AWS, or a real
 * account through the operator's own credentials), whether it may act, and where it listens (loopback only);
 * the payments database it reads (its own read-only role's Data API target), who decides, and the alerts topic.
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
 * | `--database-cluster-arn <arn>` | database.resourceArn | OPS_DATABASE_CLUSTER_ARN; none: no payments pages |
 * | `--database-secret-arn <arn>` | database.secretArn | OPS_DATABASE_SECRET_ARN (the console role's secret) |
 * | `--database-name <name>` | database.database | OPS_DATABASE_NAME, else payments |
 * | `--operator <name>` | operator | the OS user's name: who decisions are recorded as taken by |
 * | `--alerts-topic-arn <arn>` | alertsTopicArn | the topic named OnCall, if there is one |
 * | `--alerts-queue-name <name>` | alertsQueueName | ops-console-alerts |
 *
 * @example
 * const config = configFromArgs(['--endpoint', 'http://127.0.0.1:4566', '--enable-actions']);
 */
import { parseArgs } from 'node:util';
import fp from 'fastify-plugin';
import { z } from 'zod';

/** The console serves its operator's own browser: it never listens beyond this machine. */
export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'] as const;

/** The payments database as the console reads it: through the Data API, with its own read-only role's secret. */
export const ConsoleDatabaseSchema = z.object({
  resourceArn: z.string().regex(/^arn:[\w-]+:rds:/, 'must be an RDS cluster ARN'),
  secretArn: z.string().regex(/^arn:[\w-]+:secretsmanager:/, 'must be a Secrets Manager secret ARN'),
  database: z.string().min(1).max(63).default('payments'),
});
export type ConsoleDatabase = z.infer<typeof ConsoleDatabaseSchema>;

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
  /** The payments database; without it the payments, follow-up and decisions pages say so and show nothing. */
  database: ConsoleDatabaseSchema.optional(),
  /** Who the audit trail records as deciding; default: the OS user's name (plugins/services.ts). */
  operator: z.string().trim().min(1).max(200).optional(),
  /** The on-call topic whose alerts the console shows; default: the topic named OnCall, if any. */
  alertsTopicArn: z
    .string()
    .regex(/^arn:[\w-]+:sns:/, 'must be an SNS topic ARN')
    .optional(),
  /** The console's own queue, subscribed to the alerts topic. */
  alertsQueueName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a queue name')
    .default('ops-console-alerts'),
});
export type OpsConsoleConfig = z.infer<typeof OpsConsoleConfigSchema>;
export type OpsConsoleConfigInput = z.input<typeof OpsConsoleConfigSchema>;

export const USAGE = `npm run console -- [--endpoint <url>] [--region <region>] [--profile <name>] [--port <n>] [--enable-actions]
                      [--database-cluster-arn <arn> --database-secret-arn <arn> [--database-name <name>]]
                      [--operator <name>] [--alerts-topic-arn <arn>] [--alerts-queue-name <name>]

  --endpoint <url>   an AWS-compatible endpoint, e.g. http://127.0.0.1:4566 (the embedded AWS of npm start);
                     omit it for AWS itself
  --region <region>  default: AWS_REGION, or the profile's region; us-east-1 with --endpoint
  --profile <name>   the AWS profile whose credentials to use (default: AWS_PROFILE, or the SDK's default chain)
  --port <n>         default: OPS_PORT, else 3001 (always on 127.0.0.1)
  --enable-actions   allow stopping and redriving executions, deciding on open payments and redriving
                     dead-letter queues (read-only without it)

Payments, follow-up and decisions read the payments database through the RDS Data API, as the console's own
read-only role (payments_console: it reads payments, vends, events, follow-ups and decisions, and writes nothing;
a decision is recorded by the execution it is handed to). Without these the payments pages say so:
  --database-cluster-arn <arn>  the Aurora cluster (default: OPS_DATABASE_CLUSTER_ARN)
  --database-secret-arn <arn>   the payments_console role's secret (default: OPS_DATABASE_SECRET_ARN)
  --database-name <name>        default: OPS_DATABASE_NAME, else payments
  --operator <name>             who the audit trail records as deciding (default: your OS user name)

Alerts: at start the console finds the on-call topic (the one named OnCall, or --alerts-topic-arn), creates
its own queue (--alerts-queue-name, default ops-console-alerts) allowing the topic to send to it, subscribes it
and shows what arrives. On AWS that needs sns:ListTopics, sns:Subscribe, sqs:CreateQueue,
sqs:SetQueueAttributes, sqs:GetQueueAttributes, sqs:ReceiveMessage and sqs:DeleteMessage; without them the
Alerts page says why it shows nothing, and the rest works.
  --alerts-topic-arn <arn>      the topic to follow (default: the topic named OnCall)
  --alerts-queue-name <name>    the console's own queue (default: ops-console-alerts)

Deciding also needs states:SendTaskSuccess; redriving a dead-letter queue sqs:StartMessageMoveTask (and
sqs:ListMessageMoveTasks to show how it went); looking at queue messages sqs:ReceiveMessage.`;

/**
 * The configuration from command-line flags, with OPS_PORT and OPS_DATABASE_* as their flags' defaults. Throws on
 * an unknown flag, and on a database cluster without its secret (or the other way round).
 */
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
      'database-cluster-arn': { type: 'string' },
      'database-secret-arn': { type: 'string' },
      'database-name': { type: 'string' },
      operator: { type: 'string' },
      'alerts-topic-arn': { type: 'string' },
      'alerts-queue-name': { type: 'string' },
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
    database: databaseOf({
      resourceArn: values['database-cluster-arn'] ?? blankToUndefined(env.OPS_DATABASE_CLUSTER_ARN),
      secretArn: values['database-secret-arn'] ?? blankToUndefined(env.OPS_DATABASE_SECRET_ARN),
      database: values['database-name'] ?? blankToUndefined(env.OPS_DATABASE_NAME),
    }),
    operator: values.operator,
    alertsTopicArn: values['alerts-topic-arn'],
    alertsQueueName: values['alerts-queue-name'],
  });
  return { ...config, help: values.help === true };
}

/** No database unless a cluster or a secret is named; naming one without the other is refused (by the schema). */
function databaseOf(given: {
  resourceArn: string | undefined;
  secretArn: string | undefined;
  database: string | undefined;
}): z.input<typeof ConsoleDatabaseSchema> | undefined {
  if (given.resourceArn === undefined && given.secretArn === undefined) return undefined;
  return {
    resourceArn: given.resourceArn ?? '',
    secretArn: given.secretArn ?? '',
    ...(given.database === undefined ? {} : { database: given.database }),
  };
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
