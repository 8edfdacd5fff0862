/**
 * The functions the embedded Lambda knows, and how Lambda reads a function reference: a name
 * (`pay`), a name with a qualifier (`pay:$LATEST`), a partial ARN (`000000000000:function:pay`) or a
 * full ARN (`arn:aws:lambda:us-east-1:000000000000:function:pay`). Functions are registered from code
 * (there is no CreateFunction API here), and only `$LATEST` exists: there are no versions or aliases.
 */
import { invalidParameterValue, resourceNotFound, validationError } from './errors.ts';

/**
 * A function to run in-process.
 *
 * @example
 * const definition: FunctionDefinition = {
 *   name: 'vend-credit',
 *   handler: 'src/handlers/vend-credit.ts#handler', // module path (relative to the cwd) + export
 *   environment: { TABLE: 'payments' },
 *   timeoutSeconds: 30,
 * };
 */
export interface FunctionDefinition {
  readonly name: string;
  /**
   * The module and its export: `path/to/module.ts#handler`, or Lambda's own `path/to/module.handler`
   * notation (the last dot separates the export; the module may then omit its extension only if Node can
   * resolve it). A relative path is resolved against the process's working directory.
   */
  readonly handler: string;
  readonly environment?: Readonly<Record<string, string>>;
  /** 1–900, default 3, as Lambda's. */
  readonly timeoutSeconds?: number;
  /** 128–10240, default 128, as Lambda's. */
  readonly memoryMb?: number;
}

