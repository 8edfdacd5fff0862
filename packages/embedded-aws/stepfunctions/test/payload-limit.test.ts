/**
 * The 256 KiB payload quota, through whole executions on an embedded AWS and the real `@aws-sdk/client-sfn`.
 *
 * Sources: the developer guide's "Step Functions service quotas" (maximum input or output size for a task,
 * state, or execution: 256 KiB of data as a UTF-8 encoded string), the API reference (every payload member,
 * e.g. StartExecution's `input` and SendTaskSuccess's `output`: "Length constraints apply to the payload size,
 * and are expressed as bytes in UTF-8 encoding", maximum 262144), "Handling errors in Step Functions
 * workflows" (`States.DataLimitExceeded`: a connector's output, or a state's output, larger than the quota),
 * and failures recorded on AWS: the cause is always `The state/task '<name>' returned a result with a size
 * exceeding the maximum number of bytes service limit.`, naming the state (a Parallel, a Map) or, for a
 * Task's own result, the Lambda function's ARN; a Task's oversized result is caught by a Catcher naming
 * `States.DataLimitExceeded` and by one naming `States.ALL` (the guide says States.ALL cannot catch it: we
 * follow the recorded behaviour). A StartExecution over the quota is answered with a ValidationException
 * whose constraint reads `Member must have size less than or equal to 262144 bytes in UTF-8 encoding`.
 */
