import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Journal,
  JournalCorruptError,
  type JournalLogger,
  JournalVersionError,
  openJournal,
} from './journal.ts';

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const WRITER = fileURLToPath(new URL('./fixtures/journal-writer.ts', import.meta.url));

const silent: JournalLogger = { warn: () => {}, error: () => {} };
/** The first line of every log this journal writes, for records of version 1. */
const LOG_HEADER_V1 = '{"$journal":"log","recordVersion":1}\n';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  dirs.push(dir);
  return dir;
}

/** A service whose state is a list of strings: each record adds one, a snapshot lists them all. */
class ListService {
  readonly items: string[] = [];
  journal!: Journal<string>;

  static async open(
    dir: string | null,
    options: { compactAfterBytes?: number; sync?: 'batch' | 'never' } = {},
  ) {
    const service = new ListService();
    service.journal = await openJournal<string>({
      dir,
      name: 'list',
      replay: (item) => service.items.push(item),
      snapshot: () => service.items,
      logger: silent,
      ...options,
    });
    return service;
  }

  add(...items: string[]): void {
    for (const item of items) {
      this.items.push(item);
      this.journal.append(item);
    }
  }
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

function logFileOf(dir: string): string {
  const logs = filesIn(dir).filter((name) => name.endsWith('.log.jsonl'));
  expect(logs).toHaveLength(1);
  return join(dir, logs[0]!);
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

describe('openJournal on disk', () => {
  it('replays the snapshot records first, then the log records, in append order', async () => {
    // Prepare: a counter whose snapshot is one 'set' record, so the two sources can be told apart
    type CounterRecord = { set: number } | { add: number };
    const dir = tempDir();
    const open = async (total: { value: number }, replayed: CounterRecord[] = []) =>
      openJournal<CounterRecord>({
        dir,
        name: 'counter',
        replay: (record) => {
          replayed.push(record);
          total.value = 'set' in record ? record.set : total.value + record.add;
        },
        snapshot: () => [{ set: total.value }],
        logger: silent,
      });
    const total = { value: 0 };
    const first = await open(total);
    for (const add of [1, 2, 3]) {
      total.value += add;
      first.append({ add });
    }
    await first.compact();
    for (const add of [10, 20]) {
      total.value += add;
      first.append({ add });
      await new Promise((resolve) => setImmediate(resolve));
    }
    total.value += 30;
    first.append({ add: 30 });
    await first.close();

    // Act
    const replayed: CounterRecord[] = [];
    const reopened = await open({ value: 0 }, replayed);
    await reopened.close();

    // Assess
    expect(replayed).toEqual([{ set: 6 }, { add: 10 }, { add: 20 }, { add: 30 }]);
  });

  it.each(['never', 'batch'] as const)(
    'with sync %s, flushed() resolves once the records are in the file',
    async (sync) => {
      // Prepare
      const dir = tempDir();
      const service = await ListService.open(dir, { sync });

      // Act
      service.add('alpha', 'beta');
      const beforeFlush = readFileSync(logFileOf(dir), 'utf8');
      await service.journal.flushed();
      const afterFlush = readFileSync(logFileOf(dir), 'utf8');
      await service.journal.close();

      // Assess
      expect(beforeFlush).toBe(LOG_HEADER_V1);
      expect(afterFlush).toBe(`${LOG_HEADER_V1}"alpha"\n"beta"\n`);
    },
  );

  it.each([
    ['after earlier records in the log', false],
    ['as the only record of a freshly compacted log', true],
  ])('drops a torn last record %s, so later appends replay cleanly', async (_, freshLog) => {
    // Prepare: the process died while writing a record
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a', 'b');
    await first.journal.close();
    if (freshLog) await (await ListService.open(dir)).journal.close();
    appendFileSync(logFileOf(dir), '"unfinish');

    // Act
    const second = await ListService.open(dir);
    const afterTornTail = [...second.items];
    second.add('c');
    await second.journal.close();
    const third = await ListService.open(dir);
    await third.journal.close();

    // Assess
    expect(afterTornTail).toEqual(['a', 'b']);
    expect(third.items).toEqual(['a', 'b', 'c']);
  });

  it('compacts a log whose header a crash tore, so the next log again says its record version', async () => {
    // Prepare: the process died while writing the header of a fresh log
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a');
    await first.journal.close();
    await (await ListService.open(dir)).journal.close();
    writeFileSync(logFileOf(dir), LOG_HEADER_V1.slice(0, 12));

    // Act
    const second = await ListService.open(dir);
    second.add('b');
    await second.journal.close();
    const logAfterTornHeader = readFileSync(logFileOf(dir), 'utf8');
    const third = await ListService.open(dir);
    await third.journal.close();

    // Assess
    expect(logAfterTornHeader).toBe(`${LOG_HEADER_V1}"b"\n`);
    expect(third.items).toEqual(['a', 'b']);
  });

  it('refuses to open a log with a corrupt line in the middle, naming the file and line', async () => {
    // Prepare
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a', 'b', 'c');
    await first.journal.close();
    const log = logFileOf(dir);
    writeFileSync(log, readFileSync(log, 'utf8').replace('"b"', '{"b'));

    // Act
    const opening = ListService.open(dir);

    // Assess
    await expect(opening).rejects.toThrow(JournalCorruptError);
    await expect(opening).rejects.toThrow(`Corrupt journal ${log} line 3:`); // line 1 is the header
  });

  it('names the file and line when replaying a record fails', async () => {
    // Prepare
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('ok', 'poison');
    await first.journal.close();

    // Act
    const opening = openJournal<string>({
      dir,
      name: 'list',
      replay: (item) => {
        if (item === 'poison') throw new Error('unknown record');
      },
      snapshot: () => [],
      logger: silent,
    });

    // Assess
    await expect(opening).rejects.toThrow(/list\.\d+\.log\.jsonl line 3 failed: unknown record/);
  });

  it.each([
    ['an explicit compact()', { compactAfterBytes: undefined, compact: true }],
    ['the log passing compactAfterBytes', { compactAfterBytes: 200, compact: false }],
  ])('after compaction by %s, a reopen restores the same state from one generation', async (_, variant) => {
    // Prepare
    const dir = tempDir();
    const first = await ListService.open(dir, { compactAfterBytes: variant.compactAfterBytes });
    const expected = range(120).map((i) => `item-${i}`);

    // Act
    for (const [index, item] of expected.entries()) {
      first.add(item);
      if (index % 10 === 9) await first.journal.flushed();
      if (variant.compact && index === 59) await first.journal.compact();
    }
    await first.journal.close();
    const generationsBefore = new Set(filesIn(dir).map((name) => name.split('.')[1]));
    const second = await ListService.open(dir);
    await second.journal.close();

    // Assess
    expect(second.items).toEqual(expected);
    expect(generationsBefore.size).toBe(1);
    expect(filesIn(dir)).toHaveLength(2);
  });

  it('reopens without a new generation when nothing was appended since the last compaction', async () => {
    // Prepare
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a');
    await first.journal.close();
    const second = await ListService.open(dir);
    await second.journal.close();
    const filesBefore = filesIn(dir);

    // Act
    const third = await ListService.open(dir);
    const filesAfterOpen = filesIn(dir);
    third.add('b');
    await third.journal.close();
    const fourth = await ListService.open(dir);
    await fourth.journal.close();

    // Assess
    expect(filesAfterOpen).toEqual(filesBefore);
    expect(fourth.items).toEqual(['a', 'b']);
  });

  type Crash = (snapshotFile: string) => void;
  it.each<[string, Crash]>([
    ['before the old generation was removed', () => {}],
    ['halfway through the new snapshot', (file) => writeFileSync(file, readFileSync(file).subarray(0, 60))],
    [
      'just before the new snapshot end marker',
      (file) => writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, -2).join('\n') + '\n'),
    ],
    ['before the new snapshot was renamed into place', (file) => renameSync(file, `${file}.tmp`)],
  ])('a crash during compaction %s loses and repeats nothing', async (_, crash) => {
    // Prepare: a real compaction, then the older generation's files put back as if never removed
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a', 'b');
    await first.journal.flushed();
    first.add('c');
    await first.journal.flushed();
    const oldGeneration = new Map(filesIn(dir).map((name) => [name, readFileSync(join(dir, name))]));
    await first.journal.compact();
    first.add('d');
    await first.journal.close();
    const newSnapshot = filesIn(dir).find(
      (name) => name.endsWith('.snapshot.jsonl') && !oldGeneration.has(name),
    );
    for (const [name, content] of oldGeneration) writeFileSync(join(dir, name), content);

    // Act
    crash(join(dir, newSnapshot!));
    const second = await ListService.open(dir);
    second.add('e');
    await second.journal.close();
    const third = await ListService.open(dir);
    await third.journal.close();

    // Assess
    expect(second.items).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(third.items).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(filesIn(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses appends after close, while flushed() still resolves', async () => {
    // Prepare
    const service = await ListService.open(tempDir());
    service.add('a');
    await service.journal.close();

    // Act
    const append = () => service.journal.append('late');

    // Assess
    expect(append).toThrow('Journal list is closed');
    await expect(service.journal.flushed()).resolves.toBeUndefined();
  });

  it('rejects a record that is not JSON when it is appended', async () => {
    // Prepare
    const journal = await openJournal<unknown>({
      dir: tempDir(),
      name: 'odd',
      replay: () => {},
      snapshot: () => [],
      logger: silent,
    });

    // Act
    const append = () => journal.append(undefined);

    // Assess
    expect(append).toThrow(TypeError);
    await journal.close();
  });
});

/**
 * The list service after a change of record shape: version 2 records are `{ item }` objects where version 1
 * records were bare strings. `upgrades` lists every record `upgrade` was handed, with its version.
 */
async function openListV2(dir: string, upgrades: [number, unknown][] = []) {
  const items: string[] = [];
  const journal = await openJournal<{ item: string }>({
    dir,
    name: 'list',
    recordVersion: 2,
    upgrade: (record, fromVersion) => {
      upgrades.push([fromVersion, record]);
      return { item: record as string };
    },
    replay: (record) => items.push(record.item),
    snapshot: () => items.map((item) => ({ item })),
    logger: silent,
  });
  const add = (item: string) => {
    items.push(item);
    journal.append({ item });
  };
  return { items, journal, add };
}

function headerOf(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!);
}

function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

/** A snapshot header of format 1 and a log without a header, as the journal wrote them before versions. */
const UNVERSIONED_FILES = {
  'list.4.snapshot.jsonl':
    '{"$journal":"snapshot","format":1,"generation":4}\n"a"\n"b"\n{"$journal":"end","records":2}\n',
  'list.4.log.jsonl': '"c"\n',
};

function contentsOf(dir: string): Map<string, string> {
  return new Map(filesIn(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

describe('openJournal record versions', () => {
  it('upgrades records of an older version before replay, and compaction rewrites them at the new one', async () => {
    // Prepare: version 1 records in both the snapshot and the log
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a');
    await first.journal.close();
    const second = await ListService.open(dir);
    second.add('b');
    await second.journal.close();

    // Act
    const upgrades: [number, unknown][] = [];
    const upgraded = await openListV2(dir, upgrades);
    upgraded.add('c');
    await upgraded.journal.close();
    const upgradesOnReopen: [number, unknown][] = [];
    const reopened = await openListV2(dir, upgradesOnReopen);
    await reopened.journal.close();

    // Assess
    expect(upgraded.items).toEqual(['a', 'b', 'c']);
    expect(upgrades).toEqual([
      [1, 'a'],
      [1, 'b'],
    ]);
    expect(reopened.items).toEqual(['a', 'b', 'c']);
    expect(upgradesOnReopen).toEqual([]);
    const snapshot = filesIn(dir).find((name) => name.endsWith('.snapshot.jsonl'))!;
    expect(headerOf(join(dir, snapshot))).toMatchObject({
      $journal: 'snapshot',
      format: 2,
      recordVersion: 2,
    });
    expect(headerOf(logFileOf(dir))).toEqual({ $journal: 'log', recordVersion: 2 });
    expect(readFileSync(join(dir, snapshot), 'utf8')).toContain('{"item":"a"}\n{"item":"b"}\n{"item":"c"}\n');
  });

  it('reads files written before versions were kept as version 1', async () => {
    // Prepare
    const [forVersion1, forVersion2] = [tempDir(), tempDir()];
    writeFiles(forVersion1, UNVERSIONED_FILES);
    writeFiles(forVersion2, UNVERSIONED_FILES);

    // Act
    const asVersion1 = await ListService.open(forVersion1);
    await asVersion1.journal.close();
    const upgrades: [number, unknown][] = [];
    const asVersion2 = await openListV2(forVersion2, upgrades);
    await asVersion2.journal.close();

    // Assess
    expect(asVersion1.items).toEqual(['a', 'b', 'c']);
    expect(asVersion2.items).toEqual(['a', 'b', 'c']);
    expect(upgrades.map(([fromVersion]) => fromVersion)).toEqual([1, 1, 1]);
  });

  it('upgrades only the older files of a compaction interrupted while it was upgrading', async () => {
    // Prepare: version 1 files, then a version 2 compaction whose new snapshot never landed
    const dir = tempDir();
    const first = await ListService.open(dir);
    first.add('a', 'b');
    await first.journal.close();
    const version1Files = contentsOf(dir);
    const upgrading = await openListV2(dir);
    upgrading.add('c');
    await upgrading.journal.close();
    writeFiles(dir, Object.fromEntries(version1Files));
    const newSnapshot = filesIn(dir).find(
      (name) => name.endsWith('.snapshot.jsonl') && !version1Files.has(name),
    );
    rmSync(join(dir, newSnapshot!));

    // Act
    const upgrades: [number, unknown][] = [];
    const reopened = await openListV2(dir, upgrades);
    await reopened.journal.close();

    // Assess
    expect(reopened.items).toEqual(['a', 'b', 'c']);
    expect(upgrades).toEqual([
      [1, 'a'],
      [1, 'b'],
    ]);
  });

  it.each([
    [
      'a snapshot',
      {
        'list.2.snapshot.jsonl':
          '{"$journal":"snapshot","format":2,"generation":2,"recordVersion":3}\n{"item":"a"}\n{"$journal":"end","records":1}\n',
        'list.2.log.jsonl': '{"$journal":"log","recordVersion":3}\n',
      },
    ],
    [
      'a log',
      {
        'list.2.snapshot.jsonl':
          '{"$journal":"snapshot","format":2,"generation":2,"recordVersion":2}\n{"item":"a"}\n{"$journal":"end","records":1}\n',
        'list.2.log.jsonl': '{"$journal":"log","recordVersion":2}\n{"item":"b"}\n',
        'list.3.log.jsonl': '{"$journal":"log","recordVersion":3}\n{"item":"c"}\n"torn',
      },
    ],
  ])('refuses %s of a newer version than the code knows, and changes no file', async (_, files) => {
    // Prepare
    const dir = tempDir();
    writeFiles(dir, files);

    // Act
    const opening = openListV2(dir);

    // Assess
    await expect(opening).rejects.toThrow(JournalVersionError);
    await expect(opening).rejects.toThrow(/holds records of version 3, but this code reads versions up to 2/);
    expect(contentsOf(dir)).toEqual(new Map(Object.entries(files)));
  });

  it('refuses a record version above 1 without an upgrade', async () => {
    // Act
    const opening = openJournal<string>({
      dir: null,
      name: 'list',
      recordVersion: 2,
      replay: () => {},
      snapshot: () => [],
    });

    // Assess
    await expect(opening).rejects.toThrow('Journal list: recordVersion 2 needs an upgrade for older records');
  });
});

describe('openJournal in memory', () => {
  it('keeps the same API but writes nothing', async () => {
    // Prepare
    const service = await ListService.open(null);

    // Act
    service.add('a', 'b');
    await service.journal.flushed();
    await service.journal.compact();
    await service.journal.close();

    // Assess
    expect(service.items).toEqual(['a', 'b']);
    for (const dir of [process.cwd(), join(process.cwd(), '.data')]) {
      const written = existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith('list.')) : [];
      expect(written).toEqual([]);
    }
    expect(() => service.journal.append('late')).toThrow('Journal list is closed');
  });
});

// ─── Child processes ────────────────────────────────────────────────────────────────────────────────────

interface ChildRun {
  /** Whole stdout lines; a line cut by the kill is left out. */
  readonly lines: string[];
  readonly stderr: string;
}

/** Runs the writer fixture; with `killAfterAcks` it is SIGKILLed once that many numbers were acknowledged. */
function runWriter(args: string[], options: { killAfterAcks?: number; fileSizeLimitKiB?: number } = {}) {
  return new Promise<ChildRun>((resolvePromise, reject) => {
    const node = [process.execPath, '--import', 'tsx', WRITER, ...args].map((part) => `'${part}'`).join(' ');
    const command = options.fileSizeLimitKiB
      ? `ulimit -f ${options.fileSizeLimitKiB}; exec ${node}`
      : `exec ${node}`;
    const child = spawn('/bin/bash', ['-c', command], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acks = 0;
    /** The end of the last chunk, when it ended mid-line. */
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.killAfterAcks === undefined) return;
      // Numbers only: the writer's first line is `ready <n>`, which acknowledges nothing.
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      acks += lines.filter((line) => /^\d+$/.test(line)).length;
      if (acks >= options.killAfterAcks) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (options.killAfterAcks !== undefined && signal !== 'SIGKILL') {
        reject(new Error(`writer exited with ${code ?? signal} before it was killed: ${stderr}`));
        return;
      }
      resolvePromise({ lines: stdout.split('\n').slice(0, -1), stderr });
    });
  });
}

/** Replays the writer's journal, expanding its `{ upTo }` snapshot record into the numbers it stands for. */
async function replayNumbers(dir: string, name: string): Promise<number[]> {
  const numbers: number[] = [];
  const journal = await openJournal<{ n: number } | { upTo: number }>({
    dir,
    name,
    replay: (record) => {
      if ('upTo' in record) numbers.push(...range(record.upTo + 1));
      else numbers.push(record.n);
    },
    snapshot: () => (numbers.length > 0 ? [{ upTo: numbers.length - 1 }] : []),
    logger: silent,
  });
  await journal.close();
  return numbers;
}

describe('openJournal across real process deaths', () => {
  it('keeps every acknowledged record exactly once, in order, through repeated kill -9', async () => {
    // Prepare
    const dir = tempDir();
    const acknowledged: number[] = [];

    // Act: three lives, each killed mid-stream while compacting every 16 KiB
    for (let life = 0; life < 3; life++) {
      const run = await runWriter(['count', dir], { killAfterAcks: 3000 });
      acknowledged.push(...run.lines.filter((line) => /^\d+$/.test(line)).map(Number));
    }
    const journaled = await replayNumbers(dir, 'count');

    // Assess
    expect(journaled).toEqual(range(journaled.length));
    expect(acknowledged.length).toBeGreaterThanOrEqual(9000);
    expect(Math.max(...acknowledged)).toBeLessThan(journaled.length);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
  });

  it('on a failed write rejects flushed(), refuses further appends and keeps what was acknowledged', async () => {
    // Prepare
    const dir = tempDir();

    // Act: a file size limit makes a write fail partway, as a full disk would
    const run = await runWriter(['fill', dir], { fileSizeLimitKiB: 256 });
    const acknowledged = run.lines.filter((line) => /^\d+$/.test(line)).map(Number);
    const journaled = await replayNumbers(dir, 'fill');

    // Assess
    expect(run.lines).toContainEqual(
      expect.stringMatching(/^flushed rejected: Writing to journal .* failed: EFBIG/),
    );
    expect(run.lines).toContain('append threw: Journal fill stopped accepting records after a write error');
    expect(run.lines).toContain('close rejected');
    expect(run.stderr).toContain('the journal accepts no more records');
    expect(acknowledged.length).toBeGreaterThan(100);
    expect(journaled).toEqual(range(journaled.length));
    expect(journaled.length).toBeGreaterThanOrEqual(acknowledged.length);
  });
});
