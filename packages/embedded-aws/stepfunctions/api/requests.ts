/**
 * The Step Functions request layer: one zod schema per action's input, with the member names, types,
 * length and range constraints and enums of the service model (botocore's `stepfunctions/2016-11-23`,
 * the same model the SDK's `models_0.d.ts` is generated from), and `parseRequest`, which refuses a
 * request the way AWS does:
 *
 * - a constraint violation is a ValidationException listing every violation, in AWS's words:
 *   `1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: Member must have
 *   length less than or equal to 80` (sensitive members, such as `input` and `definition`, are reported
 *   without their value: `Value at 'input' failed ...`, as AWS hides them);
 * - a member of the wrong JSON type is a SerializationException (the SDKs never send one);
 * - then the checks AWS answers with a Step Functions error: InvalidArn, InvalidName,
 *   InvalidExecutionInput, and MissingRequiredParameter for an UpdateStateMachine that updates nothing.
 *
 * JSON `null` members are read as absent, as AWS reads them. Unknown members are ignored, as AWS ignores
 * them (SDKs newer than the model may send them).
 */
import { z } from 'zod';
import { SerializationException, ValidationException } from '../../aws/errors.ts';
import { assertValidName, requireExecutionArn, requireMapRunArn, requireStateMachineArn } from './arns.ts';
import { InvalidArn, InvalidExecutionInput, MissingRequiredParameter } from './errors.ts';

/** A string member: `max` counts UTF-16 units, `maxBytes` UTF-8 bytes (the model's SensitiveData). */
function text(
  constraints: { min?: number; max?: number; maxBytes?: number; pattern?: [RegExp, string] } = {},
) {
  let schema = z.string();
  if (constraints.min !== undefined) {
    schema = schema.min(constraints.min, {
      error: `Member must have length greater than or equal to ${constraints.min}`,
    });
  }
  if (constraints.max !== undefined) {
    schema = schema.max(constraints.max, {
      error: `Member must have length less than or equal to ${constraints.max}`,
    });
  }
  if (constraints.pattern !== undefined) {
    const [regex, source] = constraints.pattern;
    schema = schema.regex(regex, { error: `Member must satisfy regular expression pattern: ${source}` });
  }
  const { maxBytes } = constraints;
  if (maxBytes !== undefined) {
    // AWS words a byte limit differently from a length limit (recorded: StartExecution with an input over
    // 256 KiB is a ValidationException with this constraint, not InvalidExecutionInput).
    return schema.refine((value) => Buffer.byteLength(value, 'utf8') <= maxBytes, {
      error: `Member must have size less than or equal to ${maxBytes} bytes in UTF-8 encoding`,
    });
  }
  return schema;
}

function integer(constraints: { min?: number; max?: number }) {
  let schema = z.int();
  if (constraints.min !== undefined) {
    schema = schema.min(constraints.min, {
      error: `Member must have value greater than or equal to ${constraints.min}`,
    });
  }
  if (constraints.max !== undefined) {
    schema = schema.max(constraints.max, {
      error: `Member must have value less than or equal to ${constraints.max}`,
    });
  }
  return schema;
}

function number(constraints: { min: number; max: number }) {
  return z
    .number()
    .min(constraints.min, { error: `Member must have value greater than or equal to ${constraints.min}` })
    .max(constraints.max, { error: `Member must have value less than or equal to ${constraints.max}` });
}

function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, { error: `Member must satisfy enum value set: [${values.join(', ')}]` });
}

// The model's shapes, named as the model names them.
const Arn = text({ min: 1, max: 256 });
const LongArn = text({ min: 1, max: 2000 });
const Name = text({ min: 1, max: 80 });
const Definition = text({ min: 1, max: 1_048_576 });
const SensitiveData = text({ maxBytes: 262_144 });
const SensitiveError = text({ min: 0, max: 256 });
const SensitiveCause = text({ min: 0, max: 32_768 });
const TaskToken = text({ min: 1, max: 2048 });
const PageToken = text({ min: 1, max: 1024 });
const ListExecutionsPageToken = text({ min: 1, max: 3096 });
const PageSize = integer({ min: 0, max: 1000 });
const TraceHeader = text({ min: 0, max: 256, pattern: [/^\p{ASCII}*$/u, '\\p{ASCII}*'] });
const VersionDescription = text({ max: 256 });
const TestStateStateName = text({ min: 1, max: 80 });
const IncludedData = oneOf(['ALL_DATA', 'METADATA_ONLY']);

