/**
 * Map Runs: what a distributed Map state starts. As on AWS ("Using Map state in Distributed mode",
 * "Examining Map Run"), each item (or batch of items) is a child workflow execution of its own, under the
 * state machine `<machine>/<label>`, with an ARN `…:execution:<machine>/<label>:<uuid>`: a Standard child
 * has its own history, seen through DescribeExecution (with `mapRunArn`), GetExecutionHistory and
 * ListExecutions(mapRunArn); an Express child keeps none, and only its outcome is counted (and given to the
 * Map's output). The Map Run itself (DescribeMapRun, ListMapRuns, UpdateMapRun) holds the settings that
 * govern its children and counts them by status.
 *
 * This module keeps the Map Runs of the engine in memory, applies their journal records, and says what the
 * distributed Map step (`states/distributed-map.ts`) may ask of the engine (`MapRunHost`).
 */
import type { MapRunChildOutcome, StepFunctionsRecord } from './journal-records.ts';
import type { ExecutionRecord, MapRunRecord, MapRunStatus, StateMachineType } from './model.ts';

/** Where a Map Run's child stands. */
export type MapRunChild =
  | { readonly kind: 'unstarted' }
  | { readonly kind: 'running'; readonly arn: string }
  | { readonly kind: 'ended'; readonly outcome: MapRunChildOutcome }
  /** A Standard child that failed before its Map Run was redriven: to be redriven too. */
  | { readonly kind: 'redrivable'; readonly arn: string };

/** What a distributed Map step may ask of the engine around it. */
export interface MapRunHost {
  mapRun(arn: string): MapRunRecord | undefined;
  /** Durably records a new Map Run. */
  startMapRun(mapRun: MapRunRecord): void;
  child(mapRunArn: string, index: number): MapRunChild;
  /** Starts child `index` of the Map Run on `input` (JSON text), running `definition`; gives its ARN. */
  startChild(mapRun: MapRunRecord, index: number, input: string, definition: string): string;
  /** RedriveExecution of the parent reached this Map Run: it runs again (once per redrive). */
  redriveMapRun(arn: string): MapRunRecord;
  /** Redrives a `redrivable` child with its Map Run; gives its ARN. */
  redriveChild(mapRun: MapRunRecord, arn: string): string;
  /** A Standard child's execution, for the ResultWriter to name. */
  childExecution(arn: string): ExecutionRecord | undefined;
  /** How the child ended, once it has; undefined when the engine is shutting down instead. */
  childEnded(mapRunArn: string, index: number, arn: string): Promise<MapRunChildOutcome | undefined>;
  /** Stops a running child (it ends ABORTED). */
  stopChild(arn: string): void;
  endMapRun(arn: string, status: Exclude<MapRunStatus, 'RUNNING'>): void;
  /** Calls `listener` whenever UpdateMapRun changes the Map Run; returns how to stop listening. */
  onUpdate(arn: string, listener: () => void): () => void;
}

/** The engine's host, if it runs distributed Maps' children as executions (TestState's does not). */
export function mapRunHostOf(host: object): MapRunHost | undefined {
  return (host as { mapRuns?: MapRunHost }).mapRuns;
}

/** DescribeMapRun's counts, of items and of child executions alike. */
export interface MapRunCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
  resultsWritten: number;
  failuresNotRedrivable: number;
  pendingRedrive: number;
}

type MapRunRecordKind = Extract<
  StepFunctionsRecord,
  { kind: 'mapRunSaved' | 'mapRunUpdated' | 'mapRunEnded' | 'mapRunRedriven' | 'mapRunChildEnded' }
>;

export function isMapRunRecord(record: StepFunctionsRecord): record is MapRunRecordKind {
  return record.kind.startsWith('mapRun');
}

/**
 * A child's ARN: the Map Run's, its `mapRun` resource turned into `execution` (`express` for an Express
 * child, with the id AWS appends to those) and its uuid replaced by the child's name.
 *
 * @example
 * childExecutionArn('arn:aws:states:us-east-1:000000000000:mapRun:m/Label:1111', 'c2', 'STANDARD');
 * // 'arn:aws:states:us-east-1:000000000000:execution:m/Label:c2'
 */
