/**
 * Map: the same branch over each item, inline (iterations in this history, at most 40 at once) or
 * distributed (a Map Run whose children are executions of their own, judged by its tolerated failures).
 */
import { randomUUID } from 'node:crypto';
import type { Json, MapState } from '../../definition/types.ts';
import { evaluateJsonataTemplate, unexpectedResultType } from '../../language/jsonata.ts';
import { applyPayloadTemplate } from '../../language/payload-template.ts';
import { StatesError } from '../../language/states-error.ts';
import { stateScope } from '../context-object.ts';
import {
  effectiveInput,
  evaluateMapSetting,
  jsonataScope,
  jsonPathScope,
  type StateScope,
  selectPath,
} from '../data-flow.ts';
import { errorDetails } from '../history.ts';
import type { BranchRun, Interpreter } from '../interpreter.ts';
import { mapRunHostOf } from '../map-runs.ts';
import type { BranchResult, FanOutStep, MapRunRecord } from '../model.ts';
import { exceedsPayloadLimit, inputLimitExceeded } from '../payload-limit.ts';
import { BranchError, DataFlowError } from '../state-failures.ts';
import { dataFlowFailure } from './data-flow-failure.ts';
import { runMapRun } from './distributed-map.ts';
import { endFanOut, fanOut, fanOutFailed, forgetBranches, startFanOut } from './fan-out.ts';
import { batchItems } from './item-batcher.ts';
import { readItems } from './item-reader.ts';
import { writeResults } from './result-writer.ts';

/** AWS runs at most 40 inline Map iterations at once, whatever MaxConcurrency says. */
const INLINE_MAP_CONCURRENCY = 40;

export async function mapStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: MapState,
): Promise<{ rawResult: Json }> {
  const processor = state.ItemProcessor ?? state.Iterator;
  if (processor === undefined) throw new StatesError('States.Runtime', 'The Map state has no ItemProcessor');
  const distributed = processor.ProcessorConfig?.Mode === 'DISTRIBUTED';
  const raw = run.checkpoint.input;
  const scope = stateScope(interpreter, run, state);
  // Read before the Map starts: AWS fails a MaxConcurrencyPath that is no integer right after
  // MapStateEntered, with neither MapStateStarted nor MapStateFailed.
  const maxConcurrency = (await evaluateMapSetting(state, 'MaxConcurrency', raw, scope)) ?? 0;
  let step = run.checkpoint.step?.kind === 'fan-out' ? run.checkpoint.step : undefined;
  // A redrive of the execution redrives the Map Run this state failed in, on the items it had.
  const mapRuns = distributed ? mapRunHostOf(interpreter.host) : undefined;
  const redriven = mapRuns !== undefined ? run.checkpoint.keptMapRun : undefined;
  if (step === undefined && redriven !== undefined) {
    const length = state.ItemReader
      ? 0
      : state.ItemBatcher
        ? redriven.inputs.reduce<number>((sum, input) => sum + batchSize(input), 0)
        : redriven.inputs.length;
    step = startFanOut(interpreter, run, 'MapStateStarted', { length }, [...redriven.inputs]);
  }
  if (step === undefined) {
    const input = effectiveInput(state, raw, scope);
    let items: Json[];
    try {
      items = state.ItemReader
        ? await readItems(interpreter, run.checkpoint.state, state, input, raw, scope)
        : await mapItems(state, input, raw, scope);
    } catch (error) {
      throw mapItemsFailed(interpreter, run, state, error);
    }
    const inputs: Json[] = [];
    for (const [index, value] of items.entries()) {
      inputs.push(await selectItem(interpreter, run, state, index, value, input, raw));
    }
    let batches: Json[] | undefined;
    try {
      batches = distributed ? (await batchItems(state, inputs, input, raw, scope))?.inputs : undefined;
    } catch (error) {
      throw mapItemsFailed(interpreter, run, state, error);
    }
    // AWS records a length of 0 for items an ItemReader reads (its recorded histories show it).
    const length = state.ItemReader ? 0 : items.length;
    step = startFanOut(interpreter, run, 'MapStateStarted', { length }, batches ?? inputs);
  }
  // Read once the Map has started: AWS fails a tolerated-failure threshold it cannot use after
  // MapStateStarted, before the Map Run starts, with no MapStateFailed.
  const tolerance = distributed ? await toleratedFailures(state, raw, scope) : undefined;
  if (distributed && step.mapRunArn === undefined && redriven?.mapRunArn !== undefined) {
    // MapRunRedriven, an event type AWS documents, takes MapRunStarted's place; no recorded history shows
    // where AWS writes it, so its place here is ours.
    const { arn: mapRunArn, redriveCount } = mapRuns!.redriveMapRun(redriven.mapRunArn);
    step = { ...step, mapRunArn };
    interpreter.record(run, 'MapRunRedriven', { mapRunArn, redriveCount }, { step, keptMapRun: undefined });
  } else if (distributed && step.mapRunArn === undefined) {
    const mapRunArn = mapRunArnOf(interpreter, state);
    step = { ...step, mapRunArn };
    interpreter.record(run, 'MapRunStarted', { mapRunArn }, { step });
  }
  if (mapRuns !== undefined && tolerance !== undefined) {
    // Children as executions of their own, on an engine that keeps them (TestState's does not).
    const { results, children, mapRun } = await runMapRun(interpreter, run, step, {
      host: mapRuns,
      processor,
      maxConcurrency,
      ...(tolerance.count !== undefined ? { toleratedFailureCount: tolerance.count } : {}),
      ...(tolerance.percentage !== undefined ? { toleratedFailurePercentage: tolerance.percentage } : {}),
      ...(state.ItemBatcher !== undefined ? { batchSizes: step.inputs.map(batchSize) } : {}),
      exceeds: (current, sofar) => exceedsToleratedFailures(toleranceOf(current), sofar),
    });
    // Written before the Map Run ends: after a crash in between, the same files are written again.
    const rawResult = state.ResultWriter
      ? await writeResults(interpreter, run.checkpoint.state, state, {
          mapRun,
          inputs: step.inputs,
          children,
          execution: mapRuns.childExecution,
          raw,
          scope,
        })
      : mapRunOutput(results);
    // Ended in the journal before its events, so a crash between them resumes to the same end.
    const current = toleranceOf(mapRun);
    mapRuns.endMapRun(mapRun.arn, exceedsToleratedFailures(current, results) ? 'FAILED' : 'SUCCEEDED');
    endMapRun(interpreter, run, state, step, current, results);
    return { rawResult };
  }
  const limit = distributed
    ? maxConcurrency || 1000
    : Math.min(maxConcurrency || INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY);
  const outcome = await fanOut(interpreter, run, step, {
    branchFor: () => processor,
    concurrency: limit,
    silent: distributed,
    onIteration: !distributed,
    stopOnFailure: !distributed,
  });
  if (tolerance === undefined) endFanOut(interpreter, run, state, step, outcome);
  else endMapRun(interpreter, run, state, step, tolerance, outcome.results);
  return { rawResult: mapRunOutput(outcome.results) };
}

