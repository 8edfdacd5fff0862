/**
 * The PaymentToVend construct: the checked-in ASL is what the construct synthesizes, the definition retries
 * only what may succeed next time, the embedded Step Functions accepts it, and the CDK resources are right.
 */
import { readFileSync } from 'node:fs';
import { formatProblems, validateDefinition } from '@payment-to-vend/embedded-aws';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../infra/testing/test-app.ts';
import { type LocalTuning, synthesizeLocalDefinition } from './local-definition.ts';
import {
  PAYMENT_TO_VEND_DEFAULTS,
  PaymentToVend,
  type PaymentToVendProps,
  retryBudgetSeconds,
  UNTIMED_TASK_ATTEMPT_SECONDS,
} from './payment-to-vend.ts';
import { ASL_PATH, checkedInDefinition, formatAsl } from './synth-asl.ts';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface Catcher {
  ErrorEquals: string[];
  ResultPath?: string;
  Next: string;
}
interface StateShape {
  Type: string;
  Next?: string;
  Resource?: string;
  Parameters?: Record<string, unknown> & { Payload?: Record<string, unknown> };
  Retry?: Retrier[];
  Catch?: Catcher[];
  HeartbeatSeconds?: number;
  TimeoutSeconds?: number;
  Error?: string;
  Choices?: unknown[];
  Default?: string;
}
type Definition = { StartAt: string; States: Record<string, StateShape> };

const TUNING: LocalTuning = {
  maxVendAttempts: 5,
  vendRetryIntervalSeconds: 3,
  vendBackoffRate: 1.5,
  vendMaxDelaySeconds: 40,
  vendHeartbeatSeconds: 30,
  vendTimeoutSeconds: 120,
};

let definition: Definition;

function state(name: string): StateShape {
  const found = definition.States[name];
  if (found === undefined) throw new Error(`no state named ${name}`);
  return found;
}

function allRetriedErrors(): string[] {
  return Object.values(definition.States).flatMap((s) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals));
}

beforeAll(() => {
  definition = synthesizeLocalDefinition({ props: TUNING }) as Definition;
});

describe('the generated ASL', () => {
  it('is what the construct synthesizes now', () => {
    // Prepare
    const checkedIn = readFileSync(ASL_PATH, 'utf8');

    // Act
    const synthesized = formatAsl(checkedInDefinition());

    // Assess
    expect(
      checkedIn,
      'workflow/payment-to-vend.asl.json is out of date: run `npm run workflow:asl` and commit the result',
    ).toBe(synthesized);
  });

  it('is accepted by the embedded Step Functions as a STANDARD machine', () => {
    // Prepare
    const checkedIn = readFileSync(ASL_PATH, 'utf8');

    // Act
    const result = validateDefinition(checkedIn, { type: 'STANDARD' });

    // Assess
    expect(result.ok, result.ok ? '' : formatProblems(result.problems)).toBe(true);
  });

  it('reaches only the local resources, at the fixed local ARNs and URLs', () => {
    // Prepare
    const asl = readFileSync(ASL_PATH, 'utf8');

    // Act
    const arns = [...asl.matchAll(/"(arn:aws:[^"]+|https?:\/\/[^"]+)"/g)].map((match) => match[1]);

    // Assess
    expect(new Set(arns)).toEqual(
      new Set([
        'arn:aws:states:::lambda:invoke',
        'arn:aws:states:::lambda:invoke.waitForTaskToken',
        'arn:aws:states:::sqs:sendMessage',
        'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        'arn:aws:states:::sns:publish',
        'arn:aws:lambda:us-east-1:000000000000:function:charge',
        'arn:aws:lambda:us-east-1:000000000000:function:notify',
        'arn:aws:lambda:us-east-1:000000000000:function:meter-vending',
        'arn:aws:lambda:us-east-1:000000000000:function:follow-up',
        'http://127.0.0.1:4566/000000000000/PaymentSuccess',
        'http://127.0.0.1:4566/000000000000/PaymentFailure',
        'http://127.0.0.1:4566/000000000000/VendingFailure',
        'arn:aws:sns:us-east-1:000000000000:OnCall',
      ]),
    );
  });
});

