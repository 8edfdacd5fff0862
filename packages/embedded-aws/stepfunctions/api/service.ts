/**
 * The Step Functions API (AWS JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Action>`) over the engine.
 *
 * Each action validates its request (`./requests.ts`), checks what AWS checks, and answers only after
 * what it changed is in the journal, so an acknowledged request survives a crash.
 */
import { isDeepStrictEqual } from 'node:util';
import { ValidationException } from '../../aws/errors.ts';
import type { JsonProtocolService, RequestContext } from '../../aws/server.ts';
import type { Json, State } from '../definition/types.ts';
import { formatProblems, validateDefinition, validateStateDefinition } from '../definition/validate.ts';
import { executionOfTaskToken, newRevisionId, type StepFunctionsEngine } from '../engine/engine.ts';
import { renderHistoryEvent, withoutExecutionData } from '../engine/history.ts';
import type { ExecutionRecord, MapRunRecord, StateMachineRecord } from '../engine/model.ts';
import { redriveStatus } from '../engine/redrive-status.ts';
import { runTestState } from '../engine/test-state.ts';
import {
  assertValidName,
  executionArnFor,
  requireExecutionArn,
  requireMapRunArn,
  requireStateMachineArn,
  stateMachineArnFor,
} from './arns.ts';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  InvalidArn,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidOutput,
  InvalidToken,
  MissingRequiredParameter,
  ResourceNotFound,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StateMachineTypeNotSupported,
  TaskDoesNotExist,
  TaskTimedOut,
} from './errors.ts';
import { decodePageToken, encodePageToken } from './paging.ts';
import { parseRequest } from './requests.ts';

const DEFAULT_LOGGING = { level: 'OFF', includeExecutionData: false };
const DEFAULT_TRACING = { enabled: false };

type Handler = (input: unknown, context: RequestContext) => Promise<unknown>;

export function createStepFunctionsService(engine: StepFunctionsEngine): JsonProtocolService {
  const actions = stepFunctionsActions(engine);
  return {
    targetPrefix: 'AWSStepFunctions',
    actions: Object.keys(actions),
    async handle(action, input, context) {
      const output = await actions[action]!(input, context);
      await engine.flushed();
      return output;
    },
  };
}