export function childExecutionArn(
  mapRunArn: string,
  name: string,
  type: StateMachineType,
  expressId?: string,
): string {
  const [prefix, resource] = mapRunArn.split(':mapRun:') as [string, string];
  const machineAndLabel = resource.slice(0, resource.lastIndexOf(':'));
  return type === 'EXPRESS'
    ? `${prefix}:express:${machineAndLabel}:${name}:${expressId ?? name}`
    : `${prefix}:execution:${machineAndLabel}:${name}`;
}

/** `<machine>/<label>` of a Map Run ARN: the name of the state machine its children run. */
export function mapRunMachineName(mapRunArn: string): string {
  const resource = mapRunArn.split(':mapRun:')[1] ?? '';
  return resource.slice(0, resource.lastIndexOf(':'));
}

/** The outcome of an ended execution, as its Map Run counts it. */
export function outcomeOf(execution: ExecutionRecord): MapRunChildOutcome | undefined {
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') return undefined;
  return {
    status: execution.status,
    executionArn: execution.arn,
    name: execution.name,
    startDate: execution.startDate,
    ...(execution.stopDate !== undefined ? { stopDate: execution.stopDate } : {}),
    ...(execution.output !== undefined ? { output: execution.output } : {}),
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
  };
}

/** Every Map Run of an engine, its children by index, and the outcomes of its Express children. */
export class MapRuns {
  readonly #runs = new Map<string, MapRunRecord>();
  readonly #byExecution = new Map<string, string[]>();
  readonly #children = new Map<string, Map<number, string>>();
  readonly #expressOutcomes = new Map<string, Map<number, MapRunChildOutcome>>();
  readonly #listeners = new Map<string, Set<() => void>>();

  get(arn: string): MapRunRecord | undefined {
    return this.#runs.get(arn);
  }

