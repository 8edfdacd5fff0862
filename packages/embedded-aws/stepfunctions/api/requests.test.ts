import { describe, expect, it } from 'vitest';
import { parseRequest, type StepFunctionsAction } from './requests.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:pay';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:pay:run-1';
const ROLE = 'arn:aws:iam::123456789012:role/pay';
const DEFINITION = '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}';

function refusalOf(action: StepFunctionsAction, input: unknown): { name: string; message: string } {
  try {
    parseRequest(action, input);
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected the request to be refused');
}

describe('parseRequest accepts', () => {
  it('a full StartExecution and returns it typed', () => {
    // Prepare
    const input = { stateMachineArn: MACHINE, name: 'run-1', input: '{"a":1}', traceHeader: 'Root=1-abc' };

    // Act
    const request = parseRequest('StartExecution', input);

    // Assess
    expect(request).toEqual(input);
  });

  it('JSON nulls as absent members and ignores members it does not know', () => {
    // Act
    const request = parseRequest('StartExecution', { stateMachineArn: MACHINE, name: null, futureMember: 1 });

    // Assess
    expect(request).toEqual({ stateMachineArn: MACHINE });
  });

  it.each<[StepFunctionsAction, Record<string, unknown>]>([
    [
      'CreateStateMachine',
      {
        name: 'pay',
        definition: DEFINITION,
        roleArn: ROLE,
        type: 'EXPRESS',
        loggingConfiguration: { level: 'ALL', includeExecutionData: true, destinations: [] },
        tracingConfiguration: { enabled: false },
        tags: [{ key: 'team', value: '' }],
      },
    ],
    ['UpdateStateMachine', { stateMachineArn: MACHINE, tracingConfiguration: { enabled: true } }],
    ['DescribeStateMachine', { stateMachineArn: `${MACHINE}:prod`, includedData: 'METADATA_ONLY' }],
    ['ListStateMachines', { maxResults: 0 }],
    ['DeleteStateMachine', { stateMachineArn: MACHINE }],
    ['StartSyncExecution', { stateMachineArn: MACHINE }],
    [
      'DescribeExecution',
      { executionArn: `arn:aws:states:us-east-1:123456789012:express:pay:run-1:${'a'.repeat(8)}` },
    ],
    [
      'ListExecutions',
      {
        stateMachineArn: MACHINE,
        statusFilter: 'PENDING_REDRIVE',
        maxResults: 1000,
        redriveFilter: 'REDRIVEN',
      },
    ],
    ['GetExecutionHistory', { executionArn: EXECUTION, reverseOrder: true, includeExecutionData: false }],
    ['StopExecution', { executionArn: EXECUTION, error: '', cause: 'operator' }],
    ['SendTaskSuccess', { taskToken: 'AQtoken', output: '{}' }],
    ['SendTaskFailure', { taskToken: 'AQtoken' }],
    ['SendTaskHeartbeat', { taskToken: 'AQtoken' }],
    ['RedriveExecution', { executionArn: EXECUTION, clientToken: 'retry-1' }],
    [
      'TestState',
      { definition: '{"Type":"Pass"}', inspectionLevel: 'TRACE', mock: { errorOutput: { error: 'E' } } },
    ],
    ['DescribeStateMachineForExecution', { executionArn: EXECUTION }],
  ])('a valid %s', (action, input) => {
    // Act
    const request = parseRequest(action, input);

    // Assess
    expect(request).toEqual(input);
  });
});

describe('parseRequest refuses, as AWS does,', () => {
  it.each<[string, StepFunctionsAction, Record<string, unknown>, string, string]>([
    [
      'a name over 80 characters',
      'StartExecution',
      { stateMachineArn: MACHINE, name: 'n'.repeat(81) },
      'ValidationException',
      `1 validation error detected: Value '${'n'.repeat(81)}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80`,
    ],
    [
      'a missing required member',
      'DescribeExecution',
      {},
      'ValidationException',
      "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null",
    ],
    [
      'several violations at once, counted and joined with semicolons',
      'ListExecutions',
      { stateMachineArn: MACHINE, statusFilter: 'DONE', maxResults: 1001 },
      'ValidationException',
      "2 validation errors detected: Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]; Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    ],
    [
      'an input over 256 KiB of UTF-8, without echoing the sensitive input',
      'StartExecution',
      { stateMachineArn: MACHINE, input: JSON.stringify('é'.repeat(131_072)) },
      'ValidationException',
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
    ],
    [
      'a trace header that is not ASCII',
      'StartExecution',
      { stateMachineArn: MACHINE, traceHeader: 'Root=é' },
      'ValidationException',
      "1 validation error detected: Value 'Root=é' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \\p{ASCII}*",
    ],
    [
      'a bad nested list member, numbered from 1',
      'CreateStateMachine',
      { name: 'pay', definition: DEFINITION, roleArn: ROLE, tags: [{ key: 'ok' }, { key: '' }] },
      'ValidationException',
      "1 validation error detected: Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      'an encryption configuration without its required type',
      'CreateStateMachine',
      { name: 'pay', definition: DEFINITION, roleArn: ROLE, encryptionConfiguration: {} },
      'ValidationException',
      "1 validation error detected: Value null at 'encryptionConfiguration.type' failed to satisfy constraint: Member must not be null",
    ],
    [
      'a member of the wrong JSON type',
      'StartExecution',
      { stateMachineArn: 42 },
      'SerializationException',
      "Unexpected number at 'stateMachineArn', expected string",
    ],
    [
      'a name with a space',
      'StartExecution',
      { stateMachineArn: MACHINE, name: 'run 1' },
      'InvalidName',
      "Invalid Name: 'run 1'",
    ],
    [
      'a state machine name with a slash',
      'CreateStateMachine',
      { name: 'a/b', definition: DEFINITION, roleArn: ROLE },
      'InvalidName',
      "Invalid Name: 'a/b'",
    ],
    [
      'something that is not an ARN',
      'DescribeStateMachine',
      { stateMachineArn: 'pay' },
      'InvalidArn',
      "Invalid Arn: 'Invalid ARN prefix: pay'",
    ],
    [
      'a state machine ARN where an execution ARN belongs',
      'DescribeExecution',
      { executionArn: MACHINE },
      'InvalidArn',
      "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
    ],
    [
      'an execution ARN where a state machine ARN belongs',
      'StartExecution',
      { stateMachineArn: EXECUTION },
      'InvalidArn',
      "Invalid Arn: 'Resource type not valid in this context: execution'",
    ],
    [
      'execution input that is not JSON',
      'StartExecution',
      { stateMachineArn: MACHINE, input: '{"a":' },
      'InvalidExecutionInput',
      'Invalid State Machine Execution Input: ',
    ],
    [
      'an UpdateStateMachine that updates nothing',
      'UpdateStateMachine',
      { stateMachineArn: MACHINE },
      'MissingRequiredParameter',
      'must be specified',
    ],
  ])('%s', (_case, action, input, name, message) => {
    // Act
    const refusal = refusalOf(action, input);

    // Assess
    expect(refusal.name).toBe(name);
    expect(refusal.message).toContain(message);
  });

  it('checks the model constraints before the ARN and the name', () => {
    // Act
    const refusal = refusalOf('StartExecution', { stateMachineArn: 'pay', name: 'a b', traceHeader: 'é' });

    // Assess
    expect(refusal.name).toBe('ValidationException');
  });
});
