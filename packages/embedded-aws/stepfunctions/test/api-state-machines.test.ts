/**
 * Conformance of the state machine actions (Create/Update/Describe/List/Delete, DescribeStateMachineForExecution)
 * through the real SFNClient. Sources: the Step Functions API reference (each action's page and its Errors
 * section) and the botocore exception docs; where the wording of a message is not documented, only the
 * error name is asserted.
 */
import {
  CreateStateMachineCommand,
  type CreateStateMachineCommandInput,
  DeleteStateMachineCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
  type StateMachineListItem,
  StopExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedStepFunctions, embeddedStepFunctions } from '../../testing/step-functions.ts';
import { InProcessIntegrations } from '../integrations.ts';

const ROLE = 'arn:aws:iam::000000000000:role/test';
const OTHER_ROLE = 'arn:aws:iam::000000000000:role/other';
const MACHINE_ARN_PREFIX = 'arn:aws:states:us-east-1:000000000000:stateMachine:';
const PASS = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };
const OTHER_PASS = { StartAt: 'B', States: { B: { Type: 'Pass', Result: 'other', End: true } } };
/** A machine that stays RUNNING until its task token is answered (or the execution is stopped). */
const WAITS_FOR_TOKEN = {
  StartAt: 'Wait for callback',
  States: {
    'Wait for callback': {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'callback', Payload: { 'token.$': '$$.Task.Token' } },
      End: true,
    },
  },
};

function createRequest(
  overrides: Partial<CreateStateMachineCommandInput> = {},
): CreateStateMachineCommandInput {
  return { name: 'orders', definition: JSON.stringify(PASS), roleArn: ROLE, ...overrides };
}