const LoggingConfiguration = z.object({
  level: oneOf(['ALL', 'ERROR', 'FATAL', 'OFF']).optional(),
  includeExecutionData: z.boolean().optional(),
  destinations: z
    .array(z.object({ cloudWatchLogsLogGroup: z.object({ logGroupArn: Arn.optional() }).optional() }))
    .optional(),
});
const TracingConfiguration = z.object({ enabled: z.boolean().optional() });
const EncryptionConfiguration = z.object({
  kmsKeyId: text({ min: 1, max: 2048 }).optional(),
  kmsDataKeyReusePeriodSeconds: integer({ min: 60, max: 900 }).optional(),
  type: oneOf(['AWS_OWNED_KEY', 'CUSTOMER_MANAGED_KMS_KEY']),
});
const Tag = z.object({
  key: text({ min: 1, max: 128 }).optional(),
  value: text({ min: 0, max: 256 }).optional(),
});

/** One schema per action, keyed by the action's name as it appears in X-Amz-Target. */
export const requestSchemas = {
  CreateStateMachine: z.object({
    name: Name,
    definition: Definition,
    roleArn: Arn,
    type: oneOf(['STANDARD', 'EXPRESS']).optional(),
    loggingConfiguration: LoggingConfiguration.optional(),
    tags: z.array(Tag).optional(),
    tracingConfiguration: TracingConfiguration.optional(),
    publish: z.boolean().optional(),
    versionDescription: VersionDescription.optional(),
    encryptionConfiguration: EncryptionConfiguration.optional(),
  }),
  UpdateStateMachine: z.object({
    stateMachineArn: Arn,
    definition: Definition.optional(),
    roleArn: Arn.optional(),
    loggingConfiguration: LoggingConfiguration.optional(),
    tracingConfiguration: TracingConfiguration.optional(),
    publish: z.boolean().optional(),
    versionDescription: VersionDescription.optional(),
    encryptionConfiguration: EncryptionConfiguration.optional(),
  }),
  DescribeStateMachine: z.object({ stateMachineArn: Arn, includedData: IncludedData.optional() }),
  ListStateMachines: z.object({ maxResults: PageSize.optional(), nextToken: PageToken.optional() }),
  DeleteStateMachine: z.object({ stateMachineArn: Arn }),
  StartExecution: z.object({
    stateMachineArn: Arn,
    name: Name.optional(),
    input: SensitiveData.optional(),
    traceHeader: TraceHeader.optional(),
  }),
  StartSyncExecution: z.object({
    stateMachineArn: Arn,
    name: Name.optional(),
    input: SensitiveData.optional(),
    traceHeader: TraceHeader.optional(),
    includedData: IncludedData.optional(),
  }),
  DescribeExecution: z.object({ executionArn: Arn, includedData: IncludedData.optional() }),
  ListExecutions: z.object({
    stateMachineArn: Arn.optional(),
    statusFilter: oneOf([
      'RUNNING',
      'SUCCEEDED',
      'FAILED',
      'TIMED_OUT',
      'ABORTED',
      'PENDING_REDRIVE',
    ]).optional(),
    maxResults: PageSize.optional(),
    nextToken: ListExecutionsPageToken.optional(),
    mapRunArn: LongArn.optional(),
    redriveFilter: oneOf(['REDRIVEN', 'NOT_REDRIVEN']).optional(),
  }),
  GetExecutionHistory: z.object({
    executionArn: Arn,
    maxResults: PageSize.optional(),
    reverseOrder: z.boolean().optional(),
    nextToken: PageToken.optional(),
    includeExecutionData: z.boolean().optional(),
  }),
  StopExecution: z.object({
    executionArn: Arn,
    error: SensitiveError.optional(),
    cause: SensitiveCause.optional(),
  }),
  SendTaskSuccess: z.object({ taskToken: TaskToken, output: SensitiveData }),
  SendTaskFailure: z.object({
    taskToken: TaskToken,
    error: SensitiveError.optional(),
    cause: SensitiveCause.optional(),
  }),
  SendTaskHeartbeat: z.object({ taskToken: TaskToken }),
  RedriveExecution: z.object({
    executionArn: Arn,
    clientToken: text({ min: 1, max: 64, pattern: [/^[!-~]+$/, '[!-~]+'] }).optional(),
  }),
  TestState: z.object({
    definition: Definition,
    roleArn: Arn.optional(),
    input: SensitiveData.optional(),
    inspectionLevel: oneOf(['INFO', 'DEBUG', 'TRACE']).optional(),
    revealSecrets: z.boolean().optional(),
    variables: SensitiveData.optional(),
    stateName: TestStateStateName.optional(),
    mock: z
      .object({
        result: SensitiveData.optional(),
        errorOutput: z
          .object({ error: SensitiveError.optional(), cause: SensitiveCause.optional() })
          .optional(),
        fieldValidationMode: oneOf(['STRICT', 'PRESENT', 'NONE']).optional(),
      })
      .optional(),
    context: SensitiveData.optional(),
    stateConfiguration: z
      .object({
        retrierRetryCount: integer({ min: 0 }).optional(),
        errorCausedByState: TestStateStateName.optional(),
        mapIterationFailureCount: integer({ min: 0 }).optional(),
        mapItemReaderData: SensitiveData.optional(),
      })
      .optional(),
  }),
  DescribeStateMachineForExecution: z.object({ executionArn: Arn, includedData: IncludedData.optional() }),
  DescribeMapRun: z.object({ mapRunArn: LongArn }),
  ListMapRuns: z.object({
    executionArn: Arn,
    maxResults: PageSize.optional(),
    nextToken: PageToken.optional(),
  }),
  UpdateMapRun: z.object({
    mapRunArn: LongArn,
    maxConcurrency: integer({ min: 0 }).optional(),
    toleratedFailurePercentage: number({ min: 0, max: 100 }).optional(),
    toleratedFailureCount: integer({ min: 0 }).optional(),
  }),
} as const;

