import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  ConflictException as SdkConflictException,
  ExecutionDoesNotExist as SdkExecutionDoesNotExist,
  InvalidArn as SdkInvalidArn,
  ResourceNotFound as SdkResourceNotFound,
  ValidationException as SdkValidationException,
  SFNClient,
  type SFNServiceException,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictException,
  ExecutionDoesNotExist,
  InvalidArn,
  ResourceNotFound,
} from '../stepfunctions/api/errors.ts';
import { AwsError, ValidationException } from './errors.ts';
import {
  createAwsServer,
  type JsonProtocolService,
  type RequestContext,
  type RestJsonRoute,
} from './server.ts';

type Handler = (input: unknown, context: RequestContext) => Promise<unknown>;

interface Harness {
  endpoint: string;
  port: number;
  logs: Record<string, unknown>[];
  /** What the fake Step Functions does per action; tests replace entries. */
  actions: Record<string, Handler>;
  close(): Promise<void>;
}

async function startHarness(
  options: { maxBodyBytes?: number; routes?: RestJsonRoute[] } = {},
): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const actions: Record<string, Handler> = {};
  const stepFunctions: JsonProtocolService = {
    targetPrefix: 'AWSStepFunctions',
    get actions() {
      return Object.keys(actions);
    },
    handle: (action, input, context) => actions[action]!(input, context),
  };
  const server = createAwsServer({
    services: [stepFunctions],
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    accountId: '123456789012',
    logger: (entry) => logs.push(entry),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    logs,
    actions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sfnClient(endpoint: string, region = 'us-east-1'): SFNClient {
  return new SFNClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    disableHostPrefix: true,
    maxAttempts: 1,
  });
}

function post(endpoint: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'AWSStepFunctions.StartExecution',
      ...headers,
    },
    body,
  });
}

async function errorOf(promise: Promise<unknown>): Promise<SFNServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as SFNServiceException;
  }
  throw new Error('expected the call to fail');
}

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:pay';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:pay:run-1';

let harness: Harness;
beforeEach(async () => {
  harness = await startHarness();
});
afterEach(async () => {
  await harness.close();
});