/** The rejection of `promise`, for asserting on an AWS error's name, message and status. */
async function rejectionOf(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

let sfn: EmbeddedStepFunctions;

beforeEach(async () => {
  const integrations = new InProcessIntegrations().handle('arn:aws:states:::lambda:invoke', () => ({}));
  sfn = await embeddedStepFunctions({ integrations });
});

afterEach(async () => {
  await sfn.close();
});

describe('CreateStateMachine', () => {
  it('returns the ARN built from region, account and name, and a creation date', async () => {
    // Act
    const created = await sfn.client.send(new CreateStateMachineCommand(createRequest()));

    // Assess
    expect(created.stateMachineArn).toBe(`${MACHINE_ARN_PREFIX}orders`);
    expect(created.creationDate).toBeInstanceOf(Date);
    expect(created.stateMachineVersionArn).toBeUndefined();
  });

  it('is idempotent: the same request again returns the same machine and creation date', async () => {
    // Prepare
    const first = await sfn.client.send(new CreateStateMachineCommand(createRequest()));

    // Act
    const second = await sfn.client.send(new CreateStateMachineCommand(createRequest()));

    // Assess
    expect(second.stateMachineArn).toBe(first.stateMachineArn);
    expect(second.creationDate?.getTime()).toBe(first.creationDate?.getTime());
  });

  it.each([
    ['a different definition', { definition: JSON.stringify(OTHER_PASS) }],
    ['a different type', { type: 'EXPRESS' as const }],
    [
      'a different logging configuration',
      { loggingConfiguration: { level: 'ERROR' as const, includeExecutionData: true } },
    ],
    ['a different tracing configuration', { tracingConfiguration: { enabled: true } }],
  ])('refuses the same name with %s: StateMachineAlreadyExists', async (_, overrides) => {
    // Prepare
    await sfn.client.send(new CreateStateMachineCommand(createRequest()));

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new CreateStateMachineCommand(createRequest(overrides))),
    );

    // Assess
    expect(refusal).toEqual({
      name: 'StateMachineAlreadyExists',
      message: `State Machine Already Exists: '${MACHINE_ARN_PREFIX}orders'`,
      status: 400,
    });
  });

  it('treats a different roleArn as the same request and keeps the original role', async () => {
    // The API reference: "If a following request has a different roleArn or tags, Step Functions will ignore
    // these differences and treat it as an idempotent request of the previous. In this case, roleArn and tags
    // will not be updated, even if they are different."
    // Prepare
    const first = await sfn.client.send(new CreateStateMachineCommand(createRequest()));

    // Act
    const second = await sfn.client.send(
      new CreateStateMachineCommand(createRequest({ roleArn: OTHER_ROLE })),
    );

    // Assess
    expect(second.stateMachineArn).toBe(first.stateMachineArn);
    const described = await sfn.client.send(
      new DescribeStateMachineCommand({ stateMachineArn: first.stateMachineArn }),
    );
    expect(described.roleArn).toBe(ROLE);
  });

  it.each([
    ['white space', 'has space'],
    ['a bracket', 'a<b'],
    ['a wildcard', 'star*'],
    ['a special character', 'semi;colon'],
    ['a slash', 'a/b'],
    ['a control character', 'tab\there'],
  ])('refuses a name with %s: InvalidName', async (_, name) => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new CreateStateMachineCommand(createRequest({ name }))),
    );

    // Assess
    expect(refusal).toEqual({ name: 'InvalidName', message: `Invalid Name: '${name}'`, status: 400 });
  });

  it.each([
    ['empty', '', 'Member must have length greater than or equal to 1'],
    ['81 characters long', 'n'.repeat(81), 'Member must have length less than or equal to 80'],
  ])('refuses a name that is %s: ValidationException', async (_, name, constraint) => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new CreateStateMachineCommand(createRequest({ name }))),
    );

    // Assess
    expect(refusal.name).toBe('ValidationException');
    expect(refusal.message).toBe(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: ${constraint}`,
    );
  });

  it.each([
    [
      'a Next naming no state',
      { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' }, B: { Type: 'Succeed' } } },
      "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next",
    ],
    [
      'a Task without its Resource',
      { StartAt: 'Charge', States: { Charge: { Type: 'Task', End: true } } },
      'SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/Charge',
    ],
  ])('refuses %s: InvalidDefinition naming the state and field', async (_, definition, problem) => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new CreateStateMachineCommand(createRequest({ definition: JSON.stringify(definition) })),
      ),
    );

    // Assess
    expect(refusal.name).toBe('InvalidDefinition');
    expect(refusal.message).toMatch(/^Invalid State Machine Definition: '/);
    expect(refusal.message).toContain(problem);
  });

  it('refuses text that is not JSON: InvalidDefinition with INVALID_JSON_DESCRIPTION', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new CreateStateMachineCommand(createRequest({ definition: '{"StartAt": ' }))),
    );

    // Assess
    expect(refusal.name).toBe('InvalidDefinition');
    expect(refusal.message).toMatch(/^Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: /);
  });

  it('refuses .waitForTaskToken in an EXPRESS machine: InvalidDefinition at the Resource', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new CreateStateMachineCommand(
          createRequest({ type: 'EXPRESS', definition: JSON.stringify(WAITS_FOR_TOKEN) }),
        ),
      ),
    );

    // Assess
    expect(refusal.name).toBe('InvalidDefinition');
    expect(refusal.message).toContain(
      "Express state machine does not support '.waitForTaskToken' service integration",
    );
    expect(refusal.message).toContain('at /States/Wait for callback/Resource');
  });

  it('accepts .waitForTaskToken in a STANDARD machine', async () => {
    // Act
    const created = await sfn.client.send(
      new CreateStateMachineCommand(createRequest({ definition: JSON.stringify(WAITS_FOR_TOKEN) })),
    );

    // Assess
    expect(created.stateMachineArn).toBe(`${MACHINE_ARN_PREFIX}orders`);
  });

  it('refuses a roleArn that is not an ARN: InvalidArn', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new CreateStateMachineCommand(createRequest({ roleArn: 'not-an-arn' }))),
    );

    // Assess
    expect(refusal).toEqual({
      name: 'InvalidArn',
      message: "Invalid Arn: 'Invalid ARN prefix: not-an-arn'",
      status: 400,
    });
  });
});

describe('DescribeStateMachine', () => {
  it('describes the machine with its defaults for logging and tracing', async () => {
    // Prepare
    const created = await sfn.client.send(new CreateStateMachineCommand(createRequest({ type: 'EXPRESS' })));

    // Act
    const described = await sfn.client.send(
      new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }),
    );

    // Assess
    expect(described).toMatchObject({
      stateMachineArn: `${MACHINE_ARN_PREFIX}orders`,
      name: 'orders',
      status: 'ACTIVE',
      definition: JSON.stringify(PASS),
      roleArn: ROLE,
      type: 'EXPRESS',
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    });
    expect(described.creationDate?.getTime()).toBe(created.creationDate?.getTime());
  });

  it.each([
    [
      'no machine has the ARN',
      `${MACHINE_ARN_PREFIX}missing`,
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: '${MACHINE_ARN_PREFIX}missing'`,
    ],
    ['the ARN is not an ARN', 'missing', 'InvalidArn', "Invalid Arn: 'Invalid ARN prefix: missing'"],
    [
      'the ARN names an execution',
      'arn:aws:states:us-east-1:000000000000:execution:orders:run-1',
      'InvalidArn',
      "Invalid Arn: 'Resource type not valid in this context: execution'",
    ],
  ])('refuses when %s', async (_, stateMachineArn, name, message) => {
    // Act
    const refusal = await rejectionOf(sfn.client.send(new DescribeStateMachineCommand({ stateMachineArn })));

    // Assess
    expect(refusal).toEqual({ name, message, status: 400 });
  });
});

