/**
 * ResultWriter: a distributed Map's results written to S3 instead of given as its output, as the developer
 * guide's "ResultWriter (Map)" describes it. Under `<Prefix>/<Map Run id>/` go `SUCCEEDED_0.json`,
 * `FAILED_0.json` and `PENDING_0.json` (each an array of the children of that outcome; a file only where
 * there are some) and `manifest.json`, which lists them; the Map's output is then
 * `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`, Key naming the manifest, as AWS's recorded histories
 * show. Each child is given as `{ Input, Output, Status }` (`Error` and `Cause` for a failed one), its input
 * and output as JSON text: a subset of what AWS writes, which also names each child execution.
 */
import type { Json, JsonObject, MapState } from '../../definition/types.ts';
import { parseTaskResource } from '../../integrations.ts';
import { StatesError } from '../../language/states-error.ts';
import { effectiveInput, parametersFor, type StateScope } from '../data-flow.ts';
import type { Interpreter } from '../interpreter.ts';
import type { BranchResult } from '../model.ts';
import { callS3 } from './item-reader.ts';

type Outcome = 'SUCCEEDED' | 'FAILED' | 'PENDING';

export async function writeResults(
  interpreter: Interpreter,
  stateName: string,
  state: MapState,
  mapRunArn: string,
  inputs: readonly Json[],
  results: readonly (BranchResult | undefined)[],
  raw: Json,
  scope: StateScope,
): Promise<Json> {
  const writer = state.ResultWriter!;
  const resource = typeof writer.Resource === 'string' ? parseTaskResource(writer.Resource) : undefined;
  if (resource?.service !== 's3' || resource.action !== 'putObject') {
    throw new StatesError(
      'States.Runtime',
      `The ResultWriter resource '${String(writer.Resource)}' is not supported`,
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
  const folder = `${prefix}${mapRunArn.slice(mapRunArn.lastIndexOf(':') + 1)}/`;
  const put = (key: string, body: string) =>
    callS3(interpreter, stateName, resource, { Bucket: bucket, Key: key, Body: body });

  const byOutcome: Record<Outcome, JsonObject[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  results.forEach((result, index) => {
    const Input = JSON.stringify(inputs[index] ?? null);
    if (result === undefined) byOutcome.PENDING.push({ Input, Status: 'PENDING' });
    else if ('output' in result) {
      byOutcome.SUCCEEDED.push({ Input, Output: JSON.stringify(result.output), Status: 'SUCCEEDED' });
    } else byOutcome.FAILED.push({ Input, Error: result.error, Cause: result.cause, Status: 'FAILED' });
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
    JSON.stringify({ DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: resultFiles }),
  );
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
}