/**
 * The Map's output: each iteration's or child's output in item order. A Map Run that tolerated failures
 * gives each failed child's error in its place. (Where a ResultWriter writes the results instead.)
 */
function mapRunOutput(results: readonly (BranchResult | undefined)[]): Json {
  return results.map((result) =>
    result === undefined
      ? null
      : 'output' in result
        ? result.output
        : { Error: result.error, Cause: result.cause },
  );
}

/** The thresholds a Map Run has now (UpdateMapRun may have changed those it started with). */
function toleranceOf(mapRun: MapRunRecord): ToleratedFailures {
  return {
    ...(mapRun.toleratedFailureCount !== undefined ? { count: mapRun.toleratedFailureCount } : {}),
    ...(mapRun.toleratedFailurePercentage !== undefined
      ? { percentage: mapRun.toleratedFailurePercentage }
      : {}),
  };
}

/** How many items a child's input holds: a batch's `Items`. */
function batchSize(input: Json): number {
  const items = (input as { Items?: unknown } | null)?.Items;
  return Array.isArray(items) ? items.length : 1;
}

/** A Map Run ends on its tolerated failures, not on its first: it records its own end, then the Map's. */
function endMapRun(
  interpreter: Interpreter,
  run: BranchRun,
  state: MapState,
  step: FanOutStep,
  tolerance: ToleratedFailures,
  results: readonly (BranchResult | undefined)[],
): void {
  if (exceedsToleratedFailures(tolerance, results)) {
    const error = 'States.ExceedToleratedFailureThreshold';
    const cause = 'The specified tolerated failure threshold was exceeded';
    interpreter.record(run, 'MapRunFailed', errorDetails(error, cause));
    const previous = run.checkpoint.previousEventId;
    fanOutFailed(interpreter, run, state, 'MapStateFailed', error, previous, step);
    throw new BranchError(error, cause);
  }
  // AWS chains MapRunSucceeded on MapRunStarted without moving the chain on, then both MapStateSucceeded
  // and MapStateExited on MapRunSucceeded.
  const runSucceeded = interpreter.record(run, 'MapRunSucceeded', undefined, undefined, {
    next: run.checkpoint.previousEventId,
  });
  interpreter.record(
    run,
    'MapStateSucceeded',
    undefined,
    { step: undefined },
    { from: runSucceeded, next: runSucceeded },
  );
  forgetBranches(interpreter, run, step);
}

