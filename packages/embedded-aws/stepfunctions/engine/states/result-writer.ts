/**
 * ResultWriter: a distributed Map's results written to S3 instead of given as its output, as the developer
 * guide's "ResultWriter (Map)" describes it. Under `<Prefix>/<Map Run id>/` go `SUCCEEDED_0.json`,
 * `FAILED_0.json` and `PENDING_0.json` (each an array of the children of that outcome; a file only where
 * there are some) and `manifest.json`, which lists them; the Map's output is then
 * `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`, Key naming the manifest, as AWS's recorded histories
 * show. Each child is written as DescribeExecution describes it, in PascalCase (ExecutionArn, Name, Input,
 * Output or Error and Cause, dates, and for a Standard child its redrive status), its input and output as
 * JSON text; a child never started has only its input and status.
 */
import type { Json, JsonObject, MapState } from '../../definition/types.ts';
import { parseTaskResource } from '../../integrations.ts';
import { StatesError } from '../../language/states-error.ts';
import { effectiveInput, parametersFor, type StateScope } from '../data-flow.ts';
import type { Interpreter } from '../interpreter.ts';
import type { MapRunChildOutcome } from '../journal-records.ts';
import type { ExecutionRecord, MapRunRecord } from '../model.ts';
import { redriveStatus } from '../redrive-status.ts';
import { callS3 } from './item-reader.ts';

type Outcome = 'SUCCEEDED' | 'FAILED' | 'PENDING';

export interface MapRunResults {
  readonly mapRun: MapRunRecord;
  /** Each child's input. */
  readonly inputs: readonly Json[];
  /** How each child ended; undefined for one never started. */
  readonly children: readonly (MapRunChildOutcome | undefined)[];
  /** A Standard child's execution, by ARN. */
  readonly execution: (arn: string) => ExecutionRecord | undefined;
  readonly raw: Json;
  readonly scope: StateScope;
}

export async function writeResults(
  interpreter: Interpreter,
  stateName: string,
  state: MapState,
  results: MapRunResults,
): Promise<Json> {
  const { mapRun, raw, scope } = results;
  const writer = state.ResultWriter!;
  const resource = typeof writer.Resource === 'string' ? parseTaskResource(writer.Resource) : undefined;
  if (resource?.service !== 's3' || resource.action !== 'putObject') {
    throw new StatesError(
      'States.Runtime',
      `The ResultWriter resource '${String(writer.Resource)}' is not supported`,
    );
  }
  const config = (writer.WriterConfig ?? {}) as JsonObject;
  if ((config.Transformation ?? 'NONE') !== 'NONE' || (config.OutputType ?? 'JSON') !== 'JSON') {
    // Not written here rather than written otherwise than AWS would: the Map fails and says so.
    throw new StatesError(
      'States.Runtime',
      `The embedded Step Functions writes results only as WriterConfig { Transformation: NONE, OutputType: JSON } does, not ${JSON.stringify(config)}`,
    );
  }
  const input = effectiveInput(state, raw, scope);
  const parameters = (await parametersFor(
    writer.Parameters ?? writer.Arguments ?? {},
    input,
    raw,
    scope,
  )) as JsonObject;
  const bucket = parameters.Bucket as string;
  const prefix =
    typeof parameters.Prefix === 'string' && parameters.Prefix !== '' ? `${parameters.Prefix}/` : '';
  const folder = `${prefix}${mapRun.arn.slice(mapRun.arn.lastIndexOf(':') + 1)}/`;
  const put = (key: string, body: string) =>
    callS3(interpreter, stateName, resource, { Bucket: bucket, Key: key, Body: body });

  const byOutcome: Record<Outcome, JsonObject[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  results.children.forEach((child, index) => {
    const entry = childEntry(results, index, interpreter.host.now());
    byOutcome[child === undefined ? 'PENDING' : child.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'].push(
      entry,
    );
  });
  const resultFiles: Record<Outcome, JsonObject[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const outcome of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
    if (byOutcome[outcome].length === 0) continue;
    const key = `${folder}${outcome}_0.json`;
    const body = JSON.stringify(byOutcome[outcome]);
    await put(key, body);
    resultFiles[outcome].push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifestKey = `${folder}manifest.json`;
  await put(
    manifestKey,
    JSON.stringify({ DestinationBucket: bucket, MapRunArn: mapRun.arn, ResultFiles: resultFiles }),
  );
  return { MapRunArn: mapRun.arn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
}

/**
 * One child as the result files give it: its execution as DescribeExecution would describe it, the keys in
 * PascalCase and in the order AWS writes them. An Express child (no execution kept) is named by what its
 * Map Run recorded of it.
 */
function childEntry(results: MapRunResults, index: number, now: number): JsonObject {
  const child = results.children[index];
  const Input = JSON.stringify(results.inputs[index] ?? null);
  if (child === undefined) return { Input, Status: 'PENDING' };
  const execution = child.executionArn !== undefined ? results.execution(child.executionArn) : undefined;
  const redrive = execution !== undefined ? redriveStatus(execution, now) : undefined;
  const stopDate = execution?.stopDate ?? child.stopDate;
  const output = execution?.output ?? child.output;
  const error = execution?.error ?? child.error;
  const cause = execution?.cause ?? child.cause;
  const startDate = execution?.startDate ?? child.startDate;
  return {
    ...(cause !== undefined ? { Cause: cause } : {}),
    ...(error !== undefined ? { Error: error } : {}),
    ...(child.executionArn !== undefined ? { ExecutionArn: child.executionArn } : {}),
    Input,
    InputDetails: { Included: true },
    ...(child.name !== undefined ? { Name: child.name } : {}),
    ...(output !== undefined ? { Output: output, OutputDetails: { Included: true } } : {}),
    ...(execution !== undefined ? { RedriveCount: execution.redriveCount } : {}),
    ...(redrive !== undefined ? { RedriveStatus: redrive.redriveStatus } : {}),
    ...(redrive?.redriveStatusReason !== undefined
      ? { RedriveStatusReason: redrive.redriveStatusReason }
      : {}),
    ...(startDate !== undefined ? { StartDate: new Date(startDate).toISOString() } : {}),
    StateMachineArn: results.mapRun.stateMachineArn,
    Status: child.status,
    ...(stopDate !== undefined ? { StopDate: new Date(stopDate).toISOString() } : {}),
  };
}
