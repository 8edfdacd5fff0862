/**
 * A distributed Map reading its items from the embedded S3 (ItemReader) and writing its results there
 * (ResultWriter), through the whole embedded AWS and the real `@aws-sdk/client-sfn`, as the developer guide's
 * "ItemReader (Map)" and "ResultWriter (Map)" describe them and as AWS's recorded histories (published with
 * LocalStack's tests: test_map_item_reader_base_json, _csv_headers_first_line, _list_objects_v2,
 * test_map_state_result_writer) show: MapStateStarted's length is 0 when an ItemReader reads the items, CSV
 * values are strings, a listing's items are `{ Etag, LastModified, Key, Size, StorageClass }`, and with a
 * ResultWriter the Map outputs `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`, Key naming
 * `<Prefix>/<Map Run id>/manifest.json`.
 */
import { DescribeMapRunCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../embedded-aws.ts';
import {
  createStateMachine,
  executionHistory,
  sfnClient,
  startExecution,
} from '../../testing/step-functions.ts';

const BUCKET = 'map-items';

let aws: EmbeddedAws;
let client: SFNClient;

beforeAll(async () => {
  aws = await startEmbeddedAws({ port: 0, dataDir: null });
  client = sfnClient(aws.endpoint);
  await aws.s3.createBucket(BUCKET);
});

afterAll(async () => {
  client.destroy();
  await aws.close();
});

/** A distributed Map whose children pass their item on, or fail on an item `{ "fail": true }`. */
function readingMap(fields: object): object {
  return {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        Label: 'Items',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Route',
          States: {
            Route: {
              Type: 'Choice',
              Choices: [{ Variable: '$.fail', IsPresent: true, Next: 'Broken' }],
              Default: 'Echo',
            },
            Echo: { Type: 'Pass', End: true },
            Broken: { Type: 'Fail', Error: 'Item.Broken', Cause: 'this item fails' },
          },
        },
        ...fields,
        End: true,
      },
    },
  };
}

async function run(definition: object, input: unknown = {}) {
  const executionArn = await startExecution(client, await createStateMachine(client, definition), input);
  await aws.stepFunctions.finished(executionArn);
  const history = await executionHistory(client, executionArn);
  const last = history.at(-1)!;
  return {
    history,
    status: last.type,
    output: JSON.parse(last.executionSucceededEventDetails?.output ?? 'null') as unknown,
    failure: last.executionFailedEventDetails,
  };
}

function getObject(key: string): { Bucket: string; Key: string } {
  return { Bucket: BUCKET, Key: key };
}

