/**
 * The errors of the Step Functions API reference, one class each, named exactly as the SDK's exception
 * classes (`err.name` in SDK v3, `Error.Code` in the CLI). On the wire their `__type` carries the namespace
 * real Step Functions uses, `com.amazonaws.swf.service.v2.model#<Name>`, which clients strip.
 *
 * Messages follow AWS's `<Title Case Name>: '<detail>'` form, e.g. `Execution Does Not Exist: '<arn>'`;
 * callers pass the whole message.
 *
 * @example
 * throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
 */
import { AwsError } from '../../aws/errors.ts';

/** Where Step Functions' own (non-Coral) exceptions live, as raw responses show. */
export const STEP_FUNCTIONS_ERROR_NAMESPACE = 'com.amazonaws.swf.service.v2.model';

/** A Step Functions exception; the subclasses below are the ones the API reference lists. */
export class StepFunctionsError extends AwsError {
  constructor(
    name: string,
    message: string,
    options: { statusCode?: number; fields?: Record<string, unknown> } = {},
  ) {
    super(name, message, { ...options, namespace: STEP_FUNCTIONS_ERROR_NAMESPACE });
  }
}

/**
 * Declares a client-fault (HTTP 400 unless told) Step Functions exception class named `name`.
 * The class's `name` is a literal, so `err.name === 'InvalidArn'` narrows as the SDK's classes do.
 */
function stepFunctionsError<const Name extends string>(name: Name, statusCode = 400) {
  return class extends StepFunctionsError {
    declare readonly name: Name;
    constructor(message: string) {
      super(name, message, { statusCode });
    }
  };
}

