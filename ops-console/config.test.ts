/** `npm run console -- …`: the flags an operator passes. */
import { describe, expect, it } from 'vitest';
import { configFromArgs } from './config.ts';

describe('configFromArgs', () => {
  it('is read-only on 127.0.0.1:3001 against AWS itself unless told otherwise', () => {
    expect(configFromArgs([], {})).toEqual({
      actionsEnabled: false,
      port: 3001,
      host: '127.0.0.1',
      pollIntervalMs: 1500,
      alertsQueueName: 'ops-console-alerts',
      help: false,
    });
  });

  it('takes an endpoint, a region, a profile, a port and --enable-actions', () => {
    const config = configFromArgs(
      [
        '--endpoint',
        'http://127.0.0.1:4566',
        '--region',
        'eu-west-2',
        '--profile',
        'ops',
        '--port',
        '3002',
        '--enable-actions',
      ],
      {},
    );
    expect(config).toMatchObject({
      awsEndpointUrl: 'http://127.0.0.1:4566',
      region: 'eu-west-2',
      profile: 'ops',
      port: 3002,
      actionsEnabled: true,
      host: '127.0.0.1',
    });
  });

  it('takes OPS_PORT when no --port is given', () => {
    expect(configFromArgs([], { OPS_PORT: '3005' }).port).toBe(3005);
  });

  it('takes the payments database, the operator and the alerts topic', () => {
    const config = configFromArgs(
      [
        '--database-cluster-arn',
        'arn:aws:rds:eu-west-2:123456789012:cluster:payments',
        '--database-secret-arn',
        'arn:aws:secretsmanager:eu-west-2:123456789012:secret:payments_console-AbCdEf',
        '--operator',
        'alice@example.com',
        '--alerts-topic-arn',
        'arn:aws:sns:eu-west-2:123456789012:OnCall',
        '--alerts-queue-name',
        'ops-console-alerts-alice',
      ],
      {},
    );
    expect(config).toMatchObject({
      database: {
        resourceArn: 'arn:aws:rds:eu-west-2:123456789012:cluster:payments',
        secretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:payments_console-AbCdEf',
        database: 'payments',
      },
      operator: 'alice@example.com',
      alertsTopicArn: 'arn:aws:sns:eu-west-2:123456789012:OnCall',
      alertsQueueName: 'ops-console-alerts-alice',
    });
  });

  it('takes the database from OPS_DATABASE_* when no flag names it', () => {
    const config = configFromArgs(['--database-name', 'payments_staging'], {
      OPS_DATABASE_CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:payments',
      OPS_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments_console-AbCdEf',
      OPS_DATABASE_NAME: 'ignored: the flag wins',
    });
    expect(config.database).toEqual({
      resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:payments',
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments_console-AbCdEf',
      database: 'payments_staging',
    });
  });

  it.each([
    [['--host', '0.0.0.0']],
    [['--endpoint', 'not a url']],
    [['--port', 'eighty']],
    [['stray']],
    [['--database-cluster-arn', 'arn:aws:rds:us-east-1:000000000000:cluster:payments']],
    [['--database-secret-arn', 'arn:aws:secretsmanager:us-east-1:000000000000:secret:s-AbCdEf']],
    [['--database-cluster-arn', 'payments', '--database-secret-arn', 'secret']],
    [['--operator', '  ']],
    [['--alerts-topic-arn', 'OnCall']],
  ])('refuses %j', (args) => {
    expect(() => configFromArgs(args, {})).toThrow();
  });
});
