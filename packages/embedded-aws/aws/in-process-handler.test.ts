/**
 * The in-process request handler against the SDK's own over a socket, on one embedded AWS: the same calls
 * (AWS JSON, the query protocol, REST, and errors of each) must come back with the same status, headers and
 * body, and the SDK must read the same output or error from them. Then what it is for: an event source
 * mapping's poller that reaches SQS without opening a connection to its own server.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import {
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { GetTopicAttributesCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../embedded-aws.ts';
import { received } from '../lambda/fixtures/handlers.ts';
import { packagePath } from '../testing/package-path.ts';
import { InProcessRequestHandler } from './in-process-handler.ts';
import { createAwsServer } from './server.ts';

const HANDLERS = packagePath('lambda/fixtures/handlers.ts');
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const DATABASE = {
  resourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:in-process`,
  secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:in-process-AbCdEf`,
  database: 'postgres',
};

let aws: EmbeddedAws;
let queueUrl: string;
/** TCP connections the embedded AWS's server accepted so far. */
let serverSockets = 0;
const countServerSockets = (message: unknown) => {
  if ((message as { socket: Socket }).socket.localPort === aws?.port) serverSockets += 1;
};

beforeAll(async () => {
  subscribe('net.server.socket', countServerSockets);
  aws = await startEmbeddedAws({
    port: 0,
    dataDir: null,
    functions: [
      { name: 'doubler', handler: `${HANDLERS}#callback` },
      { name: 'consumer', handler: `${HANDLERS}#sqsConsumer` },
    ],
  });
  queueUrl = aws.sqs.createQueue('in-process', {}, {});
  aws.sns.createTopic('in-process');
}, 30_000);

afterAll(async () => {
  await aws?.close();
  unsubscribe('net.server.socket', countServerSockets);
});

interface WireResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type Handler = {
  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }>;
};