/** The ARN is malformed or names the wrong kind of resource. @example new InvalidArn("Invalid Arn: 'Invalid ARN prefix: abc'") */
export class InvalidArn extends stepFunctionsError('InvalidArn') {}
/** The Amazon States Language definition is invalid. @example new InvalidDefinition("Invalid State Machine Definition: '...'") */
export class InvalidDefinition extends stepFunctionsError('InvalidDefinition') {}
/** A state machine or execution name has a forbidden character. @example new InvalidName("Invalid Name: 'a b'") */
export class InvalidName extends stepFunctionsError('InvalidName') {}
/** The execution input is not JSON. @example new InvalidExecutionInput("Invalid State Machine Execution Input: '...'") */
export class InvalidExecutionInput extends stepFunctionsError('InvalidExecutionInput') {}
/** A task token or page token is not one the service issued. @example new InvalidToken("Invalid Token: '...'") */
export class InvalidToken extends stepFunctionsError('InvalidToken') {}
/** SendTaskSuccess output is not JSON. @example new InvalidOutput("Invalid Output: '...'") */
export class InvalidOutput extends stepFunctionsError('InvalidOutput') {}
/** loggingConfiguration is unusable. @example new InvalidLoggingConfiguration('Invalid Logging Configuration: ...') */
export class InvalidLoggingConfiguration extends stepFunctionsError('InvalidLoggingConfiguration') {}
/** tracingConfiguration is unusable. @example new InvalidTracingConfiguration('Invalid Tracing Configuration: ...') */
export class InvalidTracingConfiguration extends stepFunctionsError('InvalidTracingConfiguration') {}
/** encryptionConfiguration is unusable. @example new InvalidEncryptionConfiguration('...') */
export class InvalidEncryptionConfiguration extends stepFunctionsError('InvalidEncryptionConfiguration') {}
/** A machine of that name exists with a different definition, role or configuration. @example new StateMachineAlreadyExists("State Machine Already Exists: 'arn'") */
export class StateMachineAlreadyExists extends stepFunctionsError('StateMachineAlreadyExists') {}
/** No machine has that ARN. @example new StateMachineDoesNotExist("State Machine Does Not Exist: 'arn'") */
export class StateMachineDoesNotExist extends stepFunctionsError('StateMachineDoesNotExist') {}
/** The machine is being deleted. @example new StateMachineDeleting("State Machine Is Being Deleted: 'arn'") */
export class StateMachineDeleting extends stepFunctionsError('StateMachineDeleting') {}
/** Too many machines. @example new StateMachineLimitExceeded('...') */
export class StateMachineLimitExceeded extends stepFunctionsError('StateMachineLimitExceeded') {}
/** The action does not apply to this machine type (e.g. StartSyncExecution on STANDARD). @example new StateMachineTypeNotSupported('...') */
export class StateMachineTypeNotSupported extends stepFunctionsError('StateMachineTypeNotSupported') {}
/** The execution name is taken (and not an idempotent retry). @example new ExecutionAlreadyExists("Execution Already Exists: 'arn'") */
export class ExecutionAlreadyExists extends stepFunctionsError('ExecutionAlreadyExists') {}
/** No execution has that ARN. @example new ExecutionDoesNotExist("Execution Does Not Exist: 'arn'") */
export class ExecutionDoesNotExist extends stepFunctionsError('ExecutionDoesNotExist') {}
/** Too many open executions. @example new ExecutionLimitExceeded('...') */
export class ExecutionLimitExceeded extends stepFunctionsError('ExecutionLimitExceeded') {}
/** RedriveExecution on an execution that cannot be redriven. @example new ExecutionNotRedrivable('...') */
export class ExecutionNotRedrivable extends stepFunctionsError('ExecutionNotRedrivable') {}
/** The task token names no task. @example new TaskDoesNotExist("Task Does Not Exist: '...'") */
export class TaskDoesNotExist extends stepFunctionsError('TaskDoesNotExist') {}
/** The task behind the token has already ended or timed out. @example new TaskTimedOut("Task Timed Out: '...'") */
export class TaskTimedOut extends stepFunctionsError('TaskTimedOut') {}
/** UpdateStateMachine with nothing to update. @example new MissingRequiredParameter('...') */
export class MissingRequiredParameter extends stepFunctionsError('MissingRequiredParameter') {}
/** Concurrent conflicting updates (HTTP 409). @example new ConflictException('...') */
export class ConflictException extends stepFunctionsError('ConflictException', 409) {}
/** Too many tags on a resource. @example new TooManyTags('...', 'arn') */
export class TooManyTags extends StepFunctionsError {
  declare readonly name: 'TooManyTags';
  constructor(message: string, resourceName?: string) {
    super('TooManyTags', message, resourceName === undefined ? {} : { fields: { resourceName } });
  }
}
/** A resource (map run, alias, version, activity...) was not found (HTTP 404). @example new ResourceNotFound('Resource not found', 'arn') */
export class ResourceNotFound extends StepFunctionsError {
  declare readonly name: 'ResourceNotFound';
  constructor(message: string, resourceName?: string) {
    super('ResourceNotFound', message, {
      statusCode: 404,
      ...(resourceName === undefined ? {} : { fields: { resourceName } }),
    });
  }
}
/** A service quota would be exceeded (HTTP 402). @example new ServiceQuotaExceededException('...') */
export class ServiceQuotaExceededException extends stepFunctionsError('ServiceQuotaExceededException', 402) {}
/** No activity has that ARN. @example new ActivityDoesNotExist("Activity Does Not Exist: 'arn'") */
export class ActivityDoesNotExist extends stepFunctionsError('ActivityDoesNotExist') {}
/** An activity of that name exists with other settings. @example new ActivityAlreadyExists('...') */
export class ActivityAlreadyExists extends stepFunctionsError('ActivityAlreadyExists') {}
/** Too many activities. @example new ActivityLimitExceeded('...') */
export class ActivityLimitExceeded extends stepFunctionsError('ActivityLimitExceeded') {}
/** Too many workers polling an activity. @example new ActivityWorkerLimitExceeded('...') */
export class ActivityWorkerLimitExceeded extends stepFunctionsError('ActivityWorkerLimitExceeded') {}
/** KMS refused the service or the caller. @example new KmsAccessDeniedException('...') */
export class KmsAccessDeniedException extends stepFunctionsError('KmsAccessDeniedException') {}
/** The KMS key is disabled or pending deletion. @example new KmsInvalidStateException('...') */
export class KmsInvalidStateException extends stepFunctionsError('KmsInvalidStateException') {}
/** KMS throttled the service. @example new KmsThrottlingException('...') */
export class KmsThrottlingException extends stepFunctionsError('KmsThrottlingException') {}

/** Constraint violations of the request itself are the common ValidationException. */
export { ValidationException } from '../../aws/errors.ts';