describe('ItemReader', () => {
  it('reads a JSON array object, recording MapStateStarted with length 0', async () => {
    // Prepare
    const items = [{ verdict: 'true' }, { verdict: 'false' }, { verdict: 'mostly-true' }];
    await aws.s3.putObject({ bucket: BUCKET, key: 'items.json', body: JSON.stringify(items) });

    // Act
    const { history, status, output } = await run(
      readingMap({
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: getObject('items.json') },
      }),
    );

    // Assess
    expect(status).toBe('ExecutionSucceeded');
    expect(output).toEqual(items);
    expect(history.find((event) => event.type === 'MapStateStarted')?.mapStateStartedEventDetails).toEqual({
      length: 0,
    });
    const mapRunArn = history.find((event) => event.type === 'MapRunStarted')!.mapRunStartedEventDetails!
      .mapRunArn;
    const mapRun = await client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun.itemCounts).toMatchObject({ total: 3, succeeded: 3 });
  });

  it('reads a CSV with its header in the first row, every value a string, as AWS recorded it', async () => {
    // Prepare: the object of AWS's recorded test_map_item_reader_base_csv_headers_first_line.
    const csv =
      "Col1,Col2,Col3\nValue1,Value2,Value3\nValue4,Value5,Value6\n,,\ntrue,1,'HelloWorld'\nNull,None,\n   ,,\n";
    await aws.s3.putObject({ bucket: BUCKET, key: 'file.csv', body: csv });

    // Act
    const { output } = await run(
      readingMap({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' },
          Parameters: { 'Bucket.$': '$.Bucket', 'Key.$': '$.Key' },
        },
      }),
      getObject('file.csv'),
    );

    // Assess
    expect(output).toEqual([
      { Col1: 'Value1', Col2: 'Value2', Col3: 'Value3' },
      { Col1: 'Value4', Col2: 'Value5', Col3: 'Value6' },
      { Col1: '', Col2: '', Col3: '' },
      { Col1: 'true', Col2: '1', Col3: "'HelloWorld'" },
      { Col1: 'Null', Col2: 'None', Col3: '' },
      { Col1: '   ', Col2: '', Col3: '' },
    ]);
  });

  it('reads a CSV with the headers given, only MaxItems of its rows, quoted fields kept whole', async () => {
    // Prepare
    await aws.s3.putObject({
      bucket: BUCKET,
      key: 'meters.csv',
      body: 'M-1,"Flat 1, High St"\nM-2,Shop\nM-3,Barn\n',
    });

    // Act
    const { output } = await run(
      readingMap({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: {
            InputType: 'CSV',
            CSVHeaderLocation: 'GIVEN',
            CSVHeaders: ['meter', 'site'],
            MaxItems: 2,
          },
          Parameters: getObject('meters.csv'),
        },
      }),
    );

    // Assess
    expect(output).toEqual([
      { meter: 'M-1', site: 'Flat 1, High St' },
      { meter: 'M-2', site: 'Shop' },
    ]);
  });

  it('reads JSON Lines, one item a line', async () => {
    // Prepare
    await aws.s3.putObject({ bucket: BUCKET, key: 'lines.jsonl', body: '{"n":1}\n{"n":2}\n\n{"n":3}\n' });

    // Act
    const { output } = await run(
      readingMap({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSONL' },
          Parameters: getObject('lines.jsonl'),
        },
      }),
    );

    // Assess
    expect(output).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('lists the objects under a prefix, each an item with its Key, Size, Etag and StorageClass', async () => {
    // Prepare
    for (const key of ['listed/file_0.txt', 'listed/file_1.txt', 'elsewhere.txt']) {
      await aws.s3.putObject({ bucket: BUCKET, key, body: 'hello world!' });
    }

    // Act
    const { output } = await run(
      readingMap({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:listObjectsV2',
          Parameters: { Bucket: BUCKET, Prefix: 'listed/' },
        },
      }),
    );

    // Assess
    const etag = '"fc3ff98e8c6a0d3087d515c0473f8677"'; // MD5 of "hello world!"
    expect(output).toEqual(
      ['listed/file_0.txt', 'listed/file_1.txt'].map((Key) => ({
        Etag: etag,
        LastModified: expect.any(String),
        Key,
        Size: 12,
        StorageClass: 'STANDARD',
      })),
    );
  });

  it('fails the Map with S3.NoSuchKey when the object is not there', async () => {
    // Act
    const { status, failure } = await run(
      readingMap({
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: getObject('missing.json') },
      }),
    );

    // Assess
    expect(status).toBe('ExecutionFailed');
    expect(failure?.error).toBe('S3.NoSuchKey');
  });
});

