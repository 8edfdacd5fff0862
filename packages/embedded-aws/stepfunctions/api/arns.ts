/**
 * Step Functions ARNs and resource names.
 *
 * - state machine: `arn:aws:states:<region>:<account>:stateMachine:<name>`, optionally `:<version>` or
 *   `:<alias>` after the name;
 * - STANDARD execution: `arn:aws:states:<region>:<account>:execution:<machine>:<execution>`;
 * - EXPRESS execution: `arn:aws:states:<region>:<account>:express:<machine>:<execution>:<id>` (real
 *   StartSyncExecution answers carry that trailing id, so reusing an Express name never collides).
 * - Map Run: `arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<uuid>`; its Standard children are
 *   executions `…:execution:<machine>/<label>:<uuid>` of the state machine `…:stateMachine:<machine>/<label>`.
 *
 * Names (of machines and executions) are 1 to 80 characters without whitespace, brackets, wildcards,
 * special or control characters; a bad character is InvalidName, a bad length a ValidationException
 * (see requests.ts), as on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { StateMachineType } from '../engine/model.ts';
import { InvalidArn, InvalidName } from './errors.ts';

export interface StateMachineArnParts {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
  /** A version number or alias name after the machine name, when the ARN is qualified. */
  readonly qualifier?: string;
}

export interface ExecutionArnParts {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly type: StateMachineType;
  /** The machine's name; for a Distributed Map child this is `<machine>/<map run label>`. */
  readonly stateMachineName: string;
  readonly name: string;
  /** The unqualified ARN of the machine the execution belongs to. */
  readonly stateMachineArn: string;
  /** EXPRESS only: the id AWS appends after the execution name. */
  readonly expressId?: string;
}

const NAME_MAX_LENGTH = 80;
const SPECIAL_CHARACTERS = new Set(' <>{}[]?*"#%\\^|~`$&,;:/');

/**
 * The partition a region belongs to, for building ARNs.
 *
 * @example
 * partitionOf('cn-north-1'); // 'aws-cn'
 */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/**
 * The ARN of the state machine `name` in a region and account.
 *
 * @example
 * stateMachineArnFor('us-east-1', '000000000000', 'payments');
 * // 'arn:aws:states:us-east-1:000000000000:stateMachine:payments'
 */
export function stateMachineArnFor(region: string, accountId: string, name: string): string {
  return `arn:${partitionOf(region)}:states:${region}:${accountId}:stateMachine:${name}`;
}

/**
 * The ARN of a new execution `name` of `machine`. EXPRESS ARNs get a fresh id unless one is given.
 *
 * @example
 * executionArnFor({ arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:pay' }, 'run-1', 'STANDARD');
 * // 'arn:aws:states:us-east-1:000000000000:execution:pay:run-1'
 */
export function executionArnFor(
  machine: { readonly arn: string },
  name: string,
  type: StateMachineType,
  expressId: string = randomUUID(),
): string {
  const parsed = parseStateMachineArn(machine.arn);
  if (parsed === undefined) throw new TypeError(`not a state machine ARN: ${machine.arn}`);
  const prefix = `arn:${parsed.partition}:states:${parsed.region}:${parsed.accountId}`;
  return type === 'EXPRESS'
    ? `${prefix}:express:${parsed.name}:${name}:${expressId}`
    : `${prefix}:execution:${parsed.name}:${name}`;
}

/**
 * The parts of a state machine ARN (qualified or not), or undefined if it is not one.
 *
 * @example
 * parseStateMachineArn('arn:aws:states:us-east-1:000000000000:stateMachine:pay:prod')?.qualifier; // 'prod'
 */