export type Schemas = typeof requestSchemas;
export type StepFunctionsAction = keyof Schemas;

export type CreateStateMachineInput = z.infer<Schemas['CreateStateMachine']>;
export type UpdateStateMachineInput = z.infer<Schemas['UpdateStateMachine']>;
export type DescribeStateMachineInput = z.infer<Schemas['DescribeStateMachine']>;
export type ListStateMachinesInput = z.infer<Schemas['ListStateMachines']>;
export type DeleteStateMachineInput = z.infer<Schemas['DeleteStateMachine']>;
export type StartExecutionInput = z.infer<Schemas['StartExecution']>;
export type StartSyncExecutionInput = z.infer<Schemas['StartSyncExecution']>;
export type DescribeExecutionInput = z.infer<Schemas['DescribeExecution']>;
export type ListExecutionsInput = z.infer<Schemas['ListExecutions']>;
export type GetExecutionHistoryInput = z.infer<Schemas['GetExecutionHistory']>;
export type StopExecutionInput = z.infer<Schemas['StopExecution']>;
export type SendTaskSuccessInput = z.infer<Schemas['SendTaskSuccess']>;
export type SendTaskFailureInput = z.infer<Schemas['SendTaskFailure']>;
export type SendTaskHeartbeatInput = z.infer<Schemas['SendTaskHeartbeat']>;
export type RedriveExecutionInput = z.infer<Schemas['RedriveExecution']>;
export type TestStateInput = z.infer<Schemas['TestState']>;
export type DescribeStateMachineForExecutionInput = z.infer<Schemas['DescribeStateMachineForExecution']>;
export type DescribeMapRunInput = z.infer<Schemas['DescribeMapRun']>;
export type ListMapRunsInput = z.infer<Schemas['ListMapRuns']>;
export type UpdateMapRunInput = z.infer<Schemas['UpdateMapRun']>;

/** Members the model marks sensitive: AWS leaves their values out of validation messages. */
const SENSITIVE_MEMBERS = new Set([
  'definition',
  'input',
  'output',
  'error',
  'cause',
  'versionDescription',
  'variables',
  'stateName',
  'result',
  'context',
  'errorCausedByState',
  'mapItemReaderData',
]);

/** Which member of each action holds a state machine ARN, or an execution ARN, to check the kind of. */
const STATE_MACHINE_ARN_ACTIONS = new Set<StepFunctionsAction>([
  'UpdateStateMachine',
  'DescribeStateMachine',
  'DeleteStateMachine',
  'StartExecution',
  'StartSyncExecution',
  'ListExecutions',
]);
const EXECUTION_ARN_ACTIONS = new Set<StepFunctionsAction>([
  'DescribeExecution',
  'GetExecutionHistory',
  'StopExecution',
  'RedriveExecution',
  'DescribeStateMachineForExecution',
  'ListMapRuns',
]);
/** The actions whose `mapRunArn` names a Map Run (ListExecutions' too, when given). */
const MAP_RUN_ARN_ACTIONS = new Set<StepFunctionsAction>([
  'DescribeMapRun',
  'UpdateMapRun',
  'ListExecutions',
]);

/**
 * Validates `input` as the request of `action` and returns it typed, or throws what AWS would answer.
 *
 * @example
 * const request = parseRequest('StartExecution', body); // StartExecutionInput
 * parseRequest('StartExecution', { stateMachineArn: arn, name: 'x'.repeat(81) });
 * // throws ValidationException "1 validation error detected: Value 'xxx…' at 'name' failed to satisfy
 * //   constraint: Member must have length less than or equal to 80"
 */