/** Passes requests to `handler` and keeps each response as the SDK received it. */
function recording(handler: Handler) {
  const responses: WireResponse[] = [];
  return {
    responses,
    handler: {
      async handle(request: HttpRequest, options?: HttpHandlerOptions) {
        const { response } = await handler.handle(request, options);
        const chunks: Buffer[] = [];
        for await (const chunk of response.body as Readable) chunks.push(Buffer.from(chunk));
        const body = Buffer.concat(chunks);
        responses.push({ statusCode: response.statusCode, headers: response.headers, body: body.toString() });
        return { response: { ...response, body: Readable.from([body], { objectMode: false }) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  };
}

/** The SDK's default request handler (HTTP over a socket), as a client builds it. */
function socketHandler(): Handler {
  return new SQSClient({ region: REGION }).config.requestHandler as Handler;
}

/** What differs between any two answers (a socket's connection, the date, request ids) taken out. */
function comparable(response: WireResponse) {
  const transport = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-amzn-requestid']);
  return {
    statusCode: response.statusCode,
    headers: Object.fromEntries(Object.entries(response.headers).filter(([name]) => !transport.has(name))),
    body: response.body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'),
  };
}

/** What the SDK made of an answer: its output without the request id, or its error. */
async function outcomeOf(call: Promise<{ $metadata: object }>) {
  try {
    const { $metadata, ...output } = await call;
    return { output, httpStatusCode: ($metadata as { httpStatusCode?: number }).httpStatusCode };
  } catch (error) {
    const { name, message, $fault, $metadata } = error as {
      name: string;
      message: string;
      $fault: string;
      $metadata: { httpStatusCode?: number };
    };
    return { error: { name, message, $fault }, httpStatusCode: $metadata.httpStatusCode };
  }
}

/** A client's configuration for calls through the in-process handler. */
function inProcessConfig(region = REGION) {
  return { endpoint: aws.endpoint, region, credentials: CREDENTIALS, requestHandler: aws.requestHandler };
}

type ClientConfig = {
  endpoint: string;
  region: string;
  credentials: typeof CREDENTIALS;
  requestHandler: ReturnType<typeof recording>['handler'];
};

/** One call per protocol and answer kind, each with a client of its own built from `config`. */
const calls: { readonly name: string; call(config: ClientConfig): Promise<{ $metadata: object }> }[] = [
  {
    name: 'AWS JSON 1.0 (SQS GetQueueAttributes)',
    call: (config) =>
      new SQSClient(config).send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
      ),
  },
  {
    name: 'an AWS JSON error (SQS GetQueueUrl of a missing queue)',
    call: (config) => new SQSClient(config).send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })),
  },
  {
    name: 'AWS JSON 1.0 (Step Functions ListStateMachines)',
    call: (config) => new SFNClient(config).send(new ListStateMachinesCommand({})),
  },
  {
    name: 'an AWS JSON error (Step Functions DescribeStateMachine of a bad ARN)',
    call: (config) =>
      new SFNClient(config).send(new DescribeStateMachineCommand({ stateMachineArn: 'not-an-arn' })),
  },
  {
    name: 'the query protocol (SNS ListTopics)',
    call: (config) => new SNSClient(config).send(new ListTopicsCommand({})),
  },
  {
    name: 'a query protocol error (SNS GetTopicAttributes of a missing topic)',
    call: (config) =>
      new SNSClient(config).send(
        new GetTopicAttributesCommand({ TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:no-such-topic` }),
      ),
  },
  {
    name: 'REST (Lambda Invoke)',
    call: (config) =>
      new LambdaClient(config).send(
        new InvokeCommand({ FunctionName: 'doubler', Payload: JSON.stringify({ value: 21 }) }),
      ),
  },
  {
    name: 'a REST error (Lambda Invoke of a missing function)',
    call: (config) => new LambdaClient(config).send(new InvokeCommand({ FunctionName: 'no-such-function' })),
  },
  {
    name: 'REST JSON (Data API ExecuteStatement)',
    call: (config) =>
      new RDSDataClient(config).send(
        new ExecuteStatementCommand({ ...DATABASE, sql: "SELECT 42 AS answer, 'forty-two' AS words" }),
      ),
  },
  {
    name: 'a REST JSON error (Data API ExecuteStatement of bad SQL)',
    call: (config) =>
      new RDSDataClient(config).send(new ExecuteStatementCommand({ ...DATABASE, sql: 'SELEC 1' })),
  },
];

describe('InProcessRequestHandler', () => {
  it.each(calls)('answers $name as the socket does', async ({ call }) => {
    // Prepare
    const overSocket = recording(socketHandler());
    const inProcess = recording(aws.requestHandler);
    const config = (recorder: ReturnType<typeof recording>): ClientConfig => ({
      endpoint: aws.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      requestHandler: recorder.handler,
    });

    // Act
    const socketOutcome = await outcomeOf(call(config(overSocket)));
    const inProcessOutcome = await outcomeOf(call(config(inProcess)));

    // Assess
    expect(inProcessOutcome).toEqual(socketOutcome);
    expect(inProcess.responses.map(comparable)).toEqual(overSocket.responses.map(comparable));
    expect(inProcess.responses.length).toBeGreaterThan(0);
  });

  it('reaches the server signed: the region comes from the SigV4 credential scope', async () => {
    const sfn = new SFNClient(inProcessConfig('eu-west-2'));

    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'signed-in-process',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
        roleArn: `arn:aws:iam::${ACCOUNT}:role/test`,
      }),
    );

    expect(stateMachineArn).toBe(`arn:aws:states:eu-west-2:${ACCOUNT}:stateMachine:signed-in-process`);
  });

  it('gives up a call when its signal aborts, as the default handler does', async () => {
    const sqs = new SQSClient(inProcessConfig());
    const longPoll = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 20 }), {
      abortSignal: AbortSignal.timeout(100),
    });

    await expect(longPoll).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses calls to a server that is not listening, as a socket would', async () => {
    const sqs = new SQSClient({
      endpoint: 'http://127.0.0.1:1',
      region: REGION,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestHandler: new InProcessRequestHandler(createAwsServer({ services: [] })),
    });

    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'any' }))).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});

describe('the event source mappings in the same process as their SQS', () => {
  it('poll and delete without a connection to their own server', async () => {
    // Prepare
    const sqs = new SQSClient(inProcessConfig());
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'polled-in-process' }));
    const socketsBefore = serverSockets;

    // Act
    const { uuid } = await aws.eventSourceMappings.create({
      functionName: 'consumer',
      queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:polled-in-process`,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'polled in-process' }));
    await expect
      .poll(() => received.some((event) => event.Records.some(({ body }) => body === 'polled in-process')))
      .toBe(true);
    await expect
      .poll(async () => {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return Attributes?.ApproximateNumberOfMessagesNotVisible;
      })
      .toBe('0');
    await aws.eventSourceMappings.delete(uuid);

    // Assess
    expect(serverSockets).toBe(socketsBefore);
    // The count does see connections: a client over HTTP opens one.
    const overHttp = new SQSClient({ endpoint: aws.endpoint, region: REGION, credentials: CREDENTIALS });
    await overHttp.send(new GetQueueUrlCommand({ QueueName: 'polled-in-process' }));
    overHttp.destroy();
    expect(serverSockets).toBeGreaterThan(socketsBefore);
  });
});