describe('createAwsServer, seen through the real SDK client', () => {
  it('passes the action, the input and the caller context to the service', async () => {
    // Prepare
    let seen: { input: unknown; context: RequestContext } | undefined;
    harness.actions.StartExecution = async (input, context) => {
      seen = { input, context };
      return { executionArn: EXECUTION, startDate: new Date() };
    };
    const sfn = sfnClient(harness.endpoint, 'eu-west-2');

    // Act
    const output = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, input: '{"a":1}' }));

    // Assess
    expect(output.executionArn).toBe(EXECUTION);
    expect(seen?.input).toEqual({ stateMachineArn: MACHINE, input: '{"a":1}' });
    expect(seen?.context.region).toBe('eu-west-2');
    expect(seen?.context.accountId).toBe('123456789012');
    expect(seen?.context.requestId).toBe(output.$metadata.requestId);
  });

  it('sends Dates as epoch seconds, keeping milliseconds, so the SDK reads back the same instants', async () => {
    // Prepare
    const start = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const stop = new Date(start.getTime() + 1500);
    harness.actions.ListExecutions = async () => ({
      executions: [
        {
          executionArn: EXECUTION,
          stateMachineArn: MACHINE,
          name: 'run-1',
          status: 'SUCCEEDED',
          startDate: start,
          stopDate: stop,
        },
      ],
    });

    // Act
    const output = await sfnClient(harness.endpoint).send(
      new ListExecutionsCommand({ stateMachineArn: MACHINE }),
    );

    // Assess
    const [execution] = output.executions ?? [];
    expect(execution?.startDate).toEqual(start);
    expect(execution?.stopDate).toEqual(stop);
  });

  it.each([
    ['InvalidArn', () => new InvalidArn("Invalid Arn: 'Invalid ARN prefix: abc'"), SdkInvalidArn, 400],
    [
      'ExecutionDoesNotExist',
      () => new ExecutionDoesNotExist(`Execution Does Not Exist: '${EXECUTION}'`),
      SdkExecutionDoesNotExist,
      400,
    ],
    ['ConflictException', () => new ConflictException('busy'), SdkConflictException, 409],
    ['ResourceNotFound', () => new ResourceNotFound('Resource not found', MACHINE), SdkResourceNotFound, 404],
    [
      'ValidationException',
      () =>
        new ValidationException('1 validation error detected: x', { reason: 'MISSING_REQUIRED_PARAMETER' }),
      SdkValidationException,
      400,
    ],
  ] as const)(
    'turns a thrown %s into the SDK exception class of that name',
    async (name, thrown, sdkClass, status) => {
      // Prepare
      const error = thrown();
      harness.actions.DescribeExecution = async () => {
        throw error;
      };

      // Act
      const caught = await errorOf(
        sfnClient(harness.endpoint).send(new DescribeExecutionCommand({ executionArn: EXECUTION })),
      );

      // Assess
      expect(caught).toBeInstanceOf(sdkClass);
      expect(caught.name).toBe(name);
      expect(caught.message).toBe(error.message);
      expect(caught.$fault).toBe('client');
      expect(caught.$metadata.httpStatusCode).toBe(status);
    },
  );

  it('passes an error shape’s extra members through, such as ValidationException’s reason', async () => {
    // Prepare
    harness.actions.DescribeExecution = async () => {
      throw new ValidationException('labeled ARNs are not supported', {
        reason: 'API_DOES_NOT_SUPPORT_LABELED_ARNS',
      });
    };

    // Act
    const caught = await errorOf(
      sfnClient(harness.endpoint).send(new DescribeExecutionCommand({ executionArn: EXECUTION })),
    );

    // Assess
    expect((caught as SdkValidationException).reason).toBe('API_DOES_NOT_SUPPORT_LABELED_ARNS');
  });

  it('answers a handler’s own bug with a generic 500 InternalFailure and logs the real error', async () => {
    // Prepare
    harness.actions.DescribeExecution = async () => {
      throw new TypeError('secret internals: cannot read x of undefined');
    };

    // Act
    const caught = await errorOf(
      sfnClient(harness.endpoint).send(new DescribeExecutionCommand({ executionArn: EXECUTION })),
    );

    // Assess
    expect(caught.name).toBe('InternalFailure');
    expect(caught.$fault).toBe('server');
    expect(caught.$metadata.httpStatusCode).toBe(500);
    expect(caught.message).not.toContain('secret');
    const logged = harness.logs.find((entry) => entry.status === 500);
    expect(logged?.level).toBe('error');
    expect(String(logged?.error)).toContain('secret internals');
  });

  it('refuses an action the service does not offer with UnknownOperationException', async () => {
    // Prepare
    harness.actions.StartExecution = async () => ({});

    // Act
    const caught = await errorOf(
      sfnClient(harness.endpoint).send(new StartSyncExecutionCommand({ stateMachineArn: MACHINE })),
    );

    // Assess
    expect(caught.name).toBe('UnknownOperationException');
    expect(caught.$metadata.httpStatusCode).toBe(400);
  });
});