import { type HistoryEvent, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import { InProcessIntegrations } from '../integrations.ts';

const LIMIT = 262_144;
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const TOKEN_TASK = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
const FUNCTION = 'arn:aws:lambda:us-east-1:000000000000:function:report';

/** The cause AWS gives for a result over the quota. */
function tooLarge(name: string): string {
  return `The state/task '${name}' returned a result with a size exceeding the maximum number of bytes service limit.`;
}

/** The cause given for a state whose input (after Parameters or Arguments) is over the quota: our wording. */
function inputTooLarge(name: string): string {
  return `The state/task '${name}' has an input with a size exceeding the maximum number of bytes service limit.`;
}

/** `Payload: { size }` answers a Payload holding a string of `size` ASCII characters. */
let lastToken: string | undefined;
const integrations = new InProcessIntegrations()
  .handle(LAMBDA_INVOKE, ({ parameters }) => {
    const { size } = (parameters as { Payload: { size: number } }).Payload;
    return { StatusCode: 200, Payload: { report: 'r'.repeat(size) } };
  })
  .handle(TOKEN_TASK, ({ taskToken }) => {
    lastToken = taskToken;
    return { MessageId: 'm-1' };
  });

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

/** A Task calling the function with `size`, then `Catch` (if any) to a Pass named Recover. */
function reportTask(size: number, Catch?: object[]): object {
  return {
    StartAt: 'Report',
    States: {
      Report: {
        Type: 'Task',
        Resource: LAMBDA_INVOKE,
        Parameters: { FunctionName: FUNCTION, Payload: { size } },
        ResultSelector: { 'status.$': '$.StatusCode' },
        ...(Catch ? { Catch } : {}),
        End: true,
      },
      ...(Catch ? { Recover: { Type: 'Pass', End: true } } : {}),
    },
  };
}

function failedEvent(history: readonly HistoryEvent[]): HistoryEvent | undefined {
  return history.find((event) => event.type === 'ExecutionFailed');
}

describe('a state output over 256 KiB', () => {
  it('fails the execution with States.DataLimitExceeded when a Pass produces it', async () => {
    // Prepare: three copies of a 100,000-character string make about 300 KB.
    const definition = {
      StartAt: 'Grow',
      States: {
        Grow: {
          Type: 'Pass',
          Parameters: { 'a.$': '$.text', 'b.$': '$.text', 'c.$': '$.text' },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { text: 't'.repeat(100_000) });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(tooLarge('Grow'));
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
    expect(failedEvent(history)?.executionFailedEventDetails).toEqual({
      error: 'States.DataLimitExceeded',
      cause: tooLarge('Grow'),
    });
  });

  it('counts UTF-8 bytes, not characters: 180,000 two-byte characters are over the quota', async () => {
    // Prepare: two copies of 90,000 'é' are 180,000 characters (under 262,144) but 360,000 bytes.
    const definition = {
      StartAt: 'Twice',
      States: { Twice: { Type: 'Pass', Parameters: { 'a.$': '$.text', 'b.$': '$.text' }, End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, { text: 'é'.repeat(90_000) });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(tooLarge('Twice'));
  });

  it('names a Parallel state in the cause when its result is over the quota', async () => {
    // Prepare: three branches each pass on the 100,000-character input.
    const branch = (name: string) => ({ StartAt: name, States: { [name]: { Type: 'Pass', End: true } } });
    const definition = {
      StartAt: 'Uppers',
      States: { Uppers: { Type: 'Parallel', Branches: [branch('A'), branch('B'), branch('C')], End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, { text: 'u'.repeat(100_000) });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(tooLarge('Uppers'));
  });
});

describe("a Task's result over 256 KiB", () => {
  it('fails the task with States.DataLimitExceeded, and a Catcher naming it goes to its Next', async () => {
    // Prepare
    const definition = reportTask(300_000, [
      { ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.error', Next: 'Recover' },
    ]);

    // Act
    const { execution, history } = await sfn.run(definition, { id: 7 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({
      id: 7,
      error: { Error: 'States.DataLimitExceeded', Cause: tooLarge('lambda') },
    });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.find((event) => event.type === 'TaskFailed')?.taskFailedEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'States.DataLimitExceeded',
      cause: tooLarge('lambda'),
    });
  });

  it('is caught by a Catcher on States.ALL too, as AWS does', async () => {
    // Prepare
    const definition = reportTask(300_000, [{ ErrorEquals: ['States.ALL'], Next: 'Recover' }]);

    // Act
    const { execution } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({
      Error: 'States.DataLimitExceeded',
      Cause: tooLarge('lambda'),
    });
  });

  it('fails the execution when nothing catches it', async () => {
    // Prepare
    const definition = reportTask(300_000, [{ ErrorEquals: ['Report.Other'], Next: 'Recover' }]);

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(eventTypes(history).slice(-2)).toEqual(['TaskFailed', 'ExecutionFailed']);
    expect(failedEvent(history)?.executionFailedEventDetails).toEqual({
      error: 'States.DataLimitExceeded',
      cause: tooLarge('lambda'),
    });
  });

  it('is accepted under the quota (the ResultSelector then keeps the output small)', async () => {
    // Act
    const { execution } = await sfn.run(reportTask(200_000));

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ status: 200 });
  });
});

describe("a Task's Parameters over 256 KiB", () => {
  const definition = (Catch?: object[]) => ({
    StartAt: 'Report',
    States: {
      Report: {
        Type: 'Task',
        Resource: LAMBDA_INVOKE,
        // The input's text twice over: 2 × 140,000 bytes.
        Parameters: { FunctionName: FUNCTION, Payload: { size: 1, 'copy.$': '$.text', 'again.$': '$.text' } },
        ...(Catch ? { Catch } : {}),
        End: true,
      },
      ...(Catch ? { Recover: { Type: 'Pass', End: true } } : {}),
    },
  });
  const input = { text: 't'.repeat(140_000) };

  it('fails the task with States.DataLimitExceeded before it is scheduled', async () => {
    // Act
    const { execution, history } = await sfn.run(definition(), input);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(inputTooLarge('Report'));
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
  });

  it('is caught by a Catcher naming States.DataLimitExceeded', async () => {
    // Act
    const { execution, history } = await sfn.run(
      definition([{ ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.error', Next: 'Recover' }]),
      input,
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!).error).toEqual({
      Error: 'States.DataLimitExceeded',
      Cause: inputTooLarge('Report'),
    });
    expect(eventTypes(history)).not.toContain('TaskScheduled');
  });
});

describe("a Task's Arguments (JSONata) over 256 KiB", () => {
  /** A JSONata Task whose Arguments repeat the input's text `$copies` times (0 on a retry, with `retried`). */
  const definition = (extra: object = {}, retried = false) => ({
    QueryLanguage: 'JSONata',
    StartAt: 'Report',
    States: {
      Report: {
        Type: 'Task',
        Resource: LAMBDA_INVOKE,
        Arguments: {
          FunctionName: FUNCTION,
          Payload: {
            size: 1,
            copies: retried
              ? '{% $states.context.State.RetryCount = 0 ? [$states.input.text, $states.input.text] : [] %}'
              : '{% [$states.input.text, $states.input.text] %}',
          },
        },
        ...extra,
        End: true,
      },
    },
  });
  const input = { text: 't'.repeat(140_000) };

  it('fails the task with States.DataLimitExceeded before it is scheduled', async () => {
    // Act
    const { execution, history } = await sfn.run(definition(), input);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(inputTooLarge('Report'));
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
  });

  it('is retried by a Retrier naming States.DataLimitExceeded: the retry, under the quota, is scheduled', async () => {
    // Prepare: the first attempt's Arguments hold the text twice; the retry's (RetryCount 1) hold none of it.
    const retry = {
      Retry: [{ ErrorEquals: ['States.DataLimitExceeded'], IntervalSeconds: 1, MaxAttempts: 1 }],
    };

    // Act
    const { execution, history } = await sfn.run(definition(retry, true), input);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const scheduled = history.find((event) => event.type === 'TaskScheduled')?.taskScheduledEventDetails;
    expect(JSON.parse(scheduled?.parameters ?? '{}').Payload).toEqual({ size: 1, copies: [] });
  });
});

describe("a Pass state's Parameters over 256 KiB", () => {
  // The quota covers a state's input after Parameters even when ResultPath and OutputPath would leave less.
  const definition = {
    StartAt: 'Shape',
    States: {
      Shape: {
        Type: 'Pass',
        Parameters: { 'copy.$': '$.text', 'again.$': '$.text' },
        ResultPath: '$.shaped',
        OutputPath: '$.id',
        End: true,
      },
    },
  };

  it('fails the execution with States.DataLimitExceeded though its output would be small', async () => {
    // Act
    const { execution, history } = await sfn.run(definition, { id: 7, text: 't'.repeat(140_000) });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(tooLarge('Shape'));
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
  });

  it('passes Parameters of exactly 262,144 bytes', async () => {
    // Prepare: {"copy":"…"} is 11 bytes besides the text.
    const text = 't'.repeat(LIMIT - 11);
    expect(Buffer.byteLength(JSON.stringify({ copy: text }), 'utf8')).toBe(LIMIT);
    const exact = {
      StartAt: 'Shape',
      States: {
        Shape: { Type: 'Pass', Parameters: { 'copy.$': '$.text' }, OutputPath: '$.copy', End: true },
      },
    };

    // Act
    const { execution } = await sfn.run(exact, { text });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe(JSON.stringify(text));
  });
});

describe("a Parallel's Parameters or a Map's ItemSelector over 256 KiB", () => {
  // The input's text twice over: 2 × 140,000 bytes, for each branch or iteration.
  const twice = { 'copy.$': '$.text', 'again.$': '$.text' };
  const input = { text: 't'.repeat(140_000), items: [1, 2] };
  const parallel = (Catch?: object[]) => ({
    StartAt: 'Both',
    States: {
      Both: {
        Type: 'Parallel',
        Parameters: twice,
        Branches: [{ StartAt: 'Echo', States: { Echo: { Type: 'Pass', Result: 'ok', End: true } } }],
        ...(Catch ? { Catch } : {}),
        End: true,
      },
      ...(Catch ? { Recover: { Type: 'Pass', Result: 'recovered', End: true } } : {}),
    },
  });

  it('fails a Parallel with States.DataLimitExceeded before any branch starts', async () => {
    // Act
    const { execution, history } = await sfn.run(parallel(), input);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(inputTooLarge('Both'));
    expect(eventTypes(history)).not.toContain('ParallelStateStarted');
  });

  it("is caught by the Parallel's Catcher naming States.DataLimitExceeded", async () => {
    // Act
    const { execution } = await sfn.run(
      parallel([{ ErrorEquals: ['States.DataLimitExceeded'], Next: 'Recover' }]),
      input,
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toBe('recovered');
  });

  it('fails a Map with States.DataLimitExceeded before any iteration starts', async () => {
    // Act
    const { execution, history } = await sfn.run(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemSelector: twice,
            ItemProcessor: { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } },
            End: true,
          },
        },
      },
      input,
    );

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toBe(inputTooLarge('Each'));
    expect(eventTypes(history)).not.toContain('MapIterationStarted');
  });
});

describe('StartExecution and SendTaskSuccess', () => {
  const echo = { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } };

  it('refuses a 300 KiB input with a ValidationException', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(echo);
    const input = JSON.stringify({ text: 'i'.repeat(300 * 1024) });

    // Act
    const error = await sfn.client.send(new StartExecutionCommand({ stateMachineArn, input })).then(
      () => undefined,
      (caught: Error) => caught,
    );

    // Assess
    expect(error?.name).toBe('ValidationException');
    expect(error?.message).toBe(
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
    );
  });

  it('accepts an input of exactly 262,144 bytes, and a state may pass it on', async () => {
    // Prepare: a JSON string whose text, quotes included, is 262,144 bytes.
    const input = JSON.stringify('x'.repeat(LIMIT - 2));
    expect(Buffer.byteLength(input, 'utf8')).toBe(LIMIT);
    const stateMachineArn = await sfn.createMachine(echo);

    // Act
    const { executionArn } = await sfn.client.send(new StartExecutionCommand({ stateMachineArn, input }));
    const execution = await sfn.waitForEnd(executionArn!);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe(input);
  });

  it('refuses a SendTaskSuccess output over 256 KiB with a ValidationException; the task keeps waiting', async () => {
    // Prepare
    lastToken = undefined;
    const stateMachineArn = await sfn.createMachine({
      StartAt: 'Approve',
      States: {
        Approve: {
          Type: 'Task',
          Resource: TOKEN_TASK,
          Parameters: { QueueUrl: 'q', MessageBody: { 'token.$': '$$.Task.Token' } },
          End: true,
        },
      },
    });
    const { executionArn } = await sfn.client.send(new StartExecutionCommand({ stateMachineArn }));
    while (lastToken === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    const taskToken = lastToken;

    // Act
    const error = await sfn.client
      .send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify('o'.repeat(LIMIT)) }))
      .then(
        () => undefined,
        (caught: Error) => caught,
      );
    await sfn.client.send(new SendTaskSuccessCommand({ taskToken, output: '{"ok":true}' }));
    const execution = await sfn.waitForEnd(executionArn!);

    // Assess
    expect(error?.name).toBe('ValidationException');
    expect(error?.message).toBe(
      "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('{"ok":true}');
  });
});
