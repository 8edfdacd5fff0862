/**
 * A failure inside an execution, named as the States Language names it.
 *
 * `error` is what Retry and Catch match with ErrorEquals; `cause` is the human-readable detail that
 * ends up in the history (TaskFailed, ExecutionFailed, ...). Both are strings, as on AWS.
 *
 * @example
 * throw new StatesError('States.Runtime', "The JSONPath '$.x' ... could not be found in the input '{}'");
 */
export class StatesError extends Error {
  override readonly name = 'StatesError';

  constructor(
    readonly error: string,
    override readonly cause: string,
    options?: { cause?: unknown },
  ) {
    super(`${error}: ${cause}`, options);
  }
}

/** The predefined error names (ASL "Errors" section, plus the ones AWS added since). */
export const StatesErrors = {
  ALL: 'States.ALL',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  Timeout: 'States.Timeout',
  TaskFailed: 'States.TaskFailed',
  Permissions: 'States.Permissions',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  BranchFailed: 'States.BranchFailed',
  NoChoiceMatched: 'States.NoChoiceMatched',
  IntrinsicFailure: 'States.IntrinsicFailure',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  ItemReaderFailed: 'States.ItemReaderFailed',
  ResultWriterFailed: 'States.ResultWriterFailed',
  Runtime: 'States.Runtime',
  DataLimitExceeded: 'States.DataLimitExceeded',
  QueryEvaluationError: 'States.QueryEvaluationError',
} as const;
