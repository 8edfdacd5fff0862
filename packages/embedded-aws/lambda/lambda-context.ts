/**
 * The context object a Node.js Lambda handler receives as its second argument, with the members the
 * Node.js runtime gives it (`memoryLimitInMB` is a string there, as it comes from an environment
 * variable). The deprecated `done`/`succeed`/`fail` are left out: the Node.js 20+ runtimes' handlers are
 * async functions.
 */
import { randomBytes } from 'node:crypto';
import type { RegisteredFunction } from './function-registry.ts';

export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly clientContext?: unknown;
  readonly identity?: unknown;
  getRemainingTimeInMillis(): number;
}

/** What one execution environment keeps across invocations: its log stream. */
export interface ExecutionEnvironment {
  readonly logStreamName: string;
}

/**
 * A new execution environment's identity: Lambda names a log stream per environment,
 * `YYYY/MM/DD/[$LATEST]<32 hex digits>`.
 *
 * @example
 * newExecutionEnvironment(new Date('2030-01-02')).logStreamName; // '2030/01/02/[$LATEST]9f0c…'
 */
export function newExecutionEnvironment(now = new Date()): ExecutionEnvironment {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return { logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}` };
}

/**
 * The context for one invocation; `deadline` is the epoch millisecond at which the function times out.
 *
 * @example
 * const context = lambdaContext({ fn, invokedFunctionArn: fn.arn, requestId, deadline: Date.now() + 3000, environment });
 * context.getRemainingTimeInMillis(); // ≤ 3000
 */
export function lambdaContext(options: {
  fn: RegisteredFunction;
  invokedFunctionArn: string;
  requestId: string;
  deadline: number;
  environment: ExecutionEnvironment;
  clientContext?: unknown;
}): LambdaContext {
  const { fn, deadline } = options;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: options.invokedFunctionArn,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: options.requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: options.environment.logStreamName,
    ...(options.clientContext === undefined ? {} : { clientContext: options.clientContext }),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/**
 * The variables Lambda's runtime defines for a function (Lambda developer guide, "Defined runtime
 * environment variables"). Credentials come from the host's environment when it has them; otherwise the
 * function gets placeholder ones, as a Lambda always has its role's, so its SDK clients can sign requests
 * to the embedded AWS (which accepts any).
 *
 * @example
 * runtimeVariables(fn, 'us-east-1', environment).AWS_LAMBDA_FUNCTION_NAME; // fn.name
 */
export function runtimeVariables(
  fn: RegisteredFunction,
  region: string,
  environment: ExecutionEnvironment,
): Record<string, string> {
  return {
    _HANDLER: `${fn.modulePath}.${fn.exportName}`,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: environment.logStreamName,
    LAMBDA_TASK_ROOT: process.cwd(),
    ...(process.env.AWS_ACCESS_KEY_ID === undefined
      ? { AWS_ACCESS_KEY_ID: 'embedded', AWS_SECRET_ACCESS_KEY: 'embedded' }
      : {}),
  };
}