export function parseStateMachineArn(arn: string): StateMachineArnParts | undefined {
  const parts = statesArnParts(arn);
  if (parts === undefined || parts.resourceType !== 'stateMachine') return undefined;
  const [name, qualifier, ...rest] = parts.resource;
  if (name === undefined || !isValidName(name) || rest.length > 0) return undefined;
  if (qualifier !== undefined && !isValidName(qualifier)) return undefined;
  return {
    partition: parts.partition,
    region: parts.region,
    accountId: parts.accountId,
    name,
    ...(qualifier === undefined ? {} : { qualifier }),
  };
}

/**
 * The parts of a STANDARD (`:execution:`) or EXPRESS (`:express:`) execution ARN, or undefined.
 *
 * @example
 * parseExecutionArn('arn:aws:states:us-east-1:000000000000:execution:pay:run-1')?.stateMachineArn;
 * // 'arn:aws:states:us-east-1:000000000000:stateMachine:pay'
 */
export function parseExecutionArn(arn: string): ExecutionArnParts | undefined {
  const parts = statesArnParts(arn);
  if (parts === undefined) return undefined;
  const type =
    parts.resourceType === 'execution'
      ? 'STANDARD'
      : parts.resourceType === 'express'
        ? 'EXPRESS'
        : undefined;
  if (type === undefined) return undefined;
  const [stateMachineName, name, expressId, ...rest] = parts.resource;
  if (stateMachineName === undefined || name === undefined || rest.length > 0) return undefined;
  if (type === 'STANDARD' ? expressId !== undefined : expressId === undefined || expressId === '')
    return undefined;
  const [machine, mapRunLabel, ...more] = stateMachineName.split('/');
  if (machine === undefined || !isValidName(machine) || more.length > 0) return undefined;
  if (mapRunLabel !== undefined && !isValidName(mapRunLabel)) return undefined;
  if (!isValidName(name)) return undefined;
  return {
    partition: parts.partition,
    region: parts.region,
    accountId: parts.accountId,
    type,
    stateMachineName,
    name,
    stateMachineArn: `arn:${parts.partition}:states:${parts.region}:${parts.accountId}:stateMachine:${machine}`,
    ...(expressId === undefined ? {} : { expressId }),
  };
}

export interface MapRunArnParts {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The machine whose execution started the Map Run. */
  readonly stateMachineName: string;
  /** The Map state's Label, or the id AWS gave a Map without one. */
  readonly label: string;
  readonly id: string;
}

/**
 * The parts of a Map Run ARN, or undefined if it is not one.
 *
 * @example
 * parseMapRunArn('arn:aws:states:us-east-1:000000000000:mapRun:pay/Meters:5b7f')?.label; // 'Meters'
 */
export function parseMapRunArn(arn: string): MapRunArnParts | undefined {
  const parts = statesArnParts(arn);
  if (parts === undefined || parts.resourceType !== 'mapRun') return undefined;
  const [machineAndLabel, id, ...rest] = parts.resource;
  if (machineAndLabel === undefined || id === undefined || rest.length > 0 || !isValidName(id))
    return undefined;
  const [stateMachineName, label, ...more] = machineAndLabel.split('/');
  if (stateMachineName === undefined || !isValidName(stateMachineName)) return undefined;
  if (label === undefined || !isValidName(label) || more.length > 0) return undefined;
  return {
    partition: parts.partition,
    region: parts.region,
    accountId: parts.accountId,
    stateMachineName,
    label,
    id,
  };
}

/**
 * Parses a Map Run ARN or throws InvalidArn with AWS's message.
 *
 * @example
 * requireMapRunArn('arn:aws:states:us-east-1:000000000000:execution:pay:run-1');
 * // throws InvalidArn "Invalid Arn: 'Resource type not valid in this context: execution'"
 */
export function requireMapRunArn(arn: string): MapRunArnParts {
  const parsed = parseMapRunArn(arn);
  if (parsed === undefined) throw invalidArn(arn, 'mapRun');
  return parsed;
}

/**
 * Parses a state machine ARN or throws InvalidArn with AWS's message.
 *
 * @example
 * requireStateMachineArn('abc'); // throws InvalidArn "Invalid Arn: 'Invalid ARN prefix: abc'"
 */
