/**
 * The records of the Step Functions journal (`stepfunctions.*.jsonl` in the data directory), one JSON object a
 * line, and the upgrade of records an older version of this code wrote. The names are meant to be read by
 * someone opening a data directory to see what happened to a state machine or an execution, so they say what
 * changed in Step Functions' own terms.
 *
 * A history event is kept as GetExecutionHistory shows it, but for its JSON payloads (inputs, outputs,
 * parameters), which are held as values, `{ "$json": ... }`, rather than as escaped text (see history.ts).
 * A branch is the top level of an execution (`root`), a Parallel branch or a Map iteration; a nested one is
 * named by its parent, the id of the event its fan-out started with and its index: `root>3.0`.
 *
 * Version 4 (current): version 3 and `mapRunRedriven` (a redrive of the execution redrives a failed Map
 * Run); version 3 records are version 4 records as they are.
 * Version 3: version 2 and the Map Run records (`mapRun*`): a distributed Map's run, its settings,
 * its end, and how each Express child ended (Standard children are executions, with `mapRunArn`). Code of
 * version 2 would skip those records unseen, so version 3 files are refused by it rather than misread;
 * version 2 records are version 3 records as they are.
 * Version 2: `kind` names the change. Version 1 used a terse `t` and bare `arn`/`key` fields
 * (`{ t: 'event', arn, event, key, checkpoint, finish }`); `upgradeStepFunctionsRecord` turns those into
 * version 2 when a data directory written by that code is opened, and the compaction that follows rewrites them.
 */
import type { ExecutionFinish } from './execution-runner.ts';
import type { HistoryEvent } from './history.ts';
import type {
  BranchCheckpoint,
  ExecutionRecord,
  ExecutionStatus,
  MapRunRecord,
  MapRunStatus,
  StateMachineRecord,
} from './model.ts';

/** The version of the records below; bump it, and extend `upgradeStepFunctionsRecord`, when one changes shape. */
export const STEP_FUNCTIONS_RECORD_VERSION = 4;

/** One line of the Step Functions journal. */
export type StepFunctionsRecord =
  /** Created or updated: the state machine as it now is. */
  | { readonly kind: 'stateMachineSaved'; readonly stateMachine: StateMachineRecord }
  | { readonly kind: 'stateMachineDeleted'; readonly stateMachineArn: string }
  /** A Standard execution started; its history follows as `eventAppended` records. */
  | { readonly kind: 'executionStarted'; readonly execution: ExecutionRecord }
  /** RedriveExecution: the execution runs again; its stop date, output, error and cause are cleared. */
  | {
      readonly kind: 'executionRedriven';
      readonly executionArn: string;
      readonly redriveCount: number;
      readonly redriveDate: number;
      /** A Map Run's child, redriven with its Map Run: the Map Run's redriveCount. */
      readonly mapRunAttempt?: number;
    }
  /**
   * Snapshots (and version 1's execution records): the execution as it stands, its status, stop date and
   * outcome included, followed by its history and its branches' checkpoints. Replaces what was known of it.
   */
  | { readonly kind: 'executionSaved'; readonly execution: ExecutionRecord }
  /**
   * The next event of an execution's history. In the log, written together with where the branch that wrote
   * it now stands (`branch`, `checkpoint`), or with how the execution ended when it is the last event.
   */
  | {
      readonly kind: 'eventAppended';
      readonly executionArn: string;
      readonly event: HistoryEvent;
      readonly branch?: string;
      readonly checkpoint?: BranchCheckpoint;
      readonly executionEnded?: ExecutionFinish;
    }
  /**
   * Where a branch stands: in the log, when it moves on without an event (a timer set, a task token
   * answered); in snapshots, every one still kept: those of branches under way, and the top level of an
   * ended execution, where a redrive resumes.
   */
  | {
      readonly kind: 'checkpointSaved';
      readonly executionArn: string;
      readonly branch: string;
      readonly checkpoint: BranchCheckpoint;
    }
  /** A Parallel or Map state has its outcome: its branches' checkpoints are no longer needed. */
  | { readonly kind: 'checkpointRemoved'; readonly executionArn: string; readonly branch: string }
  /** A distributed Map started a Map Run; in snapshots, the Map Run as it stands. Replaces what was known. */
  | { readonly kind: 'mapRunSaved'; readonly mapRun: MapRunRecord }
  /** UpdateMapRun: the settings it changed. */
  | {
      readonly kind: 'mapRunUpdated';
      readonly mapRunArn: string;
      readonly maxConcurrency?: number;
      readonly toleratedFailureCount?: number;
      readonly toleratedFailurePercentage?: number;
    }
  | {
      readonly kind: 'mapRunEnded';
      readonly mapRunArn: string;
      readonly status: Exclude<MapRunStatus, 'RUNNING'>;
      readonly stopDate: number;
    }
  /**
   * RedriveExecution reached a failed distributed Map: its Map Run runs again (RUNNING, one more redrive),
   * and the Express children that did not succeed are forgotten, to be started again.
   */
  | {
      readonly kind: 'mapRunRedriven';
      readonly mapRunArn: string;
      readonly redriveCount: number;
      readonly redriveDate: number;
    }
  /** An Express child ended: AWS keeps no history of it, only its outcome counts (and gives its output). */
  | {
      readonly kind: 'mapRunChildEnded';
      readonly mapRunArn: string;
      readonly index: number;
      readonly outcome: MapRunChildOutcome;
    };