/**
 * Items that cannot be iterated fail the Map as AWS records it: EvaluationFailed first for JSONata, then
 * MapStateFailed, chained on that EvaluationFailed (or on MapStateEntered).
 */
function mapItemsFailed(interpreter: Interpreter, run: BranchRun, state: MapState, error: unknown): unknown {
  const failure = dataFlowFailure(interpreter, run, error);
  if (!(failure instanceof StatesError)) return failure;
  const previous =
    failure instanceof DataFlowError && failure.evaluationFailedEventId !== undefined
      ? failure.evaluationFailedEventId
      : run.checkpoint.previousEventId;
  fanOutFailed(interpreter, run, state, 'MapStateFailed', failure.error, previous);
  return failure;
}

async function mapItems(state: MapState, input: Json, raw: Json, scope: StateScope): Promise<Json[]> {
  if (scope.queryLanguage === 'JSONata' && state.Items !== undefined) {
    const items = await evaluateJsonataTemplate(state.Items, jsonataScope(scope, { input: raw }), 'Items');
    if (!Array.isArray(items)) throw unexpectedResultType(state.Items, 'Items', 'array', items);
    return items;
  }
  const items =
    scope.queryLanguage === 'JSONata' || state.ItemsPath === undefined
      ? input
      : selectPath(state.ItemsPath, jsonPathScope(input, scope));
  if (!Array.isArray(items)) {
    // AWS's wording, in both query languages; only the error name differs.
    const error = scope.queryLanguage === 'JSONata' ? 'States.QueryEvaluationError' : 'States.Runtime';
    throw new StatesError(error, `Map state input must be an array but was: ${JSON.stringify(items)}`);
  }
  return items;
}

/** An item as its iteration gets it: through the ItemSelector, which sees `$$.Map.Item`. */
async function selectItem(
  interpreter: Interpreter,
  run: BranchRun,
  state: MapState,
  index: number,
  value: Json,
  input: Json,
  raw: Json,
): Promise<Json> {
  const selector = state.ItemSelector ?? state.Parameters;
  if (selector === undefined) return value;
  const scope = stateScope(interpreter, run, state, { Map: { Item: { Index: index, Value: value } } });
  const selected =
    scope.queryLanguage === 'JSONata'
      ? await evaluateJsonataTemplate(selector, jsonataScope(scope, { input: raw }), 'ItemSelector')
      : applyPayloadTemplate(selector, jsonPathScope(input, scope));
  // An iteration's input is held to the quota as a Task's Parameters are.
  if (exceedsPayloadLimit(selected)) throw inputLimitExceeded(run.checkpoint.state);
  return selected;
}

/**
 * AWS's shape: `…:mapRun:<machine>/<label>:<uuid>`, where the label is the Map's Label or, without one, a
 * UUID too.
 */
function mapRunArnOf(interpreter: Interpreter, state: MapState): string {
  const machine = interpreter.execution.stateMachineArn.replace(':stateMachine:', ':mapRun:');
  return `${machine}/${state.Label ?? randomUUID()}:${randomUUID()}`;
}

interface ToleratedFailures {
  readonly count?: number;
  readonly percentage?: number;
}

/** A distributed Map's thresholds, read and checked as AWS checks them when its Map Run starts. */
async function toleratedFailures(state: MapState, raw: Json, scope: StateScope): Promise<ToleratedFailures> {
  const count = await evaluateMapSetting(state, 'ToleratedFailureCount', raw, scope);
  const percentage = await evaluateMapSetting(state, 'ToleratedFailurePercentage', raw, scope);
  return {
    ...(count !== undefined ? { count } : {}),
    ...(percentage !== undefined ? { percentage } : {}),
  };
}

/**
 * A Map Run fails once its failures pass either threshold that is set; with neither set, one failure
 * is too many.
 */
function exceedsToleratedFailures(
  tolerance: ToleratedFailures,
  results: readonly (BranchResult | undefined)[],
): boolean {
  const failed = results.filter((result) => result !== undefined && 'error' in result).length;
  if (failed === 0) return false;
  const { count, percentage } = tolerance;
  if (count === undefined && percentage === undefined) return true;
  const overCount = count !== undefined && failed > count;
  const overPercentage = percentage !== undefined && (failed / results.length) * 100 > percentage;
  return overCount || overPercentage;
}
