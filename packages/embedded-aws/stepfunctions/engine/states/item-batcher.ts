/**
 * ItemBatcher: a distributed Map's items grouped so that each child workflow execution gets several. As the
 * developer guide ("ItemBatcher (Map)") describes it, each child's input is `{ "Items": [...] }`, with the
 * BatchInput (a fixed JSON, or a template over the state's input) under `"BatchInput"` when there is one;
 * a batch holds at most MaxItemsPerBatch items and at most MaxInputBytesPerBatch bytes of input (256 KiB at
 * most), each limit given literally, through its `...Path`, or as a JSONata expression. The items are the
 * ones the ItemSelector gave.
 */
import type { Json, JsonObject, MapState } from '../../definition/types.ts';
import { evaluateJsonataTemplate } from '../../language/jsonata.ts';
import { applyPayloadTemplate } from '../../language/payload-template.ts';
import { StatesError } from '../../language/states-error.ts';
import { evaluateNumberField, jsonataScope, jsonPathScope, type StateScope } from '../data-flow.ts';

/** AWS's cap on a batch's input, and on any execution's input. */
const MAX_BATCH_BYTES = 256 * 1024;

export interface Batches {
  /** Each child's input. */
  readonly inputs: Json[];
  /** How many items each child's input holds. */
  readonly sizes: number[];
}

/** The items in batches, when the Map has an ItemBatcher; otherwise undefined (one item a child). */
export async function batchItems(
  state: MapState,
  items: readonly Json[],
  input: Json,
  raw: Json,
  scope: StateScope,
): Promise<Batches | undefined> {
  const batcher = state.ItemBatcher;
  if (batcher === undefined) return undefined;
  const maxItems = await batchLimit(batcher, 'MaxItemsPerBatch', input, raw, scope);
  const maxBytes = await batchLimit(batcher, 'MaxInputBytesPerBatch', input, raw, scope);
  if (maxBytes !== undefined && maxBytes > MAX_BATCH_BYTES) {
    throw new StatesError('States.Runtime', `MaxInputBytesPerBatch must not exceed ${MAX_BATCH_BYTES}.`);
  }
  const batchInput = await evaluateBatchInput(batcher, input, raw, scope);
  const shell: Record<string, Json> = batchInput === undefined ? {} : { BatchInput: batchInput };
  const byteLimit = maxBytes ?? MAX_BATCH_BYTES;
  const inputs: Json[] = [];
  const sizes: number[] = [];
  let batch: Json[] = [];
  // The size of `{"Items":[...]}` with the shell, grown item by item rather than re-serialized.
  const emptySize = byteLength({ Items: [], ...shell });
  let size = emptySize;
  const close = () => {
    inputs.push({ Items: batch, ...shell });
    sizes.push(batch.length);
    batch = [];
    size = emptySize;
  };
  for (const item of items) {
    const itemBytes = byteLength(item);
    const full = maxItems !== undefined && batch.length >= maxItems;
    // An item alone over the limit still gets a batch of its own.
    if (batch.length > 0 && (full || size + itemBytes + 1 > byteLimit)) close();
    size += itemBytes + (batch.length > 0 ? 1 : 0);
    batch.push(item);
  }
  if (batch.length > 0) close();
  return { inputs, sizes };
}

/** A positive whole number, from the field, its Path, or a JSONata expression. */
async function batchLimit(
  batcher: JsonObject,
  field: 'MaxItemsPerBatch' | 'MaxInputBytesPerBatch',
  input: Json,
  raw: Json,
  scope: StateScope,
): Promise<number | undefined> {
  const value = await evaluateNumberField(batcher, field, input, raw, scope);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) {
    throw new StatesError('States.Runtime', `${field} must be a positive integer, got ${value}.`);
  }
  return value;
}

async function evaluateBatchInput(
  batcher: JsonObject,
  input: Json,
  raw: Json,
  scope: StateScope,
): Promise<Json | undefined> {
  const template = batcher.BatchInput;
  if (template === undefined) return undefined;
  if (scope.queryLanguage === 'JSONata') {
    return evaluateJsonataTemplate(template, jsonataScope(scope, { input: raw }), 'BatchInput');
  }
  return applyPayloadTemplate(template, jsonPathScope(input, scope));
}

function byteLength(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