describe('ResultWriter', () => {
  it('writes the children results and a manifest, and outputs where they are', async () => {
    // Act: one child of three fails, which the Map tolerates.
    const { status, output } = await run(
      readingMap({
        ToleratedFailureCount: 1,
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: BUCKET, Prefix: 'mapJobs' },
        },
      }),
      [{ n: 1 }, { fail: true }, { n: 3 }],
    );

    // Assess
    expect(status).toBe('ExecutionSucceeded');
    const { MapRunArn, ResultWriterDetails } = output as {
      MapRunArn: string;
      ResultWriterDetails: { Bucket: string; Key: string };
    };
    const mapRunId = MapRunArn.slice(MapRunArn.lastIndexOf(':') + 1);
    expect(ResultWriterDetails).toEqual({ Bucket: BUCKET, Key: `mapJobs/${mapRunId}/manifest.json` });
    const read = (key: string) => JSON.parse(aws.s3.getObject(BUCKET, key).body.toString()) as unknown;
    const succeededKey = `mapJobs/${mapRunId}/SUCCEEDED_0.json`;
    const failedKey = `mapJobs/${mapRunId}/FAILED_0.json`;
    expect(read(ResultWriterDetails.Key)).toEqual({
      DestinationBucket: BUCKET,
      MapRunArn,
      ResultFiles: {
        SUCCEEDED: [{ Key: succeededKey, Size: aws.s3.headObject(BUCKET, succeededKey).size }],
        FAILED: [{ Key: failedKey, Size: aws.s3.headObject(BUCKET, failedKey).size }],
        PENDING: [],
      },
    });
    // Each child named as DescribeExecution describes it, in the order AWS writes the fields.
    const machineArn = MapRunArn.slice(0, MapRunArn.lastIndexOf(':')).replace(':mapRun:', ':stateMachine:');
    const child = (fields: Record<string, unknown>) => ({
      ...fields,
      ExecutionArn: expect.stringMatching(/^arn:aws:states:[^:]+:\d+:execution:[^:]+\/Items:[0-9a-f-]{36}$/),
      InputDetails: { Included: true },
      Name: expect.stringMatching(/^[0-9a-f-]{36}$/),
      RedriveCount: 0,
      StartDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      StateMachineArn: machineArn,
      StopDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const succeeded = read(succeededKey) as Record<string, unknown>[];
    expect(succeeded).toEqual([
      child({
        Input: '{"n":1}',
        Output: '{"n":1}',
        OutputDetails: { Included: true },
        RedriveStatus: 'NOT_REDRIVABLE',
        RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
        Status: 'SUCCEEDED',
      }),
      child({
        Input: '{"n":3}',
        Output: '{"n":3}',
        OutputDetails: { Included: true },
        RedriveStatus: 'NOT_REDRIVABLE',
        RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
        Status: 'SUCCEEDED',
      }),
    ]);
    expect(Object.keys(succeeded[0]!)).toEqual([
      'ExecutionArn',
      'Input',
      'InputDetails',
      'Name',
      'Output',
      'OutputDetails',
      'RedriveCount',
      'RedriveStatus',
      'RedriveStatusReason',
      'StartDate',
      'StateMachineArn',
      'Status',
      'StopDate',
    ]);
    expect(read(failedKey)).toEqual([
      child({
        Cause: 'this item fails',
        Error: 'Item.Broken',
        Input: '{"fail":true}',
        RedriveStatus: 'REDRIVABLE_BY_MAP_RUN',
        Status: 'FAILED',
      }),
    ]);
    // The ARNs name the children the Map Run lists.
    const { executions } = await client.send(new ListExecutionsCommand({ mapRunArn: MapRunArn }));
    expect(succeeded.map((entry) => entry.ExecutionArn).sort()).toEqual(
      executions!
        .filter((execution) => execution.status === 'SUCCEEDED')
        .map((execution) => execution.executionArn)
        .sort(),
    );
  });

  it('fails the Map, saying so, on a WriterConfig it does not write as (FLATTEN, JSONL)', async () => {
    // Act
    const { status, failure } = await run(
      readingMap({
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: BUCKET, Prefix: 'flat' },
          WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSONL' },
        },
      }),
      [{ n: 1 }],
    );

    // Assess
    expect(status).toBe('ExecutionFailed');
    expect(failure).toMatchObject({ error: 'States.Runtime' });
    expect(failure?.cause).toContain('FLATTEN');
  });
});