describe('the Vend step', () => {
  it('waits for a task token from the PaymentSuccess queue, with the attempt number in the message', () => {
    // Act
    const vend = state('Vend');

    // Assess
    expect(vend.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    expect(vend.Parameters?.QueueUrl).toMatch(/\/PaymentSuccess$/);
    expect(vend.Parameters?.MessageBody).toEqual({
      'taskToken.$': '$$.Task.Token',
      'paymentId.$': '$.paymentId',
      'meterId.$': '$.meterId',
      'amountPence.$': '$.amountPence',
      'chargeId.$': '$.charge.chargeId',
      'attempt.$': 'States.MathAdd($$.State.RetryCount, 1)',
      maxAttempts: 5,
      'vendRound.$': '$.vendRound',
    });
    expect(vend.HeartbeatSeconds).toBe(30);
    expect(vend.TimeoutSeconds).toBe(120);
  });

  it('retries only transient vendor errors and timeouts, with capped backoff and full jitter', () => {
    // Act
    const retry = state('Vend').Retry;

    // Assess
    expect(retry).toEqual([
      {
        ErrorEquals: ['VendorUnavailable', 'States.Timeout', 'States.HeartbeatTimeout'],
        IntervalSeconds: 3,
        MaxAttempts: 4, // maxVendAttempts counts the first attempt; MaxAttempts counts retries
        BackoffRate: 1.5,
        MaxDelaySeconds: 40,
        JitterStrategy: 'FULL',
      },
    ]);
  });

  it('sends every failure left after the retries to the failed-vend path, which ends waiting for a decision', () => {
    // Act
    const catchers = state('Vend').Catch;

    // Assess
    expect(catchers).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.vendFailure', Next: 'RecordVendFailed' },
    ]);
    // The failed vend is recorded first; should that fail, follow-up and paging still go ahead.
    expect(state('RecordVendFailed').Parameters?.FunctionName).toMatch(/:function:meter-vending$/);
    expect(state('RecordVendFailed').Next).toBe('VendRecorded');
    expect(state('VendRecorded').Default).toBe('PublishVendingFailure');
    expect(state('VendedAfterAll').Next).toBe('NotifyCustomerVended');
    expect(state('RecordVendFailed').Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.recordingFailure', Next: 'PublishVendingFailure' },
    ]);
    expect(state('PublishVendingFailure').Resource).toBe('arn:aws:states:::sqs:sendMessage');
    expect(state('PublishVendingFailure').Parameters?.QueueUrl).toMatch(/\/VendingFailure$/);
    expect(state('PublishVendingFailure').Next).toBe('AlertOnCall');
    expect(state('AlertOnCall').Resource).toBe('arn:aws:states:::sns:publish');
    expect(state('AlertOnCall').Next).toBe('NotifyCustomerVendFailed');
    expect(state('NotifyCustomerVendFailed').Next).toBe('AwaitDecision');
  });
});