/** How a child of a Map Run ended, and which execution it was (absent in records before version 4). */
export interface MapRunChildOutcome {
  readonly status: Exclude<ExecutionStatus, 'RUNNING' | 'PENDING_REDRIVE'>;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly executionArn?: string;
  readonly name?: string;
  readonly startDate?: number;
  readonly stopDate?: number;
}

/**
 * Turns a record of an older version into the current shape (`JournalOptions.upgrade`).
 *
 * @example
 * upgradeStepFunctionsRecord({ t: 'machine-deleted', arn: 'arn:aws:states:us-east-1:0:stateMachine:m' }, 1);
 * // { kind: 'stateMachineDeleted', stateMachineArn: 'arn:aws:states:us-east-1:0:stateMachine:m' }
 */
export function upgradeStepFunctionsRecord(record: unknown, fromVersion: number): StepFunctionsRecord {
  // Versions 3 and 4 only added record kinds: a version 2 or 3 record is one of version 4 as it is.
  if (fromVersion === 2 || fromVersion === 3) return record as StepFunctionsRecord;
  if (fromVersion !== 1) {
    throw new Error(`No upgrade of Step Functions journal records from version ${fromVersion}`);
  }
  return fromVersion1(record as StepFunctionsRecordVersion1);
}

// ─── Version 1 ─────────────────────────────────────────────────────────────────────────────────────────

type StepFunctionsRecordVersion1 =
  | { readonly t: 'machine'; readonly machine: StateMachineRecord }
  | { readonly t: 'machine-deleted'; readonly arn: string }
  /** Written on start, on redrive (the whole record, status RUNNING) and in snapshots alike. */
  | { readonly t: 'execution'; readonly execution: ExecutionRecord }
  | {
      readonly t: 'event';
      /** The execution's. */
      readonly arn: string;
      readonly event: HistoryEvent;
      /** The branch, with its checkpoint: version 1 removed checkpoints only with `checkpoint` records. */
      readonly key?: string;
      readonly checkpoint?: BranchCheckpoint;
      readonly finish?: ExecutionFinish;
    }
  | {
      readonly t: 'checkpoint';
      readonly arn: string;
      readonly key: string;
      /** Null: the branch's checkpoint is removed. */
      readonly checkpoint: BranchCheckpoint | null;
    };

function fromVersion1(record: StepFunctionsRecordVersion1): StepFunctionsRecord {
  switch (record.t) {
    case 'machine':
      return { kind: 'stateMachineSaved', stateMachine: record.machine };
    case 'machine-deleted':
      return { kind: 'stateMachineDeleted', stateMachineArn: record.arn };
    case 'execution':
      // Whether it was a start, a redrive or a snapshot's, the whole record replaces what came before.
      return { kind: 'executionSaved', execution: record.execution };
    case 'event':
      return {
        kind: 'eventAppended',
        executionArn: record.arn,
        event: record.event,
        ...(record.key !== undefined ? { branch: record.key, checkpoint: record.checkpoint } : {}),
        ...(record.finish !== undefined ? { executionEnded: record.finish } : {}),
      };
    case 'checkpoint':
      return record.checkpoint === null
        ? { kind: 'checkpointRemoved', executionArn: record.arn, branch: record.key }
        : {
            kind: 'checkpointSaved',
            executionArn: record.arn,
            branch: record.key,
            checkpoint: record.checkpoint,
          };
    default:
      throw new Error(`Unknown Step Functions journal record of version 1: ${JSON.stringify(record)}`);
  }
}