export function requireStateMachineArn(arn: string): StateMachineArnParts {
  const parsed = parseStateMachineArn(arn);
  if (parsed === undefined) throw invalidArn(arn, 'stateMachine');
  return parsed;
}

/**
 * Parses an execution ARN or throws InvalidArn with AWS's message.
 *
 * @example
 * requireExecutionArn('arn:aws:states:us-east-1:000000000000:stateMachine:pay');
 * // throws InvalidArn "Invalid Arn: 'Resource type not valid in this context: stateMachine'"
 */
export function requireExecutionArn(arn: string): ExecutionArnParts {
  const parsed = parseExecutionArn(arn);
  if (parsed === undefined) throw invalidArn(arn, 'execution');
  return parsed;
}

/**
 * The InvalidArn AWS answers for an ARN that is not of the `expected` kind. AWS's wording for a bad
 * prefix and for a wrong resource type are from real responses; for the right type with a malformed rest
 * it is a guess.
 *
 * @example
 * invalidArn('abc', 'stateMachine').message; // "Invalid Arn: 'Invalid ARN prefix: abc'"
 */
export function invalidArn(arn: string, expected: 'stateMachine' | 'execution' | 'mapRun'): InvalidArn {
  const parts = statesArnParts(arn);
  if (parts === undefined) return new InvalidArn(`Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  const types = expected === 'execution' ? ['execution', 'express'] : [expected];
  return new InvalidArn(
    types.includes(parts.resourceType)
      ? `Invalid Arn: 'Invalid ARN: ${arn}'`
      : `Invalid Arn: 'Resource type not valid in this context: ${parts.resourceType}'`,
  );
}

/** The fields of an `arn:<partition>:states:<region>:<account>:<type>:...` ARN, or undefined for any other string. */
function statesArnParts(
  arn: string,
):
  | { partition: string; region: string; accountId: string; resourceType: string; resource: string[] }
  | undefined {
  const [scheme, partition, service, region, accountId, resourceType, ...resource] = arn.split(':');
  if (
    scheme !== 'arn' ||
    service !== 'states' ||
    partition === undefined ||
    !/^aws(-[a-z]+)*$/.test(partition)
  ) {
    return undefined;
  }
  // Lenient on purpose: local setups use regions such as `local`.
  if (region === undefined || !/^[a-z0-9-]+$/.test(region)) return undefined;
  if (accountId === undefined || !/^\d{12}$/.test(accountId)) return undefined;
  if (resourceType === undefined || resourceType === '') return undefined;
  return { partition, region, accountId, resourceType, resource };
}

/**
 * Whether `name` may name a state machine or an execution: 1-80 characters, none of them whitespace,
 * brackets `< > { } [ ]`, wildcards `? *`, special characters `" # % \ ^ | ~ ` $ & , ; : /`, control
 * characters (U+0000-001F, U+007F-009F, U+FFFE-FFFF), surrogates, or U+10FFFF.
 *
 * @example
 * isValidName('order-42'); // true
 * isValidName('order 42'); // false
 */
export function isValidName(name: string): boolean {
  // UTF-16 units, as the service model's length constraints count them.
  if (name.length < 1 || name.length > NAME_MAX_LENGTH) return false;
  for (const character of name) {
    const code = character.codePointAt(0)!;
    if (SPECIAL_CHARACTERS.has(character) || /\s/u.test(character)) return false;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return false;
    if (code === 0xfffe || code === 0xffff || code === 0x10ffff) return false;
    if (code >= 0xd800 && code <= 0xdfff) return false;
  }
  return true;
}

/**
 * Throws AWS's InvalidName unless `name` is a valid machine or execution name.
 *
 * @example
 * assertValidName('a b'); // throws InvalidName "Invalid Name: 'a b'"
 */
export function assertValidName(name: string): void {
  if (!isValidName(name)) throw new InvalidName(`Invalid Name: '${name}'`);
}