describe('a payment open for an operator decision', () => {
  it('waits with its task token handed to the follow-up function, and a deadline', () => {
    // Act
    const wait = state('AwaitDecision');

    // Assess
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(wait.Parameters?.FunctionName).toMatch(/:function:follow-up$/);
    expect(wait.Parameters?.Payload).toEqual({
      action: 'open',
      'paymentId.$': '$.paymentId',
      'taskToken.$': '$$.Task.Token',
      'executionArn.$': '$$.Execution.Id',
      deadlineSeconds: PAYMENT_TO_VEND_DEFAULTS.decisionDeadlineSeconds,
    });
    expect(wait.TimeoutSeconds).toBe(PAYMENT_TO_VEND_DEFAULTS.decisionDeadlineSeconds);
    expect(state('NotifyCustomerChargeUnconfirmed').Next).toBe('AwaitDecision');
  });

  it('pages on-call again when the deadline passes, and waits anew', () => {
    // Act
    const catchers = state('AwaitDecision').Catch;

    // Assess
    expect(catchers).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.decisionTimeout', Next: 'EscalateOpenPayment' },
    ]);
    expect(state('EscalateOpenPayment').Resource).toBe('arn:aws:states:::sns:publish');
    expect(state('EscalateOpenPayment').Next).toBe('AwaitDecision');
  });

  it('records the decision before carrying it out, and never retries a refused one', () => {
    // Act
    const record = state('RecordDecision');

    // Assess
    expect(state('AwaitDecision').Next).toBe('RecordDecision');
    // Retriers are matched in order: the refusal's, which never retries, comes before the passing failures'.
    const refusal = record.Retry?.findIndex((retrier) => retrier.ErrorEquals.includes('DecisionRefused'));
    const passing = record.Retry?.findIndex((retrier) => retrier.ErrorEquals.includes('States.TaskFailed'));
    expect(record.Retry?.[refusal ?? -1]).toEqual({ ErrorEquals: ['DecisionRefused'], MaxAttempts: 0 });
    expect(refusal).toBeLessThan(passing ?? -1);
    expect(record.Catch).toEqual([
      { ErrorEquals: ['DecisionRefused'], ResultPath: '$.decisionRefused', Next: 'AwaitDecision' },
    ]);
    expect(record.Next).toBe('Decision');
  });

  it('carries out each decision: re-vend through the same Vend, a UTRN by hand, a refund once the vendor says it made no vend, a recheck', () => {
    // Act
    const choices = state('Decision').Choices;

    // Assess
    expect(choices).toEqual([
      { Variable: '$.decided.action', StringEquals: 'revend', Next: 'VendAgain' },
      { Variable: '$.decided.action', StringEquals: 'record_utrn', Next: 'RecordUtrnByHand' },
      { Variable: '$.decided.action', StringEquals: 'refund', Next: 'ConfirmVend' },
      { Variable: '$.decided.action', StringEquals: 'recheck_charge', Next: 'RecheckCharge' },
    ]);
    expect(state('VendAgain')).toMatchObject({
      Type: 'Pass',
      InputPath: '$.decided.vendRound',
      ResultPath: '$.vendRound',
      Next: 'Vend',
    });
    expect(state('RecordUtrnByHand').Next).toBe('NotifyCustomerVended');
    expect(state('ConfirmVend').Next).toBe('VendedBeforeRefund');
    expect(state('VendedBeforeRefund')).toMatchObject({
      Choices: [expect.objectContaining({ Next: 'AlertOnCallRefundNotMade' })],
      Default: 'Refund',
    });
    expect(state('AlertOnCallRefundNotMade').Next).toBe('VendedAfterAll');
    expect(state('Refund').Next).toBe('NotifyCustomerRefunded');
    // More attempts than a charge's: a short gateway outage and a lost answer together must not need an operator.
    expect(state('Refund').Retry).toContainEqual(
      expect.objectContaining({
        ErrorEquals: expect.arrayContaining(['PaymentGatewayUnavailable']),
        MaxAttempts: 6,
      }),
    );
    expect(state('NotifyCustomerRefunded').Next).toBe('Refunded');
    expect(state('Refunded')).toMatchObject({ Type: 'Succeed' });
    for (const name of ['RecordUtrnByHand', 'ConfirmVend', 'Refund', 'RecheckCharge']) {
      expect(state(name).Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.decisionFailure', Next: 'AlertOnCallDecisionFailed' },
      ]);
    }
    expect(state('AlertOnCallDecisionFailed').Next).toBe('AwaitDecision');
  });
});