/** A registered function with every default filled in. */
export interface RegisteredFunction {
  readonly name: string;
  readonly arn: string;
  readonly modulePath: string;
  readonly exportName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/** A function reference split into its parts; region and account only when an ARN named them. */
export interface FunctionReference {
  readonly name: string;
  readonly qualifier?: string;
  readonly region?: string;
  readonly accountId?: string;
}

/**
 * Environment variables Lambda sets itself and refuses in a function's configuration (the list in the
 * Lambda developer guide, "Defined runtime environment variables").
 */
export const RESERVED_ENVIRONMENT_KEYS: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9_-]{1,128})$/;
// The Invoke model's FunctionName pattern, anchored (region and account parts are optional).
const REFERENCE =
  /^(?:arn:(aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9_.-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;
const MAX_REFERENCE_LENGTH = 170;

/**
 * Reads a FunctionName the way Invoke does, or throws ValidationException for one that matches no format.
 *
 * @example
 * parseFunctionReference('arn:aws:lambda:eu-west-2:000000000000:function:pay:$LATEST')
 * // { name: 'pay', qualifier: '$LATEST', region: 'eu-west-2', accountId: '000000000000' }
 */
export function parseFunctionReference(reference: string): FunctionReference {
  const match = reference.length <= MAX_REFERENCE_LENGTH ? REFERENCE.exec(reference) : null;
  // An ARN prefix must be a whole ARN: `arn:aws:lambda:` followed by region, account and `function:`.
  const isArn = reference.startsWith('arn:');
  if (
    match === null ||
    (isArn && (match[2] === undefined || match[3] === undefined || !reference.includes(':function:')))
  ) {
    throw validationError(
      `1 validation error detected: Value '${reference}' at 'functionName' failed to satisfy constraint: ` +
        `Member must satisfy regular expression pattern: ` +
        `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  const [, , region, accountId, name = '', qualifier] = match;
  return {
    name,
    ...(qualifier === undefined ? {} : { qualifier }),
    ...(region === undefined ? {} : { region }),
    ...(accountId === undefined ? {} : { accountId }),
  };
}

/**
 * The registered functions of one region and account.
 *
 * @example
 * const registry = new FunctionRegistry({ region: 'us-east-1', accountId: '000000000000' });
 * registry.register({ name: 'echo', handler: '/srv/functions/echo.ts#handler' });
 * registry.resolve('arn:aws:lambda:us-east-1:000000000000:function:echo').name; // 'echo'
 */
export class FunctionRegistry {
  readonly region: string;
  readonly accountId: string;
  readonly #functions = new Map<string, RegisteredFunction>();

  constructor(options: { region: string; accountId: string }) {
    this.region = options.region;
    this.accountId = options.accountId;
  }

  /** Adds or replaces a function; throws for a configuration Lambda's CreateFunction would refuse. */
  register(definition: FunctionDefinition): RegisteredFunction {
    if (!NAME.test(definition.name)) {
      throw invalidParameterValue(`Invalid function name: ${JSON.stringify(definition.name)}`);
    }
    const timeoutSeconds = definition.timeoutSeconds ?? 3;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900) {
      throw invalidParameterValue(
        `Timeout must be a whole number of seconds from 1 to 900: ${timeoutSeconds}`,
      );
    }
    const memoryMb = definition.memoryMb ?? 128;
    if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10240) {
      throw invalidParameterValue(`MemorySize must be a whole number of MB from 128 to 10240: ${memoryMb}`);
    }
    const environment = { ...(definition.environment ?? {}) };
    const reserved = Object.keys(environment).filter((key) => RESERVED_ENVIRONMENT_KEYS.includes(key));
    if (reserved.length > 0) {
      throw invalidParameterValue(
        'Lambda was unable to configure your environment variables because the environment variables you ' +
          'have provided contains reserved keys that are currently not supported for modification. ' +
          `Reserved keys used in this request: ${reserved.join(', ')}`,
      );
    }
    const { modulePath, exportName } = splitHandler(definition.handler);
    const registered: RegisteredFunction = {
      name: definition.name,
      arn: this.arnOf(definition.name),
      modulePath,
      exportName,
      environment,
      timeoutSeconds,
      memoryMb,
    };
    this.#functions.set(definition.name, registered);
    return registered;
  }

  /**
   * The function a FunctionName (and optional Qualifier) names, or Lambda's error: ValidationException for
   * a malformed name, InvalidParameterValueException when the qualifier contradicts the ARN's, and
   * ResourceNotFoundException for an unknown function, another region or account, or a version other than
   * `$LATEST`.
   */
  resolve(functionName: string, qualifier?: string): RegisteredFunction {
    const reference = parseFunctionReference(functionName);
    if (qualifier !== undefined && !QUALIFIER.test(qualifier)) {
      throw validationError(
        `1 validation error detected: Value '${qualifier}' at 'qualifier' failed to satisfy constraint: ` +
          'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)',
      );
    }
    if (qualifier !== undefined && reference.qualifier !== undefined && qualifier !== reference.qualifier) {
      throw invalidParameterValue(
        'The derived qualifier from the function name does not match the specified qualifier.',
      );
    }
    if (reference.region !== undefined && reference.region !== this.region) {
      // Guess at the wording; Lambda refuses cross-region ARNs with ResourceNotFoundException.
      throw resourceNotFound(
        `Functions from '${reference.region}' are not reachable in this region ('${this.region}')`,
      );
    }
    const wanted = qualifier ?? reference.qualifier;
    const fn = this.#functions.get(reference.name);
    const accountMatches = reference.accountId === undefined || reference.accountId === this.accountId;
    if (fn === undefined || !accountMatches || (wanted !== undefined && wanted !== '$LATEST')) {
      const arn = `arn:aws:lambda:${this.region}:${reference.accountId ?? this.accountId}:function:${reference.name}`;
      throw resourceNotFound(`Function not found: ${wanted === undefined ? arn : `${arn}:${wanted}`}`);
    }
    return fn;
  }

  /** The registered function called `name`, if any. */
  get(name: string): RegisteredFunction | undefined {
    return this.#functions.get(name);
  }

  arnOf(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
  }
}

/** `dir/mod.ts#handler` or Lambda's `dir/mod.handler`. */
function splitHandler(handler: string): { modulePath: string; exportName: string } {
  const hash = handler.lastIndexOf('#');
  const separator = hash >= 0 ? hash : handler.lastIndexOf('.');
  const modulePath = separator > 0 ? handler.slice(0, separator) : '';
  const exportName = separator > 0 ? handler.slice(separator + 1) : '';
  if (modulePath === '' || !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw invalidParameterValue(
      `Handler must be "path/to/module.ts#export" or "path/to/module.export": ${JSON.stringify(handler)}`,
    );
  }
  return { modulePath, exportName };
}