describe('UpdateStateMachine', () => {
  it('returns an update date and a new revision id, and the description shows the change', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS);

    // Act
    const updated = await sfn.client.send(
      new UpdateStateMachineCommand({
        stateMachineArn,
        definition: JSON.stringify(OTHER_PASS),
        roleArn: OTHER_ROLE,
      }),
    );

    // Assess
    expect(updated.updateDate).toBeInstanceOf(Date);
    expect(updated.revisionId).toEqual(expect.any(String));
    const described = await sfn.client.send(new DescribeStateMachineCommand({ stateMachineArn }));
    expect(described).toMatchObject({
      definition: JSON.stringify(OTHER_PASS),
      roleArn: OTHER_ROLE,
      revisionId: updated.revisionId,
    });
  });

  it('lets running executions finish on the old definition while new executions get the new one', async () => {
    // Prepare: an execution parks on a task token under the first definition
    const tokens: string[] = [];
    sfn.integrations.handle('arn:aws:states:::lambda:invoke', (task) => {
      if (task.taskToken) tokens.push(task.taskToken);
      return {};
    });
    const stateMachineArn = await sfn.createMachine(WAITS_FOR_TOKEN);
    const before = await sfn.client.send(new StartExecutionCommand({ stateMachineArn }));
    await expect.poll(() => tokens.length).toBe(1);

    // Act
    await sfn.client.send(
      new UpdateStateMachineCommand({ stateMachineArn, definition: JSON.stringify(OTHER_PASS) }),
    );
    const after = await sfn.client.send(new StartExecutionCommand({ stateMachineArn }));

    // Assess
    const newRun = await sfn.waitForEnd(after.executionArn!);
    expect(newRun).toMatchObject({ status: 'SUCCEEDED', output: '"other"' });
    const oldMachine = await sfn.client.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: before.executionArn }),
    );
    expect(oldMachine.definition).toBe(JSON.stringify(WAITS_FOR_TOKEN));
    const newMachine = await sfn.client.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: after.executionArn }),
    );
    expect(newMachine.definition).toBe(JSON.stringify(OTHER_PASS));
    await sfn.client.send(new StopExecutionCommand({ executionArn: before.executionArn }));
  });

  it('refuses an update that changes nothing: MissingRequiredParameter', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS);

    // Act
    const refusal = await rejectionOf(sfn.client.send(new UpdateStateMachineCommand({ stateMachineArn })));

    // Assess
    expect(refusal.name).toBe('MissingRequiredParameter');
  });

  it('refuses an invalid new definition: InvalidDefinition, and keeps the old one', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS);

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new UpdateStateMachineCommand({
          stateMachineArn,
          definition: JSON.stringify({ StartAt: 'Nowhere', States: { A: { Type: 'Succeed' } } }),
        }),
      ),
    );

    // Assess
    expect(refusal.name).toBe('InvalidDefinition');
    expect(refusal.message).toMatch(/MISSING_TRANSITION_TARGET: [^,]*Nowhere at \/StartAt/);
    const described = await sfn.client.send(new DescribeStateMachineCommand({ stateMachineArn }));
    expect(described.definition).toBe(JSON.stringify(PASS));
  });

  it('refuses a machine that does not exist: StateMachineDoesNotExist', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new UpdateStateMachineCommand({
          stateMachineArn: `${MACHINE_ARN_PREFIX}missing`,
          definition: JSON.stringify(PASS),
        }),
      ),
    );

    // Assess
    expect(refusal.name).toBe('StateMachineDoesNotExist');
  });
});

describe('DescribeStateMachineForExecution', () => {
  it('describes the machine an execution ran', async () => {
    // Prepare
    const { executionArn } = await sfn.run(PASS);

    // Act
    const described = await sfn.client.send(new DescribeStateMachineForExecutionCommand({ executionArn }));

    // Assess
    expect(described).toMatchObject({
      stateMachineArn: expect.stringMatching(new RegExp(`^${MACHINE_ARN_PREFIX}machine-\\d+$`)),
      name: expect.stringMatching(/^machine-\d+$/),
      definition: JSON.stringify(PASS),
      roleArn: ROLE,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    });
    // "For a newly created state machine, this is the creation date."
    const machine = await sfn.client.send(
      new DescribeStateMachineCommand({ stateMachineArn: described.stateMachineArn }),
    );
    expect(described.updateDate?.getTime()).toBe(machine.creationDate?.getTime());
    // "The first revision ID when you create the state machine is null."
    expect(described.revisionId).toBeUndefined();
  });

  it('names the revision an execution ran, so it can be compared with the machine', async () => {
    // The API reference documents revisionId: "The revision identifier for the state machine. The first
    // revision ID when you create the state machine is null. Use the state machine revisionId parameter to
    // compare the revision of a state machine with the configuration of the state machine used for executions".
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS);
    const updated = await sfn.client.send(
      new UpdateStateMachineCommand({ stateMachineArn, definition: JSON.stringify(OTHER_PASS) }),
    );
    const started = await sfn.client.send(new StartExecutionCommand({ stateMachineArn }));
    await sfn.waitForEnd(started.executionArn!);

    // Act
    const described = await sfn.client.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn }),
    );

    // Assess
    expect(described.revisionId).toBe(updated.revisionId);
  });

  it('refuses an execution that does not exist: ExecutionDoesNotExist', async () => {
    // Prepare
    const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:orders:missing';

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new DescribeStateMachineForExecutionCommand({ executionArn })),
    );

    // Assess
    expect(refusal).toEqual({
      name: 'ExecutionDoesNotExist',
      message: `Execution Does Not Exist: '${executionArn}'`,
      status: 400,
    });
  });
});