function stepFunctionsActions(engine: StepFunctionsEngine): Record<string, Handler> {
  const machineOrThrow = (arn: string): StateMachineRecord => {
    requireStateMachineArn(arn);
    const machine = engine.machine(arn);
    if (machine === undefined) throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
    return machine;
  };
  const executionOrThrow = (arn: string): ExecutionRecord => {
    requireExecutionArn(arn);
    const execution = engine.execution(arn);
    if (execution === undefined) throw new ExecutionDoesNotExist(`Execution Does Not Exist: '${arn}'`);
    return execution;
  };
  const mapRunOrThrow = (arn: string): MapRunRecord => {
    requireMapRunArn(arn);
    const mapRun = engine.mapRun(arn);
    if (mapRun === undefined) throw new ResourceNotFound(`Map Run Does Not Exist: '${arn}'`, arn);
    return mapRun;
  };
  const checkDefinition = (definition: string, type: 'STANDARD' | 'EXPRESS') => {
    const result = validateDefinition(definition, { type });
    if (!result.ok) throw new InvalidDefinition(formatProblems(result.problems));
    return result.definition;
  };
  const checkJson = (text: string | undefined, error: (message: string) => Error): string => {
    const value = text ?? '{}';
    try {
      JSON.parse(value);
    } catch (cause) {
      throw error(`Invalid State Machine Execution Input: '${(cause as Error).message}'`);
    }
    return value;
  };

  return {
    async CreateStateMachine(raw, context) {
      const input = parseRequest('CreateStateMachine', raw);
      assertValidName(input.name);
      const type = input.type ?? 'STANDARD';
      checkDefinition(input.definition, type);
      const arn = stateMachineArnFor(context.region, context.accountId, input.name);
      const existing = engine.machine(arn);
      const wanted = {
        definition: input.definition,
        roleArn: input.roleArn,
        type,
        loggingConfiguration: (input.loggingConfiguration ?? DEFAULT_LOGGING) as Json,
        tracingConfiguration: (input.tracingConfiguration ?? DEFAULT_TRACING) as Json,
      };
      if (existing !== undefined) {
        // CreateStateMachine is idempotent on name, definition, type and configurations; a different roleArn
        // is ignored (and not applied), as the API reference says.
        const same =
          existing.definition === wanted.definition &&
          existing.type === wanted.type &&
          isDeepStrictEqual(existing.loggingConfiguration, wanted.loggingConfiguration) &&
          isDeepStrictEqual(existing.tracingConfiguration, wanted.tracingConfiguration);
        if (!same) throw new StateMachineAlreadyExists(`State Machine Already Exists: '${arn}'`);
        return { stateMachineArn: arn, creationDate: new Date(existing.creationDate) };
      }
      const machine: StateMachineRecord = {
        arn,
        name: input.name,
        ...wanted,
        creationDate: engine.now(),
      };
      engine.putMachine(machine);
      return { stateMachineArn: arn, creationDate: new Date(machine.creationDate) };
    },

    async UpdateStateMachine(raw) {
      const input = parseRequest('UpdateStateMachine', raw);
      const machine = machineOrThrow(input.stateMachineArn);
      if (
        input.definition === undefined &&
        input.roleArn === undefined &&
        input.loggingConfiguration === undefined &&
        input.tracingConfiguration === undefined
      ) {
        throw new MissingRequiredParameter(
          'Either the definition, the role ARN, the logging configuration or the tracing configuration must be specified',
        );
      }
      if (input.definition !== undefined) checkDefinition(input.definition, machine.type);
      const updated: StateMachineRecord = {
        ...machine,
        ...(input.definition !== undefined ? { definition: input.definition } : {}),
        ...(input.roleArn !== undefined ? { roleArn: input.roleArn } : {}),
        ...(input.loggingConfiguration !== undefined
          ? { loggingConfiguration: input.loggingConfiguration as Json }
          : {}),
        ...(input.tracingConfiguration !== undefined
          ? { tracingConfiguration: input.tracingConfiguration as Json }
          : {}),
        updateDate: engine.now(),
        revisionId: newRevisionId(),
      };
      engine.putMachine(updated);
      return { updateDate: new Date(updated.updateDate!), revisionId: updated.revisionId! };
    },

    async DescribeStateMachine(raw) {
      const input = parseRequest('DescribeStateMachine', raw);
      return describeMachine(machineOrThrow(input.stateMachineArn));
    },

    async DescribeStateMachineForExecution(raw) {
      const input = parseRequest('DescribeStateMachineForExecution', raw);
      const execution = executionOrThrow(input.executionArn);
      const machine = engine.machine(execution.stateMachineArn);
      return {
        stateMachineArn: execution.stateMachineArn,
        name: execution.stateMachineName,
        definition: execution.definition,
        roleArn: execution.roleArn,
        updateDate: new Date(execution.revisionDate ?? machine?.creationDate ?? execution.startDate),
        ...(execution.revisionId !== undefined ? { revisionId: execution.revisionId } : {}),
        loggingConfiguration: machine?.loggingConfiguration ?? DEFAULT_LOGGING,
        tracingConfiguration: machine?.tracingConfiguration ?? DEFAULT_TRACING,
      };
    },

    async ListStateMachines(raw) {
      const input = parseRequest('ListStateMachines', raw);
      const machines = engine.machines().sort((a, b) => a.name.localeCompare(b.name));
      const page = pageOf(machines, input.maxResults, input.nextToken, 'ListStateMachines');
      return {
        stateMachines: page.items.map((machine) => ({
          stateMachineArn: machine.arn,
          name: machine.name,
          type: machine.type,
          creationDate: new Date(machine.creationDate),
        })),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },

    async DeleteStateMachine(raw) {
      const input = parseRequest('DeleteStateMachine', raw);
      requireStateMachineArn(input.stateMachineArn);
      // Deleting a machine that does not exist succeeds, as on AWS; its running executions carry on.
      if (engine.machine(input.stateMachineArn)) engine.deleteMachine(input.stateMachineArn);
      return {};
    },

    async StartExecution(raw) {
      const input = parseRequest('StartExecution', raw);
      const machine = machineOrThrow(input.stateMachineArn);
      const executionInput = checkJson(input.input, (message) => new InvalidExecutionInput(message));
      const name = input.name ?? crypto.randomUUID();
      assertValidName(name);
      const arn = executionArnFor(machine, name, machine.type);
      const existing = engine.execution(arn);
      if (existing !== undefined) {
        // Idempotent while RUNNING with the same input; any other reuse of the name is refused.
        if (existing.status === 'RUNNING' && existing.input === executionInput) {
          return { executionArn: arn, startDate: new Date(existing.startDate) };
        }
        throw new ExecutionAlreadyExists(`Execution Already Exists: '${arn}'`);
      }
      const execution = engine.start(machine, {
        arn,
        name,
        input: executionInput,
        durable: machine.type === 'STANDARD',
      });
      return { executionArn: execution.arn, startDate: new Date(execution.startDate) };
    },

    async StartSyncExecution(raw) {
      const input = parseRequest('StartSyncExecution', raw);
      const machine = machineOrThrow(input.stateMachineArn);
      if (machine.type !== 'EXPRESS') {
        throw new StateMachineTypeNotSupported(
          'This operation is not supported by this type of state machine',
        );
      }
      const executionInput = checkJson(input.input, (message) => new InvalidExecutionInput(message));
      const name = input.name ?? crypto.randomUUID();
      assertValidName(name);
      const arn = executionArnFor(machine, name, 'EXPRESS');
      engine.start(machine, { arn, name, input: executionInput, durable: false });
      const execution = await engine.finished(arn);
      engine.forget(arn);
      return {
        executionArn: arn,
        stateMachineArn: machine.arn,
        name,
        startDate: new Date(execution.startDate),
        stopDate: new Date(execution.stopDate ?? engine.now()),
        status: execution.status,
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
        input: execution.input,
        inputDetails: { included: true },
        ...(execution.output !== undefined
          ? { output: execution.output, outputDetails: { included: true } }
          : {}),
        billingDetails: {
          billedMemoryUsedInMB: 64,
          billedDurationInMilliseconds: Math.max(
            100,
            Math.ceil(((execution.stopDate ?? 0) - execution.startDate) / 100) * 100,
          ),
        },
      };
    },

    async DescribeExecution(raw) {
      const input = parseRequest('DescribeExecution', raw);
      const execution = executionOrThrow(input.executionArn);
      return {
        ...executionSummary(execution),
        input: execution.input,
        inputDetails: { included: true },
        ...(execution.output !== undefined
          ? { output: execution.output, outputDetails: { included: true } }
          : {}),
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
        ...redriveStatus(execution, engine.now()),
      };
    },

    async ListExecutions(raw) {
      const input = parseRequest('ListExecutions', raw);
      if ((input.stateMachineArn === undefined) === (input.mapRunArn === undefined)) {
        throw new InvalidArn('Invalid Arn: a stateMachineArn or a mapRunArn is required, and not both');
      }
      let executions: ExecutionRecord[];
      let scope: string;
      if (input.mapRunArn !== undefined) {
        // A Map Run's Standard children; an Express Map Run keeps no executions to list.
        const mapRun = mapRunOrThrow(input.mapRunArn);
        executions = engine.childExecutionsOf(mapRun.arn);
        scope = mapRun.arn;
      } else {
        const machine = machineOrThrow(input.stateMachineArn!);
        if (machine.type === 'EXPRESS') {
          throw new StateMachineTypeNotSupported(
            'This operation is not supported by this type of state machine',
          );
        }
        executions = engine.executionsOf(machine.arn);
        scope = machine.arn;
      }
      if (input.statusFilter !== undefined)
        executions = executions.filter((e) => e.status === input.statusFilter);
      if (input.redriveFilter === 'REDRIVEN') executions = executions.filter((e) => e.redriveCount > 0);
      if (input.redriveFilter === 'NOT_REDRIVEN') executions = executions.filter((e) => e.redriveCount === 0);
      executions.sort((a, b) => b.startDate - a.startDate || b.name.localeCompare(a.name));
      const page = pageOf(executions, input.maxResults, input.nextToken, `ListExecutions:${scope}`);
      return {
        executions: page.items.map(executionSummary),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },

    async DescribeMapRun(raw) {
      const input = parseRequest('DescribeMapRun', raw);
      const mapRun = mapRunOrThrow(input.mapRunArn);
      return {
        mapRunArn: mapRun.arn,
        executionArn: mapRun.executionArn,
        status: mapRun.status,
        startDate: new Date(mapRun.startDate),
        ...(mapRun.stopDate !== undefined ? { stopDate: new Date(mapRun.stopDate) } : {}),
        maxConcurrency: mapRun.maxConcurrency,
        toleratedFailurePercentage: mapRun.toleratedFailurePercentage ?? 0,
        toleratedFailureCount: mapRun.toleratedFailureCount ?? 0,
        ...engine.mapRunCounts(mapRun),
        redriveCount: mapRun.redriveCount,
        ...(mapRun.redriveDate !== undefined ? { redriveDate: new Date(mapRun.redriveDate) } : {}),
      };
    },

    async ListMapRuns(raw) {
      const input = parseRequest('ListMapRuns', raw);
      const execution = executionOrThrow(input.executionArn);
      const page = pageOf(
        engine.mapRunsOf(execution.arn),
        input.maxResults,
        input.nextToken,
        `ListMapRuns:${execution.arn}`,
      );
      return {
        mapRuns: page.items.map((mapRun) => ({
          executionArn: mapRun.executionArn,
          mapRunArn: mapRun.arn,
          stateMachineArn: mapRun.stateMachineArn,
          startDate: new Date(mapRun.startDate),
          ...(mapRun.stopDate !== undefined ? { stopDate: new Date(mapRun.stopDate) } : {}),
        })),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },

    async UpdateMapRun(raw) {
      const input = parseRequest('UpdateMapRun', raw);
      const mapRun = mapRunOrThrow(input.mapRunArn);
      const { maxConcurrency, toleratedFailureCount, toleratedFailurePercentage } = input;
      if (
        maxConcurrency === undefined &&
        toleratedFailureCount === undefined &&
        toleratedFailurePercentage === undefined
      ) {
        throw new ValidationException(
          'At least one of the parameters maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be provided',
        );
      }
      if (mapRun.status !== 'RUNNING') {
        throw new ValidationException(`Map Run is not running: ${mapRun.arn}`);
      }
      engine.updateMapRun(mapRun.arn, {
        ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
        ...(toleratedFailureCount !== undefined ? { toleratedFailureCount } : {}),
        ...(toleratedFailurePercentage !== undefined ? { toleratedFailurePercentage } : {}),
      });
      return {};
    },

    async GetExecutionHistory(raw) {
      const input = parseRequest('GetExecutionHistory', raw);
      const execution = executionOrThrow(input.executionArn);
      let events = [...engine.history(execution.arn)];
      if (input.reverseOrder) events.reverse();
      const page = pageOf(
        events,
        input.maxResults,
        input.nextToken,
        `GetExecutionHistory:${execution.arn}:${input.reverseOrder ?? false}`,
      );
      events = page.items;
      const includeData = input.includeExecutionData ?? true;
      return {
        events: events.map((event) => {
          const rendered = renderHistoryEvent(event);
          const shaped = includeData ? rendered : withoutExecutionData(rendered);
          return { ...shaped, timestamp: new Date(event.timestamp) };
        }),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },

    async StopExecution(raw) {
      const input = parseRequest('StopExecution', raw);
      const execution = executionOrThrow(input.executionArn);
      if (execution.status === 'RUNNING') {
        engine.stop(execution.arn, input.error, input.cause);
        await engine.finished(execution.arn);
      }
      return { stopDate: new Date(execution.stopDate ?? engine.now()) };
    },

    async RedriveExecution(raw) {
      const input = parseRequest('RedriveExecution', raw);
      const execution = executionOrThrow(input.executionArn);
      const status = redriveStatus(execution, engine.now());
      if (status.redriveStatus === 'REDRIVABLE_BY_MAP_RUN') {
        // Our wording: no AWS recording shows this refusal.
        throw new ExecutionNotRedrivable(
          'Execution is not redrivable: it is a child of a Map Run, redriven when its parent execution is',
        );
      }
      if (status.redriveStatus !== 'REDRIVABLE') {
        throw new ExecutionNotRedrivable(`Execution is not redrivable: ${status.redriveStatusReason}`);
      }
      const redriven = engine.redrive(execution.arn);
      return { redriveDate: new Date(redriven.redriveDate!) };
    },

    async SendTaskSuccess(raw) {
      const input = parseRequest('SendTaskSuccess', raw);
      let output: Json;
      try {
        output = JSON.parse(input.output) as Json;
      } catch (cause) {
        throw new InvalidOutput(`Invalid Output: '${(cause as Error).message}'`);
      }
      deliver(engine, input.taskToken, { output });
      return {};
    },

    async SendTaskFailure(raw) {
      const input = parseRequest('SendTaskFailure', raw);
      deliver(engine, input.taskToken, { error: input.error ?? '', cause: input.cause ?? '' });
      return {};
    },

    async SendTaskHeartbeat(raw) {
      const input = parseRequest('SendTaskHeartbeat', raw);
      const runner = runnerForToken(engine, input.taskToken);
      runner.heartbeat(input.taskToken);
      return {};
    },

    async TestState(raw, context) {
      const input = parseRequest('TestState', raw);
      const { state, stateName, queryLanguage } = testedState(input.definition, input.stateName);
      const mock = input.mock;
      const result = await runTestState(
        {
          state,
          stateName,
          queryLanguage,
          input: parseJsonField(input.input ?? '{}', 'input'),
          variables: parseJsonField(input.variables ?? '{}', 'variables') as Record<string, Json>,
          inspectionLevel: input.inspectionLevel ?? 'INFO',
          retrierRetryCount: input.stateConfiguration?.retrierRetryCount ?? 0,
          ...(mock?.result !== undefined
            ? { mock: { result: parseJsonField(mock.result, 'mock.result') } }
            : mock?.errorOutput !== undefined
              ? { mock: { error: mock.errorOutput.error ?? '', cause: mock.errorOutput.cause ?? '' } }
              : {}),
        },
        engine.integrations,
        context.region,
      );
      return result;
    },
  };
}

function describeMachine(machine: StateMachineRecord) {
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: machine.type,
    creationDate: new Date(machine.creationDate),
    loggingConfiguration: machine.loggingConfiguration ?? DEFAULT_LOGGING,
    tracingConfiguration: machine.tracingConfiguration ?? DEFAULT_TRACING,
    ...(machine.revisionId !== undefined ? { revisionId: machine.revisionId } : {}),
    ...(machine.description !== undefined ? { description: machine.description } : {}),
  };
}

function pageOf<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  scope: string,
) {
  const size = maxResults === undefined || maxResults === 0 ? 100 : maxResults;
  const offset = nextToken === undefined ? 0 : decodePageToken(nextToken, scope);
  const slice = items.slice(offset, offset + size);
  const end = offset + slice.length;
  return { items: slice, nextToken: end < items.length ? encodePageToken(end, scope) : undefined };
}

function runnerForToken(engine: StepFunctionsEngine, token: string) {
  const executionArn = executionOfTaskToken(token);
  if (executionArn === undefined) throw new InvalidToken("Invalid Token: 'Invalid token'");
  const runner = engine.runnerForToken(token);
  if (runner === undefined) {
    if (engine.execution(executionArn) === undefined) {
      throw new TaskDoesNotExist("Task Does Not Exist: 'Provided task does not exist'");
    }
    throw new TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'");
  }
  return runner;
}

function deliver(
  engine: StepFunctionsEngine,
  token: string,
  outcome: { output: Json } | { error: string; cause: string },
) {
  const runner = runnerForToken(engine, token);
  if (!runner.deliver(token, outcome)) {
    throw new TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'");
  }
}

function parseJsonField(text: string, field: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (cause) {
    throw new InvalidExecutionInput(`Invalid ${field}: '${(cause as Error).message}'`);
  }
}

/** TestState takes one state's definition, or a whole machine's with `stateName` choosing the state. */
function testedState(
  definitionText: string,
  stateName: string | undefined,
): { state: State; stateName: string; queryLanguage: 'JSONPath' | 'JSONata' } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definitionText);
  } catch {
    parsed = undefined; // the validator words the syntax error as AWS does
  }
  if (stateName !== undefined || (parsed !== null && typeof parsed === 'object' && 'States' in parsed)) {
    const machine = validateDefinition(definitionText);
    if (!machine.ok) throw new InvalidDefinition(formatProblems(machine.problems));
    const name = stateName ?? machine.definition.StartAt;
    const state = machine.definition.States[name];
    if (state === undefined)
      throw new InvalidDefinition(`Invalid State Machine Definition: 'The state '${name}' does not exist'`);
    return { state, stateName: name, queryLanguage: machine.definition.QueryLanguage ?? 'JSONPath' };
  }
  const lone = validateStateDefinition(definitionText);
  if (!lone.ok) throw new InvalidDefinition(formatProblems(lone.problems));
  return { state: lone.state, stateName: 'TestState', queryLanguage: lone.state.QueryLanguage ?? 'JSONPath' };
}

/** An execution as ListExecutions lists it; DescribeExecution tells this and more. */
function executionSummary(execution: ExecutionRecord) {
  return {
    executionArn: execution.arn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: new Date(execution.startDate),
    ...(execution.stopDate !== undefined ? { stopDate: new Date(execution.stopDate) } : {}),
    ...(execution.mapRunArn !== undefined ? { mapRunArn: execution.mapRunArn } : {}),
    redriveCount: execution.redriveCount,
    ...(execution.redriveDate !== undefined ? { redriveDate: new Date(execution.redriveDate) } : {}),
  };
}