export function parseRequest<A extends keyof Schemas>(action: A, input: unknown): z.infer<Schemas[A]> {
  // Indexing by a generic key loses the link between schema and output type; it is the same schema.
  const schema = requestSchemas[action] as unknown as z.ZodType<z.infer<Schemas[A]>>;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SerializationException('The request body must be a JSON object');
  }
  const result = schema.safeParse(withoutNulls(input), { reportInput: true });
  if (!result.success) throw refusalOf(result.error.issues);
  checkServiceRules(action, result.data as Record<string, unknown>);
  return result.data;
}

/** The checks AWS answers with Step Functions errors rather than a ValidationException. */
function checkServiceRules(action: StepFunctionsAction, request: Record<string, unknown>): void {
  const stateMachineArn = request.stateMachineArn;
  if (STATE_MACHINE_ARN_ACTIONS.has(action) && typeof stateMachineArn === 'string') {
    requireStateMachineArn(stateMachineArn);
  }
  const executionArn = request.executionArn;
  if (EXECUTION_ARN_ACTIONS.has(action) && typeof executionArn === 'string')
    requireExecutionArn(executionArn);
  const mapRunArn = request.mapRunArn;
  if (MAP_RUN_ARN_ACTIONS.has(action) && typeof mapRunArn === 'string') requireMapRunArn(mapRunArn);
  const roleArn = request.roleArn;
  // Only the shape of an ARN is checked: IAM does not exist here. (AWS also checks it names a role.)
  if (typeof roleArn === 'string' && !/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$/.test(roleArn)) {
    throw new InvalidArn(`Invalid Arn: 'Invalid ARN prefix: ${roleArn}'`);
  }
  if (
    (action === 'CreateStateMachine' || action === 'StartExecution' || action === 'StartSyncExecution') &&
    typeof request.name === 'string'
  ) {
    assertValidName(request.name);
  }
  if (
    (action === 'StartExecution' || action === 'StartSyncExecution' || action === 'TestState') &&
    typeof request.input === 'string'
  ) {
    assertJson(request.input);
  }
  if (
    action === 'UpdateStateMachine' &&
    request.definition === undefined &&
    request.roleArn === undefined &&
    request.loggingConfiguration === undefined &&
    request.tracingConfiguration === undefined &&
    request.encryptionConfiguration === undefined
  ) {
    // The wording is a guess: the API reference names the error, not its message.
    throw new MissingRequiredParameter(
      'Either the definition, the roleArn, the loggingConfiguration, the tracingConfiguration or the encryptionConfiguration must be specified',
    );
  }
}

function assertJson(input: string): void {
  try {
    JSON.parse(input);
  } catch (error) {
    // AWS quotes its own (Jackson) parser's complaint here; ours is Node's.
    throw new InvalidExecutionInput(`Invalid State Machine Execution Input: '${(error as Error).message}'`);
  }
}

type Issue = z.core.$ZodIssue;

/** The error AWS answers for these schema issues. */
function refusalOf(issues: readonly Issue[]): Error {
  const wrongType = issues.find(
    (issue) =>
      issue.input !== undefined &&
      (issue.code === 'invalid_type' || (issue.code === 'invalid_value' && typeof issue.input !== 'string')),
  );
  if (wrongType !== undefined) {
    const expected = wrongType.code === 'invalid_type' ? wrongType.expected : 'string';
    return new SerializationException(
      `Unexpected ${jsonTypeOf(wrongType.input)} at '${memberPath(wrongType.path)}', expected ${expected}`,
    );
  }
  const violations = issues.map((issue) => {
    const path = memberPath(issue.path);
    const missing = issue.input === undefined;
    const constraint = missing ? 'Member must not be null' : issue.message;
    return `${valueClause(issue, path)} at '${path}' failed to satisfy constraint: ${constraint}`;
  });
  const count = violations.length;
  return new ValidationException(
    `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`,
  );
}

function valueClause(issue: Issue, path: string): string {
  if (issue.input === undefined) return 'Value null';
  const member = path.split('.').at(-1) ?? path;
  if (SENSITIVE_MEMBERS.has(member)) return 'Value';
  const value = issue.input;
  return `Value '${typeof value === 'string' ? value : JSON.stringify(value)}'`;
}

/** AWS's member path: dots between members, and `<n>.member` (1-based) for list elements. */
function memberPath(path: readonly PropertyKey[]): string {
  return path.map((key) => (typeof key === 'number' ? `${key + 1}.member` : String(key))).join('.');
}

function jsonTypeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/** JSON nulls read as absent members, recursively. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== null) out[key] = withoutNulls(member);
    }
    return out;
  }
  return value;
}
