/**
 * The payloads Lambda answers with when a function fails (`X-Amz-Function-Error: Unhandled`), as the
 * Node.js runtime and the Lambda service write them.
 */

/** `{ errorType, errorMessage, trace }`: the Node.js runtime's report of a thrown error. */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

/**
 * What the Node.js runtime reports for a value the handler threw (or rejected with): an Error's `name`,
 * `message` and stack lines; for anything else, guessed from the runtime's behaviour, its `typeof` and its
 * string form.
 *
 * @example
 * thrownErrorPayload(new RangeError('too big'));
 * // { errorType: 'RangeError', errorMessage: 'too big', trace: ['RangeError: too big', '    at …'] }
 */
export function thrownErrorPayload(thrown: unknown): FunctionErrorPayload {
  if (thrown instanceof Error) {
    return {
      errorType: thrown.name,
      errorMessage: thrown.message,
      trace: (thrown.stack ?? `${thrown.name}: ${thrown.message}`).split('\n'),
    };
  }
  return { errorType: typeof thrown, errorMessage: safeString(thrown), trace: [] };
}

/**
 * The Lambda service's timeout report (since the Amazon Linux 2023 runtimes; older runtimes only sent
 * an `errorMessage` with a timestamp).
 *
 * @example
 * timeoutPayload('8f5…', 3); // { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 8f5… Error: Task timed out after 3.00 seconds' }
 */
export function timeoutPayload(requestId: string, timeoutSeconds: number): FunctionErrorPayload {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  };
}

/**
 * The module could not be loaded: `Runtime.ImportModuleError` when it is missing,
 * `Runtime.UserCodeSyntaxError` when it does not parse; an error thrown by the module's own top-level code
 * is reported as that error, as the runtime does.
 *
 * @example
 * importErrorPayload(Object.assign(new Error("Cannot find module 'x'"), { code: 'ERR_MODULE_NOT_FOUND' }));
 * // { errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'x'", trace: [...] }
 */
export function importErrorPayload(thrown: unknown): FunctionErrorPayload {
  const code = (thrown as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    const error = thrown as Error;
    return {
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `Error: ${error.message}`,
      trace: [
        `Runtime.ImportModuleError: Error: ${error.message}`,
        ...(error.stack ?? '').split('\n').slice(1),
      ],
    };
  }
  if (thrown instanceof SyntaxError) {
    return {
      errorType: 'Runtime.UserCodeSyntaxError',
      errorMessage: `SyntaxError: ${thrown.message}`,
      trace: [`Runtime.UserCodeSyntaxError: SyntaxError: ${thrown.message}`],
    };
  }
  return thrownErrorPayload(thrown);
}

/**
 * The handler export is missing or not a function.
 *
 * @example
 * handlerNotFoundPayload('handlers/pay.ts', 'handler');
 */
export function handlerNotFoundPayload(modulePath: string, exportName: string): FunctionErrorPayload {
  const message = `${modulePath}.${exportName} is undefined or not exported`;
  return {
    errorType: 'Runtime.HandlerNotFound',
    errorMessage: message,
    trace: [`Runtime.HandlerNotFound: ${message}`],
  };
}

/**
 * The function's response is larger than a synchronous invocation may return (6 MB). The odd byte count
 * is the one Lambda's message quotes.
 *
 * @example
 * responseTooLargePayload();
 */
export function responseTooLargePayload(): FunctionErrorPayload {
  return {
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
  };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
