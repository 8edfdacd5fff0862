import { describe, expect, it } from 'vitest';
import {
  assertValidName,
  executionArnFor,
  isValidName,
  parseExecutionArn,
  parseStateMachineArn,
  requireExecutionArn,
  requireStateMachineArn,
  stateMachineArnFor,
} from './arns.ts';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pay';

describe('state machine ARNs', () => {
  it.each([
    ['us-east-1', 'arn:aws:states:us-east-1:123456789012:stateMachine:pay'],
    ['cn-north-1', 'arn:aws-cn:states:cn-north-1:123456789012:stateMachine:pay'],
    ['us-gov-west-1', 'arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:pay'],
  ])('are built in the partition of %s', (region, expected) => {
    // Act
    const arn = stateMachineArnFor(region, '123456789012', 'pay');

    // Assess
    expect(arn).toBe(expected);
    expect(parseStateMachineArn(arn)?.name).toBe('pay');
  });

  it('parse a version or alias qualifier', () => {
    // Act
    const parsed = parseStateMachineArn(`${MACHINE}:prod`);

    // Assess
    expect(parsed).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      name: 'pay',
      qualifier: 'prod',
    });
  });

  it.each([
    'pay',
    'arn:aws:lambda:eu-west-1:123456789012:function:pay',
    'arn:aws:states:eu-west-1:1234:stateMachine:pay',
    'arn:aws:states:eu-west-1:123456789012:stateMachine:',
    'arn:aws:states:eu-west-1:123456789012:stateMachine:a b',
    'arn:aws:states:eu-west-1:123456789012:execution:pay:run',
  ])('reject %s', (arn) => {
    // Act & Assess
    expect(parseStateMachineArn(arn)).toBeUndefined();
    expect(() => requireStateMachineArn(arn)).toThrow(expect.objectContaining({ name: 'InvalidArn' }));
  });
});

describe('execution ARNs', () => {
  it('of STANDARD machines use :execution: and lead back to their machine', () => {
    // Act
    const arn = executionArnFor({ arn: MACHINE }, 'run-1', 'STANDARD');

    // Assess
    expect(arn).toBe('arn:aws:states:eu-west-1:123456789012:execution:pay:run-1');
    expect(parseExecutionArn(arn)).toMatchObject({
      type: 'STANDARD',
      name: 'run-1',
      stateMachineArn: MACHINE,
    });
  });

  it('of EXPRESS machines use :express: with a fresh id, so a reused name gives a new ARN', () => {
    // Act
    const first = executionArnFor({ arn: MACHINE }, 'run-1', 'EXPRESS');
    const second = executionArnFor({ arn: MACHINE }, 'run-1', 'EXPRESS');

    // Assess
    expect(first).toMatch(/^arn:aws:states:eu-west-1:123456789012:express:pay:run-1:[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
    expect(parseExecutionArn(first)).toMatchObject({
      type: 'EXPRESS',
      name: 'run-1',
      stateMachineArn: MACHINE,
    });
  });

  it('of Distributed Map children name the machine and map run label', () => {
    // Act
    const parsed = parseExecutionArn('arn:aws:states:eu-west-1:123456789012:execution:pay/Items:child-1');

    // Assess
    expect(parsed).toMatchObject({
      stateMachineName: 'pay/Items',
      name: 'child-1',
      stateMachineArn: MACHINE,
    });
  });

  it.each([
    ['a state machine ARN', MACHINE, "Invalid Arn: 'Resource type not valid in this context: stateMachine'"],
    ['a bare name', 'run-1', "Invalid Arn: 'Invalid ARN prefix: run-1'"],
    [
      'an EXPRESS ARN without its id',
      'arn:aws:states:eu-west-1:123456789012:express:pay:run-1',
      'Invalid Arn',
    ],
    [
      'a STANDARD ARN with an extra part',
      'arn:aws:states:eu-west-1:123456789012:execution:pay:run-1:x',
      'Invalid Arn',
    ],
  ])('are refused when given %s', (_case, arn, message) => {
    // Act & Assess
    expect(parseExecutionArn(arn)).toBeUndefined();
    expect(() => requireExecutionArn(arn)).toThrow(message);
  });
});

describe('names', () => {
  it.each(['pay', 'Pay_2024-01.retry', 'é-ü', 'a'.repeat(80)])('accept %s', (name) => {
    // Act & Assess
    expect(isValidName(name)).toBe(true);
    expect(() => assertValidName(name)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['81 characters', 'a'.repeat(81)],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a non-breaking space', 'a\u00a0b'],
    ['a bracket', 'a[1]'],
    ['a brace', 'a{b}'],
    ['an angle bracket', 'a<b'],
    ['a wildcard', 'a*'],
    ['a question mark', 'a?'],
    ['a special character', 'a#b'],
    ['a backtick', 'a`b'],
    ['a colon', 'a:b'],
    ['a slash', 'a/b'],
    ['a control character', 'a\u0007b'],
    ['a C1 control character', 'a\u0085b'],
    ['U+FFFF', 'a\uffffb'],
    ['a lone surrogate', 'a\ud800b'],
  ])('refuse a name with %s as InvalidName', (_case, name) => {
    // Act & Assess
    expect(isValidName(name)).toBe(false);
    expect(() => assertValidName(name)).toThrow(expect.objectContaining({ name: 'InvalidName' }));
  });
});
