/**
 * A child process for crash tests: the embedded AWS on a given data directory, with a small in-process
 * "echo" Lambda, printing `ready <endpoint>` when it listens. Tests kill it with SIGKILL and start it again.
 *
 * Usage: node --import tsx packages/embedded-aws/testing/embedded-aws-process.ts <dataDir>
 */
import { startEmbeddedAws } from '../embedded-aws.ts';
import { InProcessIntegrations } from '../stepfunctions/integrations.ts';
import { StatesError } from '../stepfunctions/language/states-error.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: embedded-aws-process.ts <dataDir>');

/** Counts calls per payload id, so a test can make the first N calls fail. */
const calls = new Map<string, number>();

const integrations = new InProcessIntegrations().handle(
  'arn:aws:states:::lambda:invoke',
  ({ parameters }) => {
    const payload = ((parameters as { Payload?: { id?: string; failTimes?: number } }).Payload ?? {}) as {
      id?: string;
      failTimes?: number;
    };
    const id = payload.id ?? '';
    const count = (calls.get(id) ?? 0) + 1;
    calls.set(id, count);
    if (count <= (payload.failTimes ?? 0)) throw new StatesError('Flaky', `call ${count} of ${id} failed`);
    return { Payload: payload, StatusCode: 200 };
  },
);

const aws = await startEmbeddedAws({ port: 0, dataDir, integrations });
process.stdout.write(`ready ${aws.endpoint}\n`);