describe('ListStateMachines', () => {
  async function listAll(maxResults: number): Promise<{ pages: StateMachineListItem[][] }> {
    const pages: StateMachineListItem[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.client.send(new ListStateMachinesCommand({ maxResults, nextToken }));
      pages.push(page.stateMachines ?? []);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return { pages };
  }

  it('lists every machine with its ARN, name, type and creation date', async () => {
    // Prepare
    await sfn.createMachine(PASS, { name: 'alpha' });
    await sfn.createMachine(PASS, { name: 'beta', type: 'EXPRESS' });

    // Act
    const listed = await sfn.client.send(new ListStateMachinesCommand({}));

    // Assess
    expect(listed.nextToken).toBeUndefined();
    expect(listed.stateMachines).toHaveLength(2);
    expect(listed.stateMachines).toEqual(
      expect.arrayContaining([
        {
          stateMachineArn: `${MACHINE_ARN_PREFIX}alpha`,
          name: 'alpha',
          type: 'STANDARD',
          creationDate: expect.any(Date),
        },
        {
          stateMachineArn: `${MACHINE_ARN_PREFIX}beta`,
          name: 'beta',
          type: 'EXPRESS',
          creationDate: expect.any(Date),
        },
      ]),
    );
  });

  it('pages with maxResults and nextToken, each machine exactly once', async () => {
    // Prepare
    const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const name of names) await sfn.createMachine(PASS, { name });

    // Act
    const { pages } = await listAll(2);

    // Assess
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(
      pages
        .flat()
        .map((machine) => machine.name)
        .sort(),
    ).toEqual(names);
  });

  it('answers an empty list when there is no machine', async () => {
    // Act
    const listed = await sfn.client.send(new ListStateMachinesCommand({}));

    // Assess
    expect(listed.stateMachines).toEqual([]);
    expect(listed.nextToken).toBeUndefined();
  });

  it('refuses a nextToken it did not issue: InvalidToken', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new ListStateMachinesCommand({ nextToken: 'made-up' })),
    );

    // Assess
    expect(refusal.name).toBe('InvalidToken');
  });

  it('refuses maxResults above 1000: ValidationException', async () => {
    // Act
    const refusal = await rejectionOf(sfn.client.send(new ListStateMachinesCommand({ maxResults: 1001 })));

    // Assess
    expect(refusal.name).toBe('ValidationException');
    expect(refusal.message).toBe(
      "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
  });
});

describe('DeleteStateMachine', () => {
  it('deletes the machine: it is no longer described or listed', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS, { name: 'doomed' });

    // Act
    const deleted = await sfn.client.send(new DeleteStateMachineCommand({ stateMachineArn }));

    // Assess
    expect(deleted.$metadata.httpStatusCode).toBe(200);
    const refusal = await rejectionOf(sfn.client.send(new DescribeStateMachineCommand({ stateMachineArn })));
    expect(refusal.name).toBe('StateMachineDoesNotExist');
    const listed = await sfn.client.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines).toEqual([]);
  });

  it('succeeds for a machine that does not exist', async () => {
    // Act
    const deleted = await sfn.client.send(
      new DeleteStateMachineCommand({ stateMachineArn: `${MACHINE_ARN_PREFIX}never-was` }),
    );

    // Assess
    expect(deleted.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses an ARN that is not a state machine ARN: InvalidArn', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new DeleteStateMachineCommand({ stateMachineArn: 'nope' })),
    );

    // Assess
    expect(refusal.name).toBe('InvalidArn');
  });

  it('frees the name for a new machine', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS, { name: 'reused' });
    await sfn.client.send(new DeleteStateMachineCommand({ stateMachineArn }));

    // Act
    const created = await sfn.client.send(
      new CreateStateMachineCommand(
        createRequest({ name: 'reused', definition: JSON.stringify(OTHER_PASS) }),
      ),
    );

    // Assess
    expect(created.stateMachineArn).toBe(stateMachineArn);
  });
});