describe('what is never retried', () => {
  it.each(['VendRejected', 'States.ALL', 'ChargeDeclined'])('no state retries %s', (error) => {
    // Act
    const retried = allRetriedErrors();

    // Assess
    expect(retried).not.toContain(error);
  });

  it('charges with a retry on the gateway being unavailable, and reads each of the three outcomes', () => {
    // Act
    const charge = state('Charge');
    const outcome = state('ChargeOutcome') as StateShape & { Choices: unknown[]; Default?: string };

    // Assess
    expect(charge.Retry).toContainEqual({
      ErrorEquals: ['PaymentGatewayUnavailable', 'Lambda.Unknown', 'Lambda.TooManyRequestsException'],
      IntervalSeconds: PAYMENT_TO_VEND_DEFAULTS.chargeRetryIntervalSeconds,
      MaxAttempts: PAYMENT_TO_VEND_DEFAULTS.maxChargeAttempts - 1,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    });
    // A retry that finds the first attempt still at the gateway keeps asking, longer than the gateway takes.
    expect(charge.Retry).toContainEqual(
      expect.objectContaining({ ErrorEquals: ['PaymentGatewayRequestInProgress'], MaxAttempts: 10 }),
    );
    expect(outcome.Choices).toEqual([
      { Variable: '$.charge.outcome', StringEquals: 'charged', Next: 'NotifyCustomerCharged' },
      { Variable: '$.charge.outcome', StringEquals: 'declined', Next: 'PublishPaymentFailure' },
      { Variable: '$.charge.outcome', StringEquals: 'unconfirmed', Next: 'PublishChargeUnconfirmed' },
    ]);
    expect(outcome.Default).toBeUndefined();
    // After the retries the charge task records the charge as unconfirmed, unless it already recorded one.
    expect(charge.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.chargeFailure', Next: 'ConfirmCharge' },
    ]);
    expect(state('ConfirmCharge').Next).toBe('ChargeOutcome');
    expect(state('PublishPaymentFailure').Parameters?.QueueUrl).toMatch(/\/PaymentFailure$/);
  });
});

describe('telling the customer', () => {
  it('has a NotifyCustomer step for each event type the machine itself reports', () => {
    // Act
    const notifications = Object.entries(definition.States)
      .filter(([name]) => name.startsWith('NotifyCustomer'))
      .map(([name, s]): [string, unknown] => [name, s.Parameters?.Payload?.type]);

    // Assess
    expect(Object.fromEntries(notifications)).toEqual({
      NotifyCustomerCharged: 'charged',
      NotifyCustomerChargeDeclined: 'charge_declined',
      NotifyCustomerChargeUnconfirmed: 'charge_unconfirmed',
      NotifyCustomerVendRequested: 'vend_requested',
      NotifyCustomerVended: 'vended',
      NotifyCustomerVendFailed: 'vend_failed',
      NotifyCustomerRefunded: 'refunded',
    });
    for (const [name] of notifications) {
      expect(state(name).Parameters?.Payload?.['paymentId.$'], name).toBe('$.paymentId');
      // A notify Lambda that crashed or timed out is asked again (the event log appends each event once).
      expect(
        state(name).Retry?.some((retrier) => retrier.ErrorEquals.includes('States.TaskFailed')),
        name,
      ).toBe(true);
    }
  });
});

