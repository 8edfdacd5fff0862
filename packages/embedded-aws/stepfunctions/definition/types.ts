/**
 * The Amazon States Language, as TypeScript types.
 *
 * These describe a definition that has passed `validateDefinition`; the interpreter relies on them.
 * Field names are exactly the ASL's, so a definition parsed from JSON can be used as is.
 */

export type QueryLanguage = 'JSONPath' | 'JSONata';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface StateMachineDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
  readonly TimeoutSeconds?: number;
  readonly Version?: string;
  readonly QueryLanguage?: QueryLanguage;
}

/** Where an error is matched by name: Retry and Catch. */
export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
  readonly Comment?: string;
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
  /** JSONata only. */
  readonly Output?: Json;
  readonly Assign?: JsonObject;
  readonly Comment?: string;
}

interface CommonFields {
  readonly Type: string;
  readonly Comment?: string;
  readonly QueryLanguage?: QueryLanguage;
  readonly Next?: string;
  readonly End?: boolean;
  // JSONPath processing
  readonly InputPath?: string | null;
  readonly OutputPath?: string | null;
  // JSONata processing
  readonly Output?: Json;
  // Both
  readonly Assign?: JsonObject;
}

export interface PassState extends CommonFields {
  readonly Type: 'Pass';
  readonly Result?: Json;
  readonly ResultPath?: string | null;
  readonly Parameters?: Json;
}

export interface TaskState extends CommonFields {
  readonly Type: 'Task';
  readonly Resource: string;
  readonly Parameters?: Json;
  readonly Arguments?: Json;
  readonly ResultSelector?: Json;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly TimeoutSeconds?: number | string;
  readonly TimeoutSecondsPath?: string;
  readonly HeartbeatSeconds?: number | string;
  readonly HeartbeatSecondsPath?: string;
  readonly Credentials?: Json;
}

export interface ChoiceRule {
  readonly Next?: string;
  readonly Comment?: string;
  /** JSONata only. */
  readonly Condition?: string | boolean;
  readonly Output?: Json;
  readonly Assign?: JsonObject;
  readonly Variable?: string;
  readonly And?: readonly ChoiceRule[];
  readonly Or?: readonly ChoiceRule[];
  readonly Not?: ChoiceRule;
  // ...and one comparison operator, e.g. StringEquals, NumericLessThanPath, IsPresent.
  readonly [operator: string]: unknown;
}

export interface ChoiceState extends CommonFields {
  readonly Type: 'Choice';
  readonly Choices: readonly ChoiceRule[];
  readonly Default?: string;
}

export interface WaitState extends CommonFields {
  readonly Type: 'Wait';
  readonly Seconds?: number | string;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
}

export interface SucceedState extends CommonFields {
  readonly Type: 'Succeed';
}

export interface FailState extends CommonFields {
  readonly Type: 'Fail';
  readonly Error?: string;
  readonly ErrorPath?: string;
  readonly Cause?: string;
  readonly CausePath?: string;
}

export interface Branch {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
  readonly Comment?: string;
  readonly QueryLanguage?: QueryLanguage;
  /** Map's ItemProcessor only. */
  readonly ProcessorConfig?: {
    readonly Mode?: 'INLINE' | 'DISTRIBUTED';
    readonly ExecutionType?: 'STANDARD' | 'EXPRESS';
  };
}

export interface ParallelState extends CommonFields {
  readonly Type: 'Parallel';
  readonly Branches: readonly Branch[];
  readonly Parameters?: Json;
  readonly Arguments?: Json;
  readonly ResultSelector?: Json;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export interface MapState extends CommonFields {
  readonly Type: 'Map';
  readonly ItemProcessor?: Branch;
  /** The older name of ItemProcessor. */
  readonly Iterator?: Branch;
  readonly ItemsPath?: string;
  /** JSONata: an array or an expression giving one. */
  readonly Items?: Json;
  readonly ItemSelector?: Json;
  /** The older name of ItemSelector. */
  readonly Parameters?: Json;
  readonly ItemReader?: JsonObject;
  readonly ItemBatcher?: JsonObject;
  readonly ResultWriter?: JsonObject;
  readonly MaxConcurrency?: number | string;
  readonly MaxConcurrencyPath?: string;
  readonly ToleratedFailurePercentage?: number | string;
  readonly ToleratedFailurePercentagePath?: string;
  readonly ToleratedFailureCount?: number | string;
  readonly ToleratedFailureCountPath?: string;
  readonly Label?: string;
  readonly ResultSelector?: Json;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export type State =
  | PassState
  | TaskState
  | ChoiceState
  | WaitState
  | SucceedState
  | FailState
  | ParallelState
  | MapState;
export type StateType = State['Type'];
