/**
 * The RDS Data API on the embedded AWS's front door (REST-JSON, as `@aws-sdk/client-rds-data` calls it):
 *
 *   POST /Execute              ExecuteStatement
 *   POST /BatchExecute         BatchExecuteStatement
 *   POST /BeginTransaction     BeginTransaction
 *   POST /CommitTransaction    CommitTransaction
 *   POST /RollbackTransaction  RollbackTransaction
 *
 * There is one database: resourceArn and secretArn are required and checked against the API reference's
 * length limits; any cluster reaches the same PostgreSQL, and the secret chooses only the database user its
 * calls run as (the database's `roles`; any other secret is the master). `database` and `schema` are accepted
 * and ignored (the reference says `schema` is not supported).
 *
 * Request validation failures are BadRequestException with the Coral validator's wording (guess: the Data
 * API model has no ValidationException).
 */
import type { RestJsonRoute } from '../aws/server.ts';
import type { DataApiDatabase } from './database.ts';
import { badRequest } from './errors.ts';
import type { SqlParameterInput } from './named-parameters.ts';
import type { ResultSetOptions } from './records.ts';

/** Length limits from the API reference. */
const LIMITS = {
  resourceArn: [11, 100],
  secretArn: [11, 100],
  sql: [0, 65536],
  database: [0, 64],
  schema: [0, 64],
  transactionId: [0, 192],
} as const;

/**
 * The REST routes of the embedded RDS Data API over `database`.
 *
 * @example
 * const server = createAwsServer({ services: [...], routes: [...dataApiRoutes(database)] });
 * // new RDSDataClient({ endpoint, region: 'us-east-1', credentials }).send(new ExecuteStatementCommand({ ... }))
 */
/**
 * `database` may be a function that opens it on first use: PGlite takes seconds to start, and most
 * embedded-AWS runs (the interpreter's tests) never touch the Data API.
 */
export function dataApiRoutes(database: DataApiDatabase | (() => Promise<DataApiDatabase>)): RestJsonRoute[] {
  const opened = async (): Promise<DataApiDatabase> =>
    typeof database === 'function' ? database() : database;
  return [
    {
      method: 'POST',
      path: '/Execute',
      handle: async (input) => {
        const request = checked(input, ['resourceArn', 'secretArn', 'sql']);
        return (await opened()).executeStatement({
          secretArn: request.secretArn as string,
          sql: request.sql as string,
          parameters: parametersOf(request.parameters, 'parameters'),
          transactionId: request.transactionId as string | undefined,
          includeResultMetadata: booleanOf(request.includeResultMetadata, 'includeResultMetadata'),
          formatRecordsAs: enumOf(request.formatRecordsAs, 'formatRecordsAs', ['NONE', 'JSON'] as const),
          resultSetOptions: resultSetOptionsOf(request.resultSetOptions),
        });
      },
    },
    {
      method: 'POST',
      path: '/BatchExecute',
      handle: async (input) => {
        const request = checked(input, ['resourceArn', 'secretArn', 'sql']);
        const sets = request.parameterSets;
        if (sets !== undefined && sets !== null && !Array.isArray(sets)) {
          throw badRequest("Value at 'parameterSets' must be a list");
        }
        return (await opened()).batchExecuteStatement({
          secretArn: request.secretArn as string,
          sql: request.sql as string,
          parameterSets: ((sets ?? []) as unknown[]).map(
            (set, index) => parametersOf(set, `parameterSets.${index + 1}.member`) ?? [],
          ),
          transactionId: request.transactionId as string | undefined,
        });
      },
    },
    {
      method: 'POST',
      path: '/BeginTransaction',
      handle: async (input) => {
        const request = checked(input, ['resourceArn', 'secretArn']);
        return (await opened()).beginTransaction(request.secretArn as string);
      },
    },
    {
      method: 'POST',
      path: '/CommitTransaction',
      handle: async (input) => {
        const request = checked(input, ['resourceArn', 'secretArn', 'transactionId']);
        return (await opened()).commitTransaction(request.transactionId as string);
      },
    },
    {
      method: 'POST',
      path: '/RollbackTransaction',
      handle: async (input) => {
        const request = checked(input, ['resourceArn', 'secretArn', 'transactionId']);
        return (await opened()).rollbackTransaction(request.transactionId as string);
      },
    },
  ];
}

/** Checks the required members and every string member's type and length; returns the body as a record. */
function checked(input: unknown, required: readonly (keyof typeof LIMITS)[]): Record<string, unknown> {
  const request = (input ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const member of required) {
    if (request[member] === undefined || request[member] === null) {
      problems.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    }
  }
  for (const [member, [min, max]] of Object.entries(LIMITS)) {
    const value = request[member];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      throw badRequest(`Value at '${member}' must be a string`);
    }
    if (value.length < min) {
      problems.push(
        `Value '${value}' at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
      );
    } else if (value.length > max) {
      problems.push(
        `Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
      );
    }
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 validation error' : `${problems.length} validation errors`;
    throw badRequest(`${count} detected: ${problems.join('; ')}`);
  }
  return request;
}

function parametersOf(value: unknown, member: string): SqlParameterInput[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'object' || item === null)) {
    throw badRequest(`Value at '${member}' must be a list of parameters`);
  }
  return value as SqlParameterInput[];
}

function booleanOf(value: unknown, member: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`Value at '${member}' must be a boolean`);
  return value;
}

function enumOf<const T extends string>(
  value: unknown,
  member: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw badRequest(
      `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ` +
        `Member must satisfy enum value set: [${allowed.join(', ')}]`,
    );
  }
  return value as T;
}

function resultSetOptionsOf(value: unknown): ResultSetOptions | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw badRequest("Value at 'resultSetOptions' must be a structure");
  const options = value as Record<string, unknown>;
  return {
    decimalReturnType: enumOf(options.decimalReturnType, 'resultSetOptions.decimalReturnType', [
      'STRING',
      'DOUBLE_OR_LONG',
    ] as const),
    longReturnType: enumOf(options.longReturnType, 'resultSetOptions.longReturnType', [
      'LONG',
      'STRING',
    ] as const),
  };
}