describe('the construct', () => {
  function synthesize(extra: (stack: Stack) => Partial<PaymentToVendProps> = () => ({})): Template {
    const app = testApp({ builtinCloudFormationValidation: false }); // infra's stack tests validate the deployed templates
    const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-2' } });
    const fn = (id: string) =>
      new lambda.Function(stack, id, {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      });
    new PaymentToVend(stack, 'PaymentToVend', {
      functions: {
        charge: fn('ChargeFunction'),
        notify: fn('NotifyFunction'),
        meterVending: fn('MeterVendingFunction'),
        followUp: fn('FollowUpFunction'),
      },
      queues: {
        paymentSuccess: new sqs.Queue(stack, 'PaymentSuccess'),
        paymentFailure: new sqs.Queue(stack, 'PaymentFailure'),
        vendingFailure: new sqs.Queue(stack, 'VendingFailure'),
      },
      topics: { onCall: new sns.Topic(stack, 'OnCall') },
      ...extra(stack),
    });
    return Template.fromStack(stack);
  }

  it('is a STANDARD state machine with the logging and tracing asked for', () => {
    // Act
    const template = synthesize((stack) => ({
      logs: {
        destination: new logs.LogGroup(stack, 'Log'),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      tracingEnabled: true,
      stateMachineName: 'PaymentToVend',
    }));

    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'PaymentToVend',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  it('may invoke the functions, send to the three queues and publish to the on-call topic', () => {
    // Act
    const template = synthesize();

    // Assess
    const statements = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(statements).toContain('lambda:InvokeFunction');
    expect(statements).toContain('sqs:SendMessage');
    expect(statements).toContain('sns:Publish');
    for (const id of [
      'ChargeFunction',
      'NotifyFunction',
      'FollowUpFunction',
      'PaymentSuccess',
      'PaymentFailure',
      'VendingFailure',
    ]) {
      expect(statements, id).toMatch(new RegExp(`"${id}[0-9A-F]{8}"`));
    }
    expect(statements).toMatch(/"Ref":"OnCall[0-9A-F]{8}"/);
  });

  it.each([
    [{ vendHeartbeatSeconds: 60, vendTimeoutSeconds: 60 }, /vendHeartbeatSeconds \(60\) must be less than/],
    [{ maxVendAttempts: 0 }, /maxVendAttempts must be a whole number of at least 1/],
    [{ vendRetryIntervalSeconds: 0.5 }, /vendRetryIntervalSeconds must be a whole number/],
    [{ vendBackoffRate: 0.5 }, /vendBackoffRate must be at least 1/],
  ])('refuses %o', (tuning, message) => {
    // Act
    const attempt = () => synthesizeLocalDefinition({ props: tuning });

    // Assess
    expect(attempt).toThrow(message);
  });
});

describe('the execution timeout', () => {
  type VendSettings = Record<
    | 'maxVendAttempts'
    | 'vendTimeoutSeconds'
    | 'vendRetryIntervalSeconds'
    | 'vendBackoffRate'
    | 'vendMaxDelaySeconds',
    number
  >;
  /** Every vend attempt at its timeout, and the longest wait before each retry. */
  const vendBudget = (settings: VendSettings) => {
    let total = settings.vendTimeoutSeconds;
    for (let retry = 0; retry < settings.maxVendAttempts - 1; retry += 1) {
      const wait = settings.vendRetryIntervalSeconds * settings.vendBackoffRate ** retry;
      total += Math.min(wait, settings.vendMaxDelaySeconds) + settings.vendTimeoutSeconds;
    }
    return total;
  };
  const timeoutOf = (props: LocalTuning = {}) =>
    (synthesizeLocalDefinition({ props }) as { TimeoutSeconds?: number }).TimeoutSeconds;

  it.each([
    ['the defaults', {}],
    ['the tuning of these tests', TUNING],
    ['more and longer vend attempts', { ...TUNING, maxVendAttempts: 8, vendTimeoutSeconds: 900 }],
  ])(
    'outlasts every charge and vend attempt and the waits between them, in whole minutes, with %s',
    (_, tuning) => {
      // Prepare
      const settings = { ...PAYMENT_TO_VEND_DEFAULTS, ...tuning };
      const chargeAttempts = settings.maxChargeAttempts * UNTIMED_TASK_ATTEMPT_SECONDS;

      // Act
      const timeoutSeconds = timeoutOf(tuning);

      // Assess
      // The decision window is the operators': what a decision sets off happens inside it.
      const decisionWindow = settings.decisionWindowDays * 86_400;
      expect(timeoutSeconds).toBeGreaterThan(vendBudget(settings) + chargeAttempts + decisionWindow);
      expect((timeoutSeconds ?? 1) % 60).toBe(0);
    },
  );

  it('is the one given, when that covers the retries', () => {
    // Act
    const timeoutSeconds = timeoutOf({ executionTimeoutSeconds: 31 * 86_400 });

    // Assess
    expect(timeoutSeconds).toBe(31 * 86_400);
  });

  it.each([
    [{ executionTimeoutSeconds: 600 }, /executionTimeoutSeconds must be a whole number of at least \d+/],
    [{ executionTimeoutSeconds: 31 * 86_400 + 0.5 }, /executionTimeoutSeconds must be a whole number/],
  ])('refuses %o', (tuning, message) => {
    // Act
    const attempt = () => synthesizeLocalDefinition({ props: tuning });

    // Assess
    expect(attempt).toThrow(message);
  });
});

describe('retryBudgetSeconds', () => {
  it('counts a loop through a decision once, and the decision window for the wait', () => {
    // Prepare: a task, a wait for a person, and a Choice back to the task.
    const stack = new Stack(testApp());
    const work = new tasks.LambdaInvoke(stack, 'Work', {
      lambdaFunction: lambda.Function.fromFunctionArn(
        stack,
        'F',
        'arn:aws:lambda:eu-west-2:111111111111:function:f',
      ),
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(10)),
    });
    const decide = new tasks.LambdaInvoke(stack, 'Decide', {
      lambdaFunction: lambda.Function.fromFunctionArn(
        stack,
        'G',
        'arn:aws:lambda:eu-west-2:111111111111:function:g',
      ),
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
    });
    work.next(
      new sfn.Choice(stack, 'Worked')
        .when(sfn.Condition.isPresent('$.failed'), decide.next(work))
        .otherwise(new sfn.Succeed(stack, 'Done')),
    );

    // Act
    const budget = retryBudgetSeconds(work, { decisionStates: ['Decide'], decisionWindowSeconds: 1000 });

    // Assess: Work and the window; a second round of Work is spent inside the window.
    expect(budget).toBe(10 + 1000);
  });

  /** A Lambda task with no retries of its own, so each case adds exactly the retries it names. */
  const call = (stack: Stack, id: string, timeoutSeconds?: number) =>
    new tasks.LambdaInvoke(stack, id, {
      lambdaFunction: lambda.Function.fromFunctionArn(
        stack,
        `${id}Function`,
        'arn:aws:lambda:eu-west-2:111111111111:function:f',
      ),
      retryOnServiceExceptions: false,
      ...(timeoutSeconds !== undefined
        ? { taskTimeout: sfn.Timeout.duration(Duration.seconds(timeoutSeconds)) }
        : {}),
    });

  it.each([
    [
      'each attempt at its TimeoutSeconds, and each wait doubled but capped',
      (stack: Stack) => {
        const task = call(stack, 'Call', 10);
        task.addRetry({ interval: Duration.seconds(3), maxAttempts: 2, maxDelay: Duration.seconds(4) });
        return new sfn.Pass(stack, 'Start').next(task).next(new sfn.Succeed(stack, 'Done'));
      },
      // 10 + (3 + 10) + (min(6, 4) + 10)
      37,
    ],
    [
      'an attempt with no TimeoutSeconds at the longest a task attempt takes, every retrier in full',
      (stack: Stack) => {
        const task = call(stack, 'Call');
        task.addRetry({ errors: ['A'], interval: Duration.seconds(1), maxAttempts: 1 });
        task.addRetry({ errors: ['B'], interval: Duration.seconds(2), maxAttempts: 1 });
        return task;
      },
      3 * UNTIMED_TASK_ATTEMPT_SECONDS + 1 + 2,
    ],
    [
      'the longer branch of a Choice',
      (stack: Stack) =>
        new sfn.Choice(stack, 'Which')
          .when(sfn.Condition.isPresent('$.short'), call(stack, 'Short', 5))
          .otherwise(call(stack, 'Long', 50)),
      50,
    ],
    [
      'the Catch path when it is the longer one',
      (stack: Stack) => {
        const task = call(stack, 'Call', 5);
        task.addCatch(call(stack, 'Recover', 20).next(call(stack, 'Report', 20)));
        return task.next(new sfn.Succeed(stack, 'Done'));
      },
      45,
    ],
  ])('counts %s', (_, build, expectedSeconds) => {
    // Prepare
    const start = build(new Stack(testApp()));

    // Act
    const budget = retryBudgetSeconds(start.startState);

    // Assess
    expect(budget).toBe(expectedSeconds);
  });

  it.each([
    [
      'a callback with no TimeoutSeconds',
      (stack: Stack) =>
        new tasks.SqsSendMessage(stack, 'Wait', {
          queue: sqs.Queue.fromQueueArn(stack, 'Queue', 'arn:aws:sqs:eu-west-2:111111111111:q'),
          integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
          messageBody: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
        }),
      /cannot bound how long Wait/,
    ],
    [
      'a loop',
      (stack: Stack) => {
        const again = call(stack, 'Again', 5);
        again.next(
          new sfn.Choice(stack, 'More')
            .when(sfn.Condition.isPresent('$.more'), again)
            .otherwise(new sfn.Succeed(stack, 'Done')),
        );
        return again;
      },
      /can be reached again/,
    ],
  ])('refuses %s', (_, build, message) => {
    // Prepare
    const start = build(new Stack(testApp()));

    // Act
    const attempt = () => retryBudgetSeconds(start.startState);

    // Assess
    expect(attempt).toThrow(message);
  });
});
