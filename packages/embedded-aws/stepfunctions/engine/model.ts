import type { Json, StateMachineDefinition } from '../definition/types.ts';
import type { HistoryEvent } from './history.ts';

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

export interface StateMachineRecord {
  readonly arn: string;
  readonly name: string;
  readonly type: StateMachineType;
  readonly definition: string;
  readonly roleArn: string;
  readonly creationDate: number;
  readonly updateDate?: number;
  /** Absent for the first revision, as on AWS; each update sets a new one. */
  readonly revisionId?: string;
  readonly description?: string;
  readonly loggingConfiguration?: Json;
  readonly tracingConfiguration?: Json;
}

export interface ExecutionRecord {
  readonly arn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly type: StateMachineType;
  /** The definition the execution runs: later updates of the machine do not change a running execution. */
  readonly definition: string;
  /** The machine's revision when the execution started, and that revision's date. */
  readonly revisionId?: string;
  readonly revisionDate: number;
  readonly roleArn: string;
  readonly input: string;
  readonly startDate: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
  /** A child workflow execution of a distributed Map: the Map Run that started it. */
  readonly mapRunArn?: string;
  /** Which of the Map Run's children it is (the item's, or the batch's, index). */
  readonly mapRunIndex?: number;
  /**
   * The Map Run's redriveCount when this child last ran (started, or redriven with its Map Run; absent: 0),
   * so that a redriven Map Run redrives each child that failed before it once, and only once.
   */
  mapRunAttempt?: number;
}

export type MapRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/**
 * A distributed Map's run: the child workflow executions one Map state started, and the settings that
 * govern them (DescribeMapRun). Its children are executions of their own (`ExecutionRecord.mapRunArn`).
 */
export interface MapRunRecord {
  readonly arn: string;
  /** The execution whose Map state started it. */
  readonly executionArn: string;
  /** `…:stateMachine:<machine>/<label>`: what its children run. */
  readonly stateMachineArn: string;
  readonly childType: StateMachineType;
  readonly startDate: number;
  /** Children to start (items, or batches of them). */
  readonly childCount: number;
  /** With an ItemBatcher: how many items each child gets; without one, each gets one. */
  readonly batchSizes?: readonly number[];
  status: MapRunStatus;
  stopDate?: number;
  /** 0: as many at once as the service allows. */
  maxConcurrency: number;
  toleratedFailureCount?: number;
  toleratedFailurePercentage?: number;
  redriveCount: number;
  redriveDate?: number;
}

/** Where one branch (the top level, a Parallel branch or a Map iteration) stands, durably. */
export interface BranchCheckpoint {
  /** The state the branch is in, or about to enter. */
  readonly state: string;
  /** That state's raw input. */
  readonly input: Json;
  /** The variables this branch sees (its own and its enclosing scopes'). */
  readonly variables: Readonly<Record<string, Json>>;
  /** The last event this branch wrote: the next one's previousEventId. */
  readonly previousEventId: number;
  /** Set once the StateEntered event is written. */
  readonly entered?: { readonly eventId: number; readonly time: number; readonly previousEventId?: number };
  /** `$$.State.RetryCount`: retries so far in this state. */
  readonly retryCount: number;
  /** Attempts used per retrier of the state, by retrier index. */
  readonly retrierAttempts: readonly number[];
  readonly step?: StepCheckpoint;
  /** The branch has ended; `input` holds its output. */
  readonly done?: boolean;
  /** The branch failed with this error (a Parallel branch or Map iteration). */
  readonly failed?: { readonly error: string; readonly cause: string };
  /**
   * A Map iteration's MapIterationStarted: its id, and the event it chained on. While the iteration has
   * written no state event, the next iteration chains where this one did.
   */
  readonly iterationStarted?: { readonly eventId: number; readonly from: number };
  /**
   * A Parallel or inline Map state that failed: the outputs of its branches (iterations) that had
   * succeeded, by index. A redrive of the execution runs only the others, as RedriveExecution does on AWS.
   */
  readonly keptOutputs?: Readonly<Record<string, Json>>;
  /**
   * A distributed Map state that failed (or was stopped) once its Map Run had started: its step, so that a
   * redrive of the execution redrives that Map Run (its children that did not succeed) instead of starting
   * another, as AWS does.
   */
  readonly keptMapRun?: FanOutStep;
  /** The Map iteration's MapIterationSucceeded/Failed event is written. */
  readonly ended?: boolean;
  /**
   * That event's id. The iteration's `previousEventId` stays on its last state event, which is what AWS
   * chains the next iteration's MapIterationStarted (and a failing Map's MapStateFailed) on.
   */
  readonly endedEventId?: number;
}

export type StepCheckpoint = TaskStep | BackoffStep | WaitStep | FanOutStep;

export interface TaskStep {
  readonly kind: 'task';
  readonly parameters: Json;
  readonly started: boolean;
  readonly token?: string;
  readonly submitted?: boolean;
  /** Epoch ms by which the task must finish (TimeoutSeconds). */
  readonly deadline?: number;
  /** HeartbeatSeconds, for SendTaskHeartbeat to move the deadline by. */
  readonly heartbeatSeconds?: number;
  /** Epoch ms by which the next heartbeat must arrive (HeartbeatSeconds). */
  readonly heartbeatDeadline?: number;
  /** A SendTaskSuccess/Failure that arrived and was recorded before the runner consumed it. */
  readonly outcome?: TaskOutcome;
}

export type TaskOutcome = { readonly output: Json } | { readonly error: string; readonly cause: string };

export interface BackoffStep {
  readonly kind: 'backoff';
  readonly dueAt: number;
}

export interface WaitStep {
  readonly kind: 'wait';
  readonly dueAt: number;
}

export interface FanOutStep {
  readonly kind: 'fan-out';
  /** The Parallel/MapStateStarted event: branches chain from it. */
  readonly startedEventId: number;
  /** The effective input the branches were given (Map: the items after ItemSelector). */
  readonly inputs: readonly Json[];
  /** A distributed Map's run, once its MapRunStarted is written. */
  readonly mapRunArn?: string;
  /** The TaskStateAborted of the branch that failed the fan-out in a Task state is written. */
  readonly failedTaskAborted?: boolean;
}

export type BranchResult = { readonly output: Json } | { readonly error: string; readonly cause: string };

export type { HistoryEvent, StateMachineDefinition };
