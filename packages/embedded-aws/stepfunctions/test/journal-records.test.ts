/**
 * The upgrade of Step Functions journal records from version 1 where it does more than rename: one record
 * kind of version 1 becomes one of two, by what it holds.
 */
import { describe, expect, it } from 'vitest';
import { upgradeStepFunctionsRecord } from '../engine/journal-records.ts';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:000000000000:execution:charge:charge-1';
const CHECKPOINT = {
  state: 'Charge',
  input: {},
  variables: {},
  previousEventId: 2,
  retryCount: 0,
  retrierAttempts: [],
};
const EVENT = { id: 3, previousEventId: 2, timestamp: 10, type: 'ExecutionFailed' };

describe('upgradeStepFunctionsRecord from version 1', () => {
  it.each([
    [
      'a checkpoint, saved',
      { t: 'checkpoint', arn: EXECUTION_ARN, key: 'root>3.0', checkpoint: CHECKPOINT },
      { kind: 'checkpointSaved', executionArn: EXECUTION_ARN, branch: 'root>3.0', checkpoint: CHECKPOINT },
    ],
    [
      'a checkpoint set to null, removed',
      { t: 'checkpoint', arn: EXECUTION_ARN, key: 'root>3.0', checkpoint: null },
      { kind: 'checkpointRemoved', executionArn: EXECUTION_ARN, branch: 'root>3.0' },
    ],
    [
      'the last event, with how the execution ended',
      { t: 'event', arn: EXECUTION_ARN, event: EVENT, finish: { status: 'FAILED', error: 'Declined' } },
      {
        kind: 'eventAppended',
        executionArn: EXECUTION_ARN,
        event: EVENT,
        executionEnded: { status: 'FAILED', error: 'Declined' },
      },
    ],
  ])('turns %s into its version 2 record', (_, version1, version2) => {
    // Act
    const upgraded = upgradeStepFunctionsRecord(version1, 1);

    // Assess
    expect(upgraded).toStrictEqual(version2);
  });

  it('refuses a record it does not know rather than dropping it', () => {
    // Act
    const upgrading = () => upgradeStepFunctionsRecord({ t: 'unheard-of', arn: EXECUTION_ARN }, 1);

    // Assess
    expect(upgrading).toThrow('Unknown Step Functions journal record of version 1');
  });
});

describe('upgradeStepFunctionsRecord from version 2', () => {
  it('reads a version 2 record as it is: version 3 only added the Map Run records', () => {
    const record = {
      kind: 'checkpointSaved',
      executionArn: EXECUTION_ARN,
      branch: 'root',
      checkpoint: CHECKPOINT,
    };
    expect(upgradeStepFunctionsRecord(record, 2)).toEqual(record);
  });

  it('reads a version 3 record as it is: version 4 only added mapRunRedriven', () => {
    const record = {
      kind: 'mapRunEnded',
      mapRunArn: 'arn:aws:states:us-east-1:0:mapRun:m/L:1',
      status: 'FAILED',
      stopDate: 1,
    };
    expect(upgradeStepFunctionsRecord(record, 3)).toEqual(record);
  });
});