describe('createAwsServer, on the wire', () => {
  it('answers in JSON 1.0 with a request id, and in JSON 1.1 when asked in 1.1', async () => {
    // Prepare
    harness.actions.StartExecution = async () => ({ executionArn: EXECUTION });

    // Act
    const json10 = await post(harness.endpoint, '{}');
    const json11 = await post(harness.endpoint, '{}', { 'Content-Type': 'application/x-amz-json-1.1' });

    // Assess
    expect(json10.status).toBe(200);
    expect(json10.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(json10.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await json10.json()).toEqual({ executionArn: EXECUTION });
    expect(json11.headers.get('content-type')).toBe('application/x-amz-json-1.1');
  });

  it('writes fractional epoch seconds for Dates and drops undefined members', async () => {
    // Prepare
    harness.actions.StartExecution = async () => ({
      startDate: new Date(1_700_000_000_123),
      nested: [{ at: new Date(1_700_000_001_000), gone: undefined }],
    });

    // Act
    const response = await post(harness.endpoint, '{}');

    // Assess
    expect(await response.text()).toBe('{"startDate":1700000000.123,"nested":[{"at":1700000001}]}');
  });

  it.each([
    [
      'malformed JSON',
      'POST',
      { 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      '{"a":',
      400,
      'SerializationException',
    ],
    [
      'a JSON array',
      'POST',
      { 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      '[1,2]',
      400,
      'SerializationException',
    ],
    [
      'a JSON string',
      'POST',
      { 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      '"hi"',
      400,
      'SerializationException',
    ],
    [
      'binary garbage',
      'POST',
      { 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      '\u0000\u00ff\u0001{',
      400,
      'SerializationException',
    ],
    ['no X-Amz-Target', 'POST', {}, '{}', 400, 'UnknownOperationException'],
    [
      'an unknown service prefix',
      'POST',
      { 'X-Amz-Target': 'DynamoDB_20120810.GetItem' },
      '{}',
      400,
      'UnknownOperationException',
    ],
    [
      'an unknown action',
      'POST',
      { 'X-Amz-Target': 'AWSStepFunctions.Frobnicate' },
      '{}',
      400,
      'UnknownOperationException',
    ],
    [
      'a target without an action',
      'POST',
      { 'X-Amz-Target': 'AWSStepFunctions' },
      '{}',
      400,
      'UnknownOperationException',
    ],
    [
      'GET with a target',
      'GET',
      { 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      undefined,
      405,
      'MalformedHttpRequestException',
    ],
    ['GET on an unknown path', 'GET', {}, undefined, 404, 'UnknownOperationException'],
  ] as const)('refuses %s with an AWS-shaped error', async (_case, method, headers, body, status, type) => {
    // Prepare
    harness.actions.StartExecution = async () => ({});

    // Act
    const response = await fetch(`${harness.endpoint}/`, {
      method,
      headers: { 'Content-Type': 'application/x-amz-json-1.0', ...headers },
      ...(body === undefined ? {} : { body }),
    });

    // Assess
    expect(response.status).toBe(status);
    expect(response.headers.get('x-amzn-requestid')).toBeTruthy();
    const payload = (await response.json()) as { __type: string; message: string };
    expect(payload.__type.split('#').at(-1)).toBe(type);
    expect(typeof payload.message).toBe('string');
  });

  it('keeps the Coral and Step Functions namespaces in __type, as raw AWS responses have them', async () => {
    // Prepare
    harness.actions.StartExecution = async () => {
      throw new InvalidArn("Invalid Arn: 'Invalid ARN prefix: abc'");
    };

    // Act
    const response = await post(harness.endpoint, '{}');

    // Assess
    expect(await response.json()).toEqual({
      __type: 'com.amazonaws.swf.service.v2.model#InvalidArn',
      message: "Invalid Arn: 'Invalid ARN prefix: abc'",
    });
  });

  it('adds the x-amzn-query-error header for errors of query-compatible services', async () => {
    // Prepare
    harness.actions.StartExecution = async () => {
      throw new AwsError('QueueDoesNotExist', 'The specified queue does not exist.', {
        namespace: 'com.amazonaws.sqs',
        queryErrorCode: 'AWS.SimpleQueueService.NonExistentQueue',
      });
    };

    // Act
    const response = await post(harness.endpoint, '{}');

    // Assess
    expect(response.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
  });

  it.each([
    ['declared by Content-Length', false],
    ['sent chunked', true],
  ])('refuses a body over the limit (%s) with 413 and keeps serving', async (_case, chunked) => {
    // Prepare
    await harness.close();
    harness = await startHarness({ maxBodyBytes: 1024 });
    harness.actions.StartExecution = async () => ({ ok: true });
    const big = JSON.stringify({ input: 'x'.repeat(64 * 1024) });
    const body = chunked
      ? new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(big));
            controller.close();
          },
        })
      : big;

    // Act
    const response = await fetch(`${harness.endpoint}/`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': 'AWSStepFunctions.StartExecution',
      },
      body,
      ...(chunked ? { duplex: 'half' } : {}),
    } as RequestInit);
    const after = await post(harness.endpoint, '{}');

    // Assess
    expect(response.status).toBe(413);
    expect(((await response.json()) as { __type: string }).__type).toBe('RequestEntityTooLargeException');
    expect(after.status).toBe(200);
  });

  it('survives a client that hangs up halfway through sending its body', async () => {
    // Prepare
    let calls = 0;
    harness.actions.StartExecution = async () => {
      calls += 1;
      return {};
    };

    // Act
    await new Promise<void>((resolve) => {
      const socket = connect(harness.port, '127.0.0.1', () => {
        socket.write(
          'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.StartExecution\r\nContent-Length: 1000\r\n\r\n{"a":',
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    const after = await post(harness.endpoint, '{}');

    // Assess
    expect(after.status).toBe(200);
    expect(calls).toBe(1);
    expect(harness.logs.some((entry) => entry.status === 499)).toBe(true);
  });

  it('survives a client that hangs up while the handler is still working', async () => {
    // Prepare
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    harness.actions.StartExecution = async () => {
      entered();
      await released;
      return { late: true };
    };
    const abort = new AbortController();

    // Act
    const pending = post(harness.endpoint, '{}', {}).catch(() => 'aborted');
    const abortable = fetch(`${harness.endpoint}/`, {
      method: 'POST',
      headers: { 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      body: '{}',
      signal: abort.signal,
    }).catch(() => 'aborted');
    await handlerEntered;
    abort.abort();
    expect(await abortable).toBe('aborted');
    release();
    const first = await pending;

    // Assess
    expect(first).toBeInstanceOf(Response);
    expect(((await post(harness.endpoint, '{}')) as Response).status).toBe(200);
  });

  it('answers bytes that are not HTTP with 400 and keeps serving', async () => {
    // Prepare
    harness.actions.StartExecution = async () => ({});

    // Act
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(harness.port, '127.0.0.1', () => socket.write('\u0001\u0002 garbage \r\n\r\n'));
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('close', () => resolve(received));
      socket.on('error', () => resolve(received));
    });
    const after = await post(harness.endpoint, '{}');

    // Assess
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(after.status).toBe(200);
  });

  it('survives a logger that throws', async () => {
    // Prepare
    await harness.close();
    const server = createAwsServer({
      services: [{ targetPrefix: 'AWSStepFunctions', handle: async () => ({ ok: 1 }) }],
      logger: () => {
        throw new Error('disk full');
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Act
    const response = await post(endpoint, '{}');

    // Assess
    expect(await response.json()).toEqual({ ok: 1 });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    harness = await startHarness();
  });
});

describe('createAwsServer REST-JSON routes', () => {
  it('routes by method and path, answering plain JSON', async () => {
    // Prepare
    await harness.close();
    let seen: unknown;
    harness = await startHarness({
      routes: [
        {
          method: 'POST',
          path: '/Execute',
          handle: async (input) => {
            seen = input;
            return { numberOfRecordsUpdated: 1, at: new Date(2000) };
          },
        },
      ],
    });

    // Act
    const response = await fetch(`${harness.endpoint}/Execute`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"sql":"select 1"}',
    });
    const wrongMethod = await fetch(`${harness.endpoint}/Execute`, { method: 'GET' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ numberOfRecordsUpdated: 1, at: 2 });
    expect(seen).toEqual({ sql: 'select 1' });
    expect(wrongMethod.status).toBe(405);
  });

  it('tells REST clients the error type in the x-amzn-ErrorType header', async () => {
    // Prepare
    await harness.close();
    harness = await startHarness({
      routes: [
        {
          method: 'POST',
          path: '/Execute',
          handle: async () => {
            throw new AwsError('BadRequestException', 'Database error code: 0', { statusCode: 400 });
          },
        },
      ],
    });

    // Act
    const response = await fetch(`${harness.endpoint}/Execute`, { method: 'POST', body: '{}' });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(((await response.json()) as { message: string }).message).toBe('Database error code: 0');
  });
});
