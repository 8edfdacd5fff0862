/**
 * A distributed Map's Map Run: each of its inputs (an item, or a batch of items) runs as a child workflow
 * execution of its own (`../map-runs.ts`), at most MaxConcurrency at once (as UpdateMapRun may change it
 * while the run goes on), and the run stops starting children, and stops those running, once its failures
 * pass the tolerated threshold, as the developer guide's "Setting failure thresholds for Distributed Map
 * states" says.
 *
 * Durable as the rest of the engine: the Map Run and each Standard child are in the journal before they
 * run, so after a crash the step finds each child where it stood (ended, or running again from its own
 * checkpoints) and starts only those never started; none runs twice to completion. An Express child keeps
 * no record while it runs: one cut short by a crash runs again, and its end is recorded once.
 *
 * Seams for ItemReader and ResultWriter: the items come from `map.ts` (`mapItems`, where an ItemReader
 * reads them), before they are batched here (`item-batcher.ts`); the children's results are gathered in
 * `MapRunOutcome.results`, which is where a ResultWriter writes them instead of giving them as the output.
 */
import type { Branch, Json, QueryLanguage } from '../../definition/types.ts';
import { AbortedError } from '../abortable.ts';
import type { BranchRun, Interpreter } from '../interpreter.ts';
import type { MapRunChildOutcome } from '../journal-records.ts';
import type { MapRunHost } from '../map-runs.ts';
import type { BranchResult, FanOutStep, MapRunRecord } from '../model.ts';

/** As many children at once as AWS runs when MaxConcurrency is 0 (no limit of the user's). */
const UNLIMITED_CONCURRENCY = 10_000;

export interface MapRunSettings {
  readonly host: MapRunHost;
  readonly processor: Branch;
  readonly maxConcurrency: number;
  readonly toleratedFailureCount?: number;
  readonly toleratedFailurePercentage?: number;
  /** With an ItemBatcher, how many items each input holds. */
  readonly batchSizes?: readonly number[];
  /** Whether these results pass the Map Run's tolerated failures (as they stand now). */
  readonly exceeds: (mapRun: MapRunRecord, results: readonly (BranchResult | undefined)[]) => boolean;
}

export interface MapRunOutcome {
  /** Each child's output, or its error; undefined for one never run (the run stopped first). */
  readonly results: (BranchResult | undefined)[];
  /** How each child ended, and which execution it was (for a ResultWriter to name). */
  readonly children: (MapRunChildOutcome | undefined)[];
  /** The Map Run as it ended, with the thresholds UpdateMapRun may have changed. */
  readonly mapRun: MapRunRecord;
}

/** Runs (or resumes) the Map Run of a distributed Map step to its end. */
export async function runMapRun(
  interpreter: Interpreter,
  run: BranchRun,
  step: FanOutStep,
  settings: MapRunSettings,
): Promise<MapRunOutcome> {
  const { host } = settings;
  const mapRun = host.mapRun(step.mapRunArn!) ?? newMapRun(interpreter, step, settings);
  const definition = childDefinition(settings.processor, run.queryLanguage);
  const results: (BranchResult | undefined)[] = new Array(step.inputs.length);
  const children: (MapRunChildOutcome | undefined)[] = new Array(step.inputs.length);
  const ended = (index: number, outcome: MapRunChildOutcome) => {
    children[index] = outcome;
    results[index] = resultOf(outcome);
  };
  const running = new Map<number, string>();
  // Children to start, by index; or to redrive, by ARN (a redriven Map Run's children that failed before).
  const unstarted: { readonly index: number; readonly redrive?: string }[] = [];
  let halted = false;
  let wake: () => void = () => {};
  const watch = (index: number, arn: string) => {
    running.set(index, arn);
    void host.childEnded(mapRun.arn, index, arn).then((outcome) => {
      running.delete(index);
      if (outcome === undefined) halted = true;
      else ended(index, outcome);
      wake();
    });
  };
  for (let index = 0; index < step.inputs.length; index += 1) {
    const child = host.child(mapRun.arn, index);
    if (child.kind === 'ended') ended(index, child.outcome);
    else if (child.kind === 'running') watch(index, child.arn);
    else if (child.kind === 'redrivable') unstarted.push({ index, redrive: child.arn });
    else unstarted.push({ index });
  }
  const stopListening = host.onUpdate(mapRun.arn, () => wake());
  const onAbort = () => wake();
  run.signal.addEventListener('abort', onAbort);
  try {
    let stopping = false;
    for (;;) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (run.signal.aborted || halted) {
        abortMapRun(host, mapRun, running);
        throw new AbortedError('aborted');
      }
      if (!stopping && settings.exceeds(mapRun, results)) {
        // Past the threshold the Map Run fails: it starts nothing more and stops what still runs.
        stopping = true;
        unstarted.length = 0;
        for (const arn of running.values()) host.stopChild(arn);
      }
      const limit = mapRun.maxConcurrency || UNLIMITED_CONCURRENCY;
      while (unstarted.length > 0 && running.size < limit) {
        const { index, redrive } = unstarted.shift()!;
        const arn =
          redrive !== undefined
            ? host.redriveChild(mapRun, redrive)
            : host.startChild(mapRun, index, JSON.stringify(step.inputs[index]), definition);
        watch(index, arn);
      }
      if (running.size === 0 && unstarted.length === 0) break;
      await woken;
    }
  } finally {
    stopListening();
    run.signal.removeEventListener('abort', onAbort);
  }
  return { results, children, mapRun };
}

