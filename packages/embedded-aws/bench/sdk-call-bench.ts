/**
 * What one AWS SDK call costs a process that talks to the embedded AWS, split into its parts: the SDK client
 * alone (serializing, SigV4 signing, its middleware and parsing the answer, against a request handler that
 * answers at once with a fixed response), the same call answered by the embedded AWS in-process
 * (`aws.requestHandler`), and over HTTP to its endpoint (keep-alive). For the Data API, the same statement
 * sent straight to the database (`DataApiDatabase.executeStatement`, no SDK) says what PostgreSQL's part is.
 *
 * Multiplied by the calls a payment makes (`npm run bench:e2e` counts them by operation), these give the part
 * of a payment's CPU that the SDK costs, which no change of ours inside the system can remove while the task
 * code stays the code that runs on AWS.
 *
 * BENCH_CALLS calls per turn (default 2000), one at a time; BENCH_ROUNDS rounds (default 3) with the ways
 * taking turns. Prints µs of CPU and wall per call, the median of the rounds.
 *
 * @example
 * node --import tsx packages/embedded-aws/bench/sdk-call-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { HttpRequest } from '@smithy/types';
import { startEmbeddedAws } from '../embedded-aws.ts';
import { takeTurns, timed } from './taking-turns.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:bench';
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-AbCdEf';

/** A request handler that answers every request at once with `body`: what the SDK costs without a server. */
function answeringWith(body: string, contentType: string) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(_request: HttpRequest) {
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': contentType, 'x-amzn-requestid': 'bench' },
          body: Readable.from([Buffer.from(body)]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'sdk-call-bench-'));
const aws = await startEmbeddedAws({ port: 0, dataDir: join(dir, 'aws') });
const database = await aws.dataApi();
await database.executeStatement({ sql: 'CREATE TABLE bench (id int PRIMARY KEY, note text)' });
await database.executeStatement({ sql: "INSERT INTO bench VALUES (1, 'one')" });
const queueUrl = { QueueUrl: aws.sqs.createQueue('bench', {}, {}) };

/** A client's configuration: the endpoint over HTTP, or `requestHandler` in its place. */
const configWith = (requestHandler?: unknown) => ({
  region: REGION,
  credentials,
  endpoint: aws.endpoint,
  ...(requestHandler === undefined ? {} : { requestHandler: requestHandler as never }),
});

const select = {
  resourceArn: CLUSTER,
  secretArn: SECRET,
  sql: 'SELECT id, note FROM bench WHERE id = :id',
  parameters: [{ name: 'id', value: { longValue: 1 } }],
};
const selectAnswer = JSON.stringify({
  records: [[{ longValue: 1 }, { stringValue: 'one' }]],
  numberOfRecordsUpdated: 0,
});

const ways: { name: string; call: () => Promise<unknown> }[] = [];
{
  const stub = new SQSClient(
    configWith(answeringWith(JSON.stringify(queueUrl), 'application/x-amz-json-1.0')),
  );
  const inProcess = new SQSClient(configWith(aws.requestHandler));
  const http = new SQSClient(configWith());
  const command = () => new GetQueueUrlCommand({ QueueName: 'bench' });
  ways.push(
    { name: 'SQS GetQueueUrl, SDK client alone (answered at once)', call: () => stub.send(command()) },
    { name: 'SQS GetQueueUrl, embedded AWS in-process', call: () => inProcess.send(command()) },
    { name: 'SQS GetQueueUrl, embedded AWS over HTTP', call: () => http.send(command()) },
  );
}
{
  const stub = new RDSDataClient(configWith(answeringWith(selectAnswer, 'application/json')));
  const inProcess = new RDSDataClient(configWith(aws.requestHandler));
  const http = new RDSDataClient(configWith());
  ways.push(
    {
      name: 'Data API ExecuteStatement (SELECT by key), SDK client alone',
      call: () => stub.send(new ExecuteStatementCommand(select)),
    },
    {
      name: 'Data API ExecuteStatement (SELECT by key), embedded AWS in-process',
      call: () => inProcess.send(new ExecuteStatementCommand(select)),
    },
    {
      name: 'Data API ExecuteStatement (SELECT by key), embedded AWS over HTTP',
      call: () => http.send(new ExecuteStatementCommand(select)),
    },
    {
      name: 'the same SELECT straight to the database (no SDK, no HTTP)',
      call: () => database.executeStatement(select),
    },
  );
}

// One warm-up turn each (JIT, the SDK's lazy loading, keep-alive connections), not counted.
for (const way of ways) {
  for (let i = 0; i < 200; i += 1) await way.call();
}
console.log(
  `${CALLS} calls per turn, one at a time, ${ROUNDS} rounds; ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`,
);
await takeTurns(
  ways.map(({ name, call }) => ({ name, turn: () => timed(CALLS, call) })),
  { rounds: ROUNDS, unit: 'µs', per: 'call', heading: 'call' },
);
await aws.close();
rmSync(dir, { recursive: true, force: true });