  /** The Map Runs an execution started, in the order it started them. */
  of(executionArn: string): MapRunRecord[] {
    return (this.#byExecution.get(executionArn) ?? []).map((arn) => this.#runs.get(arn)!);
  }

  /** The ARN of child `index`, if it was started (and, for an Express child, is still in memory). */
  childArn(mapRunArn: string, index: number): string | undefined {
    return this.#children.get(mapRunArn)?.get(index);
  }

  childArns(mapRunArn: string): string[] {
    return [...(this.#children.get(mapRunArn)?.values() ?? [])];
  }

  expressOutcome(mapRunArn: string, index: number): MapRunChildOutcome | undefined {
    return this.#expressOutcomes.get(mapRunArn)?.get(index);
  }

  /** Notes a child execution as it starts (or is replayed): its Map Run finds it by index. */
  addChild(execution: ExecutionRecord): void {
    if (execution.mapRunArn === undefined || execution.mapRunIndex === undefined) return;
    entryOf(this.#children, execution.mapRunArn, () => new Map()).set(execution.mapRunIndex, execution.arn);
  }

  /** An Express child has gone from memory: its outcome is recorded, or it never ended. */
  dropChild(execution: ExecutionRecord): void {
    if (execution.mapRunArn === undefined || execution.mapRunIndex === undefined) return;
    const children = this.#children.get(execution.mapRunArn);
    if (children?.get(execution.mapRunIndex) === execution.arn) children.delete(execution.mapRunIndex);
  }

  onUpdate(arn: string, listener: () => void): () => void {
    const listeners = entryOf(this.#listeners, arn, () => new Set());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#listeners.delete(arn);
    };
  }

  apply(record: MapRunRecordKind): void {
    switch (record.kind) {
      case 'mapRunSaved': {
        const known = this.#runs.has(record.mapRun.arn);
        this.#runs.set(record.mapRun.arn, { ...record.mapRun });
        if (!known) {
          const runs = this.#byExecution.get(record.mapRun.executionArn) ?? [];
          runs.push(record.mapRun.arn);
          this.#byExecution.set(record.mapRun.executionArn, runs);
        }
        return;
      }
      case 'mapRunUpdated': {
        const run = this.#runs.get(record.mapRunArn);
        if (run === undefined) return;
        if (record.maxConcurrency !== undefined) run.maxConcurrency = record.maxConcurrency;
        if (record.toleratedFailureCount !== undefined)
          run.toleratedFailureCount = record.toleratedFailureCount;
        if (record.toleratedFailurePercentage !== undefined) {
          run.toleratedFailurePercentage = record.toleratedFailurePercentage;
        }
        for (const listener of this.#listeners.get(record.mapRunArn) ?? []) listener();
        return;
      }
      case 'mapRunEnded': {
        const run = this.#runs.get(record.mapRunArn);
        if (run === undefined) return;
        run.status = record.status;
        run.stopDate = record.stopDate;
        return;
      }
      case 'mapRunRedriven': {
        const run = this.#runs.get(record.mapRunArn);
        if (run === undefined) return;
        run.status = 'RUNNING';
        delete run.stopDate;
        run.redriveCount = record.redriveCount;
        run.redriveDate = record.redriveDate;
        // Express children cannot be redriven: those that did not succeed are started again.
        const outcomes = this.#expressOutcomes.get(record.mapRunArn);
        for (const [index, outcome] of outcomes ?? []) {
          if (outcome.status !== 'SUCCEEDED') outcomes!.delete(index);
        }
        return;
      }
      case 'mapRunChildEnded': {
        entryOf(this.#expressOutcomes, record.mapRunArn, () => new Map()).set(record.index, record.outcome);
        return;
      }
    }
  }

  /** The records that rebuild every Map Run: each as it stands, then its Express children's outcomes. */
  *snapshot(): Iterable<StepFunctionsRecord> {
    for (const mapRun of this.#runs.values()) {
      yield { kind: 'mapRunSaved', mapRun: { ...mapRun } };
      for (const [index, outcome] of this.#expressOutcomes.get(mapRun.arn) ?? []) {
        yield { kind: 'mapRunChildEnded', mapRunArn: mapRun.arn, index, outcome };
      }
    }
  }

  /**
   * DescribeMapRun's itemCounts and executionCounts. `resultsWritten` counts the children whose result
   * went into the Map's output (those that succeeded); `pendingRedrive`, while a redriven Map Run runs, those
   * that failed before it and wait their turn to be redriven (counted by their status too).
   */
  counts(
    mapRun: MapRunRecord,
    executionOf: (arn: string) => ExecutionRecord | undefined,
  ): { itemCounts: MapRunCounts; executionCounts: MapRunCounts } {
    const executionCounts = emptyCounts();
    const itemCounts = emptyCounts();
    for (let index = 0; index < mapRun.childCount; index += 1) {
      const status = this.#childStatus(mapRun.arn, index, executionOf);
      const items = mapRun.batchSizes?.[index] ?? 1;
      const arn = this.childArn(mapRun.arn, index);
      const child = arn === undefined ? undefined : executionOf(arn);
      const awaitsRedrive =
        mapRun.status === 'RUNNING' &&
        child !== undefined &&
        (status === 'failed' || status === 'timedOut' || status === 'aborted') &&
        (child.mapRunAttempt ?? 0) < mapRun.redriveCount;
      for (const [counts, weight] of [
        [executionCounts, 1],
        [itemCounts, items],
      ] as const) {
        counts.total += weight;
        counts[status] += weight;
        if (status === 'succeeded') counts.resultsWritten += weight;
        if (awaitsRedrive) counts.pendingRedrive += weight;
      }
    }
    return { itemCounts, executionCounts };
  }

  #childStatus(
    mapRunArn: string,
    index: number,
    executionOf: (arn: string) => ExecutionRecord | undefined,
  ): 'pending' | 'running' | 'succeeded' | 'failed' | 'timedOut' | 'aborted' {
    const arn = this.childArn(mapRunArn, index);
    const status = this.expressOutcome(mapRunArn, index)?.status ?? (arn && executionOf(arn)?.status);
    switch (status) {
      case undefined:
        return 'pending';
      case 'SUCCEEDED':
        return 'succeeded';
      case 'FAILED':
        return 'failed';
      case 'TIMED_OUT':
        return 'timedOut';
      case 'ABORTED':
        return 'aborted';
      default:
        return 'running';
    }
  }
}

/** The value under `key`, put there by `create` first if there is none. */
function entryOf<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function emptyCounts(): MapRunCounts {
  return {
    pending: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    aborted: 0,
    total: 0,
    resultsWritten: 0,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
}
