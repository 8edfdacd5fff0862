/**
 * ItemReader: a distributed Map's items read from S3 instead of its input, as the developer guide's
 * "ItemReader (Map)" describes it: `arn:aws:states:::s3:getObject` reads one object as a JSON array, JSON
 * Lines or CSV (ReaderConfig.InputType; a CSV's header is its first row, or CSVHeaders when
 * CSVHeaderLocation is GIVEN, and every value is a string); `arn:aws:states:::s3:listObjectsV2` lists a
 * bucket (under a Prefix), each object an item `{ Etag, LastModified, Key, Size, StorageClass }`, as AWS's
 * recorded histories show. ReaderConfig.MaxItems (or MaxItemsPath) reads only the first so many.
 *
 * S3 is reached through the engine's service integrations, so a missing bucket or key fails the Map with
 * `S3.NoSuchBucket` / `S3.NoSuchKey`.
 */
import { parse } from 'csv-parse/sync';
import type { Json, JsonObject, MapState } from '../../definition/types.ts';
import { parseTaskResource, type TaskResource } from '../../integrations.ts';
import { StatesError } from '../../language/states-error.ts';
import { evaluateNumberField, parametersFor, type StateScope } from '../data-flow.ts';
import type { Interpreter } from '../interpreter.ts';
import { invokeIntegration } from './task-invocation.ts';

/** The items the Map's ItemReader reads. */
export async function readItems(
  interpreter: Interpreter,
  stateName: string,
  state: MapState,
  input: Json,
  raw: Json,
  scope: StateScope,
): Promise<Json[]> {
  const reader = state.ItemReader!;
  const resource = typeof reader.Resource === 'string' ? parseTaskResource(reader.Resource) : undefined;
  if (resource?.service !== 's3' || !['getObject', 'listObjectsV2'].includes(resource.action)) {
    throw new StatesError(
      'States.Runtime',
      `The ItemReader resource '${String(reader.Resource)}' is not supported`,
    );
  }
  const parameters = await parametersFor(reader.Parameters ?? reader.Arguments ?? {}, input, raw, scope);
  const config = (reader.ReaderConfig ?? {}) as JsonObject;
  const maxItems = await evaluateNumberField(config, 'MaxItems', input, raw, scope);
  const call = (params: Json) => callS3(interpreter, stateName, resource, params);

  let items: Json[];
  if (resource.action === 'listObjectsV2') {
    items = [];
    let page: JsonObject = {};
    do {
      const token = page.NextContinuationToken;
      page = (await call({
        ...(parameters as JsonObject),
        ...(token ? { ContinuationToken: token } : {}),
      })) as JsonObject;
      items.push(...((page.Contents as Json[] | undefined) ?? []));
    } while (page.NextContinuationToken !== undefined && (maxItems === undefined || items.length < maxItems));
  } else {
    const { Body } = (await call(parameters)) as { Body: string };
    items = parseObject(Body, config);
  }
  return maxItems === undefined || maxItems === 0 ? items : items.slice(0, maxItems);
}

/** Calls S3 for the Map state named `stateName`, through the engine's service integrations. */
export function callS3(
  interpreter: Interpreter,
  stateName: string,
  resource: TaskResource,
  parameters: Json,
): Promise<Json> {
  return invokeIntegration(interpreter, stateName, resource, parameters, new AbortController().signal);
}

function parseObject(body: string, config: JsonObject): Json[] {
  switch (config.InputType ?? 'JSON') {
    case 'JSON': {
      const items = parseJson(body);
      if (!Array.isArray(items)) {
        throw new StatesError('States.ItemReaderFailed', 'Attempting to map over non-iterable node.');
      }
      return items;
    }
    case 'JSONL':
      return body
        .split(/\r?\n/)
        .filter((line) => line.trim() !== '')
        .map(parseJson);
    case 'CSV':
      return csvItems(body, config);
    default:
      throw new StatesError(
        'States.Runtime',
        `The ItemReader InputType '${String(config.InputType)}' is not supported`,
      );
  }
}

function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new StatesError('States.ItemReaderFailed', 'The object read is not valid JSON.');
  }
}

/** Each row after the header as an object of strings, keyed by the header's names. */
function csvItems(body: string, config: JsonObject): Json[] {
  const delimiter = config.CSVDelimiter === 'SEMICOLON' ? ';' : config.CSVDelimiter === 'TAB' ? '\t' : ',';
  let rows: string[][];
  try {
    rows = parse(body, { delimiter, relax_column_count: true }) as string[][];
  } catch (error) {
    throw new StatesError(
      'States.ItemReaderFailed',
      `The CSV object cannot be read: ${(error as Error).message}`,
    );
  }
  const headers =
    config.CSVHeaderLocation === 'GIVEN'
      ? ((config.CSVHeaders as string[] | undefined) ?? [])
      : (rows.shift() ?? []);
  return rows.map((row) => {
    if (row.length > headers.length) {
      throw new StatesError(
        'States.ItemReaderFailed',
        `A CSV row has ${row.length} fields, more than its ${headers.length} headers.`,
      );
    }
    return Object.fromEntries(headers.map((header, index) => [header, row[index] ?? '']));
  });
}
