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

  it.each([[['--host', '0.0.0.0']], [['--endpoint', 'not a url']], [['--port', 'eighty']], [['stray']]])(
    'refuses %j',
    (args) => {
      expect(() => configFromArgs(args, {})).toThrow();
    },
  );
});
