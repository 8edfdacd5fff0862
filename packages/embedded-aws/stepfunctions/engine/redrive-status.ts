/**
 * Whether RedriveExecution may restart an execution, and why not, as DescribeExecution reports it
 * (`redriveStatus`, `redriveStatusReason`) and as a ResultWriter writes it for each Map Run child.
 */
import type { ExecutionRecord } from './model.ts';

/** AWS redrives an execution only within 14 days of its close. */
const REDRIVE_WINDOW_MS = 14 * 24 * 3600 * 1000;

/** AWS's limit on the redrives of one execution. */
const MAX_REDRIVES = 1000;

export interface RedriveStatus {
  readonly redriveStatus: 'REDRIVABLE' | 'NOT_REDRIVABLE' | 'REDRIVABLE_BY_MAP_RUN';
  readonly redriveStatusReason?: string;
}

export function redriveStatus(execution: ExecutionRecord, now: number): RedriveStatus {
  if (execution.type === 'EXPRESS') {
    return { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is an Express execution' };
  }
  if (execution.status === 'RUNNING') {
    return {
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is RUNNING and cannot be redriven',
    };
  }
  if (execution.status === 'SUCCEEDED') {
    return {
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    };
  }
  if (execution.stopDate !== undefined && now - execution.stopDate > REDRIVE_WINDOW_MS) {
    return {
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution can only be redriven within 14 days of its close',
    };
  }
  if (execution.redriveCount >= MAX_REDRIVES) {
    return {
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution has been redriven the maximum number of times',
    };
  }
  // A Map Run's child is redriven with its Map Run, when its parent is (the API reference's
  // REDRIVABLE_BY_MAP_RUN), never on its own.
  if (execution.mapRunArn !== undefined) return { redriveStatus: 'REDRIVABLE_BY_MAP_RUN' };
  return { redriveStatus: 'REDRIVABLE' };
}