/** Records the Map Run its MapRunStarted named: with the settings it starts with. */
function newMapRun(interpreter: Interpreter, step: FanOutStep, settings: MapRunSettings): MapRunRecord {
  const arn = step.mapRunArn!;
  const mapRun: MapRunRecord = {
    arn,
    executionArn: interpreter.execution.arn,
    // `…:mapRun:<machine>/<label>:<uuid>` runs `…:stateMachine:<machine>/<label>`.
    stateMachineArn: arn.slice(0, arn.lastIndexOf(':')).replace(':mapRun:', ':stateMachine:'),
    childType: settings.processor.ProcessorConfig?.ExecutionType ?? 'STANDARD',
    startDate: interpreter.host.now(),
    childCount: step.inputs.length,
    ...(settings.batchSizes !== undefined ? { batchSizes: settings.batchSizes } : {}),
    status: 'RUNNING',
    maxConcurrency: settings.maxConcurrency,
    ...(settings.toleratedFailureCount !== undefined
      ? { toleratedFailureCount: settings.toleratedFailureCount }
      : {}),
    ...(settings.toleratedFailurePercentage !== undefined
      ? { toleratedFailurePercentage: settings.toleratedFailurePercentage }
      : {}),
    redriveCount: 0,
  };
  settings.host.startMapRun(mapRun);
  return settings.host.mapRun(arn) ?? mapRun;
}

/**
 * The parent was stopped (StopExecution, a timeout, a failing sibling branch): so are its children, and
 * the Map Run ends ABORTED. (When the engine shuts down instead, nothing of this is written.)
 */
function abortMapRun(host: MapRunHost, mapRun: MapRunRecord, running: ReadonlyMap<number, string>): void {
  for (const arn of running.values()) host.stopChild(arn);
  if (mapRun.status === 'RUNNING') host.endMapRun(mapRun.arn, 'ABORTED');
}

/** What a child runs: the ItemProcessor as a state machine, in the query language it inherits. */
function childDefinition(processor: Branch, queryLanguage: QueryLanguage): string {
  const { ProcessorConfig: _config, ...machine } = processor;
  const language = processor.QueryLanguage ?? queryLanguage;
  return JSON.stringify(language === 'JSONata' ? { QueryLanguage: language, ...machine } : machine);
}

/**
 * A child's result as the Map gives it: its output, or its error. A child stopped or timed out has no
 * error of its own; it counts as failed with the one its status names.
 */
function resultOf(outcome: MapRunChildOutcome): BranchResult {
  if (outcome.status === 'SUCCEEDED') return { output: JSON.parse(outcome.output ?? 'null') as Json };
  const error =
    outcome.error ??
    (outcome.status === 'TIMED_OUT'
      ? 'States.Timeout'
      : outcome.status === 'ABORTED'
        ? 'States.Aborted'
        : 'States.Runtime');
  return { error, cause: outcome.cause ?? '' };
}
