/**
 * The durable journal under the embedded AWS services. A service keeps its state in memory and appends one
 * JSON record per change; on start it replays the newest snapshot and the logs written after it.
 *
 * Files in `dir`, for a journal named `stepfunctions`:
 * - `stepfunctions.<gen>.snapshot.jsonl`: a header line, the records that rebuild the state at the moment
 *   generation `<gen>` began, and an end marker. Written to a `.tmp` file, fsynced and renamed, so a
 *   snapshot without its end marker can only come from an interrupted compaction and is ignored.
 * - `stepfunctions.<gen>.log.jsonl`: a header line, then every record appended after that moment, one a line.
 *
 * Record versions: a service's records change shape over time, while a developer's data directory outlives
 * the code that wrote it. Each file's header says which version of the records it holds (`recordVersion`);
 * on open, records of an older version go through the service's `upgrade` before `replay`, and the
 * compaction that follows rewrites them all at the current version. A file of a newer version than the code
 * knows is refused (JournalVersionError) rather than misread. Files from before versions were kept have no
 * version in their snapshot header and no log header: they are version 1. Snapshot headers say format 2, so
 * code from before versions refuses these files instead of replaying records it cannot read and compacting
 * them away.
 *
 * Compaction takes the snapshot and switches to a new log in one synchronous step, so every record is either
 * folded into the new snapshot or written to the new log, never both. Until the new snapshot is complete the
 * old generation stays; if the process dies in between, open replays the old snapshot, the old log and then
 * the newer logs, which continue it exactly. Only once the new snapshot is durable are older files removed.
 *
 * Appends are grouped: every record appended during one event-loop turn is written with a single
 * `writeSync` at the end of the turn (`setImmediate`). A record whose write returned is in the kernel's page
 * cache, which survives kill -9 of the process; `sync: 'batch'` adds an fdatasync per group for power loss.
 *
 * Throughput, from `node --import tsx packages/embedded-aws/durable/fixtures/journal-throughput.ts` on a 2-core dev machine
 * (100 concurrent writers, each appending a transition's 5 records of ~150 bytes and awaiting `flushed()`):
 * 360–480 thousand records/s (70–95 thousand transitions/s) with `sync: 'never'`, about 215 thousand
 * records/s (43 thousand transitions/s) with `sync: 'batch'`, whose fdatasync runs off the event loop while
 * the next group gathers. The target is 25,000 records/s (5,000 transitions/s).
 */
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open as openFileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface JournalOptions<R> {
  /** Folder for the files, or null for an in-memory journal (tests): same API, nothing written. */
  readonly dir: string | null;
  /** File name stem, e.g. 'stepfunctions' → stepfunctions.*.jsonl in dir. */
  readonly name: string;
  /** Called for every record on open, in order: first the latest snapshot's records, then the log's. */
  readonly replay: (record: R) => void;
  /** Records that rebuild the current state, for compaction (written as a new snapshot). */
  readonly snapshot: () => Iterable<R>;
  /**
   * The version of the records this code appends and snapshots; default 1. Raise it when a record's shape
   * changes, and give `upgrade` for the older shapes.
   */
  readonly recordVersion?: number;
  /**
   * Turns a record of an older version, as read from a file written at `fromVersion`, into one of
   * `recordVersion`; called on open, before `replay`. Required when `recordVersion` is above 1.
   *
   * @example
   * upgrade: (record, fromVersion) => (fromVersion === 1 ? renameFieldsOfVersion1(record) : (record as Rec)),
   */
  readonly upgrade?: (record: unknown, fromVersion: number) => R;
  /** Compact when the log passes this many bytes (default 64 MiB). Compaction also happens on open. */
  readonly compactAfterBytes?: number;
  /**
   * fdatasync policy: write() alone already survives kill -9 (the OS has the data); fsync protects against
   * power loss. 'batch' = fdatasync once per group write, 'never' = never. Default 'never': the embedded AWS
   * runs on developer machines and CI, where the failure to survive is the process dying (kill -9, a crashed
   * test run), not the machine losing power; and fdatasync can cost tens of milliseconds on virtualised or
   * bind-mounted disks, which every acknowledged API call would wait for. Snapshots are always fsynced.
   */
  readonly sync?: 'batch' | 'never';
  /** Where torn tails, dropped snapshots and write errors are reported; default `console`. */
  readonly logger?: JournalLogger;
}

export interface JournalLogger {
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
}

export interface Journal<R> {
  /** Buffer a record; it is written at the end of the current event-loop turn together with the others. */
  append(record: R): void;
  /** Resolves once every record appended before the call is written (and synced per policy). Callers that
   *  acknowledge something to a client (an API response) await this first. */
  flushed(): Promise<void>;
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** A journal file that cannot be read back without losing or inventing data; names the file and line. */
export class JournalCorruptError extends Error {
  override readonly name = 'JournalCorruptError';

  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`Corrupt journal ${file} line ${line}: ${reason}`);
  }
}

/**
 * A journal file holds records of a version newer than the code reading it knows: it was written by newer
 * code, and reading it would mean guessing. Open fails before any file is changed.
 */
export class JournalVersionError extends Error {
  override readonly name = 'JournalVersionError';

  constructor(
    readonly file: string,
    readonly fileVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `Journal ${file} holds records of version ${fileVersion}, but this code reads versions up to ` +
        `${knownVersion}: newer code wrote it. Run that code, or move the data directory aside to start afresh.`,
    );
  }
}

const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;
/** 2: the header carries `recordVersion` and logs start with a header. 1: neither (records of version 1). */
const SNAPSHOT_FORMAT = 2;
const UNVERSIONED_SNAPSHOT_FORMAT = 1;
/** The version of records in files written before versions were kept. */
const FIRST_RECORD_VERSION = 1;
/** Marker lines use a key no service record has, so a snapshot's frame never reads as one of its records. */
const MARKER_KEY = '$journal';

/**
 * Opens (creating if needed) the journal `name` in `dir`, replays it through `replay`, and compacts it.
 *
 * @example
 * const counts = new Map<string, number>();
 * const journal = await openJournal<{ key: string; count: number }>({
 *   dir: '.data',
 *   name: 'counters',
 *   replay: (record) => counts.set(record.key, record.count),
 *   snapshot: () => [...counts].map(([key, count]) => ({ key, count })),
 * });
 * counts.set('a', 1);
 * journal.append({ key: 'a', count: 1 });
 * await journal.flushed(); // now it is safe to tell the client
 */
export async function openJournal<R>(options: JournalOptions<R>): Promise<Journal<R>> {
  if (!/^[A-Za-z0-9_-]+$/.test(options.name)) {
    throw new Error(`Journal name must be letters, digits, '-' or '_': ${JSON.stringify(options.name)}`);
  }
  const recordVersion = options.recordVersion ?? FIRST_RECORD_VERSION;
  if (!isRecordVersion(recordVersion)) {
    throw new Error(
      `Journal ${options.name}: recordVersion must be a whole number from 1, got ${recordVersion}`,
    );
  }
  if (recordVersion > FIRST_RECORD_VERSION && options.upgrade === undefined) {
    throw new Error(
      `Journal ${options.name}: recordVersion ${recordVersion} needs an upgrade for older records`,
    );
  }
  if (options.dir === null) return new MemoryJournal<R>(options.name);
  return FileJournal.open(options.dir, options);
}

// ─── In memory ───────────────────────────────────────────────────────────────────────────────────────────

class MemoryJournal<R> implements Journal<R> {
  readonly #name: string;
  #closed = false;

  constructor(name: string) {
    this.#name = name;
  }

  append(record: R): void {
    if (this.#closed) throw new Error(`Journal ${this.#name} is closed`);
    // Nothing is kept: the owner's memory is the state. Serialising just to check would cost the in-memory
    // engine a quarter of its time.
    void record;
  }

  flushed(): Promise<void> {
    return Promise.resolve();
  }

  compact(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

// ─── On disk ─────────────────────────────────────────────────────────────────────────────────────────────

interface FlushWaiter {
  /** The number of groups that must be durable for this waiter to resolve. */
  readonly group: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

class FileJournal<R> implements Journal<R> {
  readonly #dir: string;
  readonly #name: string;
  readonly #snapshot: () => Iterable<R>;
  readonly #compactAfterBytes: number;
  readonly #syncEachGroup: boolean;
  readonly #logger: JournalLogger;
  readonly #recordVersion: number;

  #fd: number | null = null;
  #logPath = '';
  /** The highest generation number present in the folder; the next compaction writes the one after. */
  #lastGeneration: number;
  #logBytes = 0;

  #pending: string[] = [];
  #scheduled = false;
  #writtenGroups = 0;
  #syncedGroups = 0;
  #waiters: FlushWaiter[] = [];
  #syncing: Promise<void> | null = null;

  #compaction: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #failure: Error | null = null;

  private constructor(dir: string, options: JournalOptions<R>, lastGeneration: number) {
    this.#dir = dir;
    this.#name = options.name;
    this.#snapshot = options.snapshot;
    this.#compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.#syncEachGroup = (options.sync ?? 'never') === 'batch';
    this.#logger = options.logger ?? consoleLogger;
    this.#recordVersion = options.recordVersion ?? FIRST_RECORD_VERSION;
    this.#lastGeneration = lastGeneration;
  }

  static async open<R>(dir: string, options: JournalOptions<R>): Promise<FileJournal<R>> {
    const logger = options.logger ?? consoleLogger;
    mkdirSync(dir, { recursive: true });
    const files = listJournalFiles(dir, options.name);
    for (const file of files.filter((f) => f.temporary)) removeFile(join(dir, file.fileName));

    const base = newestCompleteSnapshot(dir, files, logger);
    const chain = files
      .filter((f) => f.kind === 'log' && !f.temporary && (base === undefined || f.generation >= base))
      .sort((a, b) => a.generation - b.generation);

    const reader: RecordReader<R> = {
      replay: options.replay,
      version: options.recordVersion ?? FIRST_RECORD_VERSION,
      upgrade: options.upgrade,
    };
    const snapshotVersion =
      base === undefined
        ? undefined
        : replaySnapshot(join(dir, snapshotFileName(options.name, base)), reader);
    let lastLog: LogReplayed | undefined;
    for (const [index, log] of chain.entries()) {
      lastLog = replayLog(join(dir, log.fileName), reader, index === chain.length - 1, logger);
    }

    const journal = new FileJournal<R>(dir, options, Math.max(0, ...files.map((f) => f.generation)));
    const onlyLog = chain.length === 1 ? chain[0] : undefined;
    if (
      base !== undefined &&
      onlyLog?.generation === base &&
      lastLog?.records === 0 &&
      snapshotVersion === reader.version &&
      lastLog.recordVersion === reader.version
    ) {
      // Nothing to fold in or upgrade: keep appending to the current generation instead of rewriting the
      // snapshot. A log without a header (older code's, or one whose header a crash tore) is compacted, so
      // every log this code appends to says which version its records are.
      journal.#logBytes = lastLog.wholeBytes;
      journal.#logPath = join(dir, onlyLog.fileName);
      journal.#fd = openSync(journal.#logPath, 'a');
      removeGenerationsBefore(dir, options.name, base);
    } else {
      try {
        await journal.compact();
      } catch (error) {
        await journal.close().catch(() => undefined);
        throw error;
      }
    }
    return journal;
  }

  append(record: R): void {
    if (this.#failure) {
      throw new Error(`Journal ${this.#name} stopped accepting records after a write error`, {
        cause: this.#failure,
      });
    }
    if (this.#closing) throw new Error(`Journal ${this.#name} is closed`);
    this.#pending.push(serializeRecord(record));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#endOfTurn);
    }
  }

  flushed(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const group = this.#writtenGroups + (this.#pending.length > 0 ? 1 : 0);
    if (group <= this.#durableGroups()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ group, resolve, reject });
    });
  }

  compact(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const previous = this.#compaction ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#compactNow());
    this.#compaction = next;
    const settled = () => {
      if (this.#compaction === next) this.#compaction = null;
    };
    next.then(settled, settled);
    return next;
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  // ─── Group commit ──────────────────────────────────────────────────────────────────────────────────────

  readonly #endOfTurn = (): void => {
    this.#scheduled = false;
    this.#writeGroup();
  };

  #writeGroup(): void {
    if (this.#pending.length === 0 || this.#failure || this.#fd === null) return;
    const data = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    try {
      writeFully(this.#fd, data);
    } catch (error) {
      this.#fail(`Writing to journal ${this.#logPath} failed`, error);
      return;
    }
    this.#logBytes += data.length;
    this.#writtenGroups++;
    if (this.#syncEachGroup) this.#startSync();
    else this.#settleWaiters();
    if (this.#logBytes >= this.#compactAfterBytes && !this.#compaction && !this.#closing) {
      this.compact().catch((error: unknown) => {
        this.#logger.error(`Compacting journal ${this.#name} failed; its log keeps growing`, error);
      });
    }
  }

  /** One fdatasync at a time, off the event loop; groups written meanwhile ride on the next one. */
  #startSync(): void {
    if (this.#syncing || this.#failure || this.#fd === null) return;
    const fd = this.#fd;
    const upTo = this.#writtenGroups;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(fd, (error) => {
        this.#syncing = null;
        if (error) this.#fail(`Syncing journal ${this.#logPath} failed`, error);
        else {
          this.#markSynced(upTo);
          if (this.#writtenGroups > this.#syncedGroups) this.#startSync();
        }
        resolve();
      });
    });
  }

  #markSynced(upTo: number): void {
    this.#syncedGroups = Math.max(this.#syncedGroups, upTo);
    this.#settleWaiters();
  }

  #durableGroups(): number {
    return this.#syncEachGroup ? this.#syncedGroups : this.#writtenGroups;
  }

  #settleWaiters(): void {
    const durable = this.#durableGroups();
    let count = 0;
    while (count < this.#waiters.length && this.#waiters[count]!.group <= durable) count++;
    if (count === 0) return;
    for (const waiter of this.#waiters.splice(0, count)) waiter.resolve();
  }

  /** After a failed write the file may end in a torn record; stop here so nothing is appended after it. */
  #fail(message: string, cause: unknown): void {
    if (this.#failure) return;
    const failure = new Error(`${message}: ${errorMessage(cause)}`, { cause });
    this.#failure = failure;
    this.#pending = [];
    this.#logger.error(`${failure.message}; the journal accepts no more records`, cause);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(failure);
  }

  // ─── Compaction ────────────────────────────────────────────────────────────────────────────────────────

  async #compactNow(): Promise<void> {
    if (this.#failure) throw this.#failure;
    // From here to the switch of logs everything is synchronous, so no record can be appended in between:
    // each is either written to the old log (and in the snapshot) or lands in the new log.
    this.#writeGroup();
    if (this.#failure) throw this.#failure;
    const snapshot = serializeSnapshot(this.#snapshot());
    const generation = this.#lastGeneration + 1;
    const oldFd = this.#fd;
    if (oldFd !== null && this.#syncEachGroup && this.#writtenGroups > this.#syncedGroups) {
      // The newer log continues this one, so under 'batch' this one must be on disk first.
      try {
        fdatasyncSync(oldFd);
      } catch (error) {
        this.#fail(`Syncing journal ${this.#logPath} failed`, error);
        throw this.#failure;
      }
      this.#markSynced(this.#writtenGroups);
    }
    const logPath = join(this.#dir, logFileName(this.#name, generation));
    const newFd = openSync(logPath, 'ax');
    const logHeader = Buffer.from(logHeaderLine(this.#recordVersion), 'utf8');
    try {
      writeFully(newFd, logHeader);
      syncDirectory(this.#dir);
    } catch (error) {
      closeSync(newFd);
      removeFile(logPath);
      throw error;
    }
    const oldSync = this.#syncing;
    this.#fd = newFd;
    this.#logPath = logPath;
    this.#lastGeneration = generation;
    this.#logBytes = logHeader.length;

    try {
      await writeSnapshotFile(
        this.#dir,
        snapshotFileName(this.#name, generation),
        headerLine(generation, this.#recordVersion),
        snapshot,
      );
    } finally {
      if (oldFd !== null) {
        // An fdatasync of the old log may still be running on the thread pool.
        await oldSync;
        closeSync(oldFd);
      }
    }
    removeGenerationsBefore(this.#dir, this.#name, generation);
  }

  async #closeNow(): Promise<void> {
    this.#writeGroup();
    while (this.#compaction) await this.#compaction.catch(() => undefined);
    while (this.#syncing) await this.#syncing;
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
    if (this.#failure) throw this.#failure;
  }
}

const consoleLogger: JournalLogger = {
  warn: (message) => console.warn(message),
  error: (message, cause) => console.error(message, cause),
};

// ─── Files ───────────────────────────────────────────────────────────────────────────────────────────────

interface JournalFile {
  readonly fileName: string;
  readonly generation: number;
  readonly kind: 'snapshot' | 'log';
  readonly temporary: boolean;
}

function snapshotFileName(name: string, generation: number): string {
  return `${name}.${generation}.snapshot.jsonl`;
}

function logFileName(name: string, generation: number): string {
  return `${name}.${generation}.log.jsonl`;
}

function listJournalFiles(dir: string, name: string): JournalFile[] {
  const pattern = new RegExp(`^${name}\\.(\\d+)\\.(snapshot|log)\\.jsonl(\\.tmp)?$`);
  const files: JournalFile[] = [];
  for (const fileName of readdirSync(dir)) {
    const match = pattern.exec(fileName);
    if (!match) continue;
    files.push({
      fileName,
      generation: Number(match[1]),
      kind: match[2] === 'snapshot' ? 'snapshot' : 'log',
      temporary: match[3] !== undefined,
    });
  }
  return files;
}

/** Newer snapshots without an end marker were cut short by a crash during compaction: drop them. */
function newestCompleteSnapshot(
  dir: string,
  files: JournalFile[],
  logger: JournalLogger,
): number | undefined {
  const snapshots = files
    .filter((f) => f.kind === 'snapshot' && !f.temporary)
    .sort((a, b) => b.generation - a.generation);
  for (const snapshot of snapshots) {
    const path = join(dir, snapshot.fileName);
    if (endsWithEndMarker(path)) return snapshot.generation;
    logger.warn(`Ignoring incomplete journal snapshot ${path}: a compaction was interrupted`);
    removeFile(path);
  }
  return undefined;
}

function removeGenerationsBefore(dir: string, name: string, generation: number): void {
  for (const file of listJournalFiles(dir, name)) {
    if (file.generation < generation) removeFile(join(dir, file.fileName));
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!isErrorCode(error, 'ENOENT')) throw error;
  }
}

/** A new file's name is only durable once its folder is fsynced. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some platforms and file systems cannot fsync a folder; there the rename is as durable as it gets.
    if (!isErrorCode(error, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF')) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeFully(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

// ─── Snapshot format ─────────────────────────────────────────────────────────────────────────────────────

interface SerializedSnapshot {
  readonly chunks: string[];
  readonly records: number;
}

const SNAPSHOT_CHUNK_CHARS = 1024 * 1024;

/** Serialised at once, because the state keeps changing while the file is written. */
function serializeSnapshot<R>(records: Iterable<R>): SerializedSnapshot {
  const chunks: string[] = [];
  let parts: string[] = [];
  let chars = 0;
  let count = 0;
  for (const record of records) {
    const line = serializeRecord(record);
    parts.push(line);
    chars += line.length;
    count++;
    if (chars >= SNAPSHOT_CHUNK_CHARS) {
      chunks.push(parts.join(''));
      parts = [];
      chars = 0;
    }
  }
  if (parts.length > 0) chunks.push(parts.join(''));
  return { chunks, records: count };
}

function headerLine(generation: number, recordVersion: number): string {
  return `${JSON.stringify({ [MARKER_KEY]: 'snapshot', format: SNAPSHOT_FORMAT, generation, recordVersion })}\n`;
}

function logHeaderLine(recordVersion: number): string {
  return `${JSON.stringify({ [MARKER_KEY]: 'log', recordVersion })}\n`;
}

function endLine(records: number): string {
  return `${JSON.stringify({ [MARKER_KEY]: 'end', records })}\n`;
}

async function writeSnapshotFile(
  dir: string,
  fileName: string,
  header: string,
  snapshot: SerializedSnapshot,
): Promise<void> {
  const path = join(dir, fileName);
  const temporary = `${path}.tmp`;
  const handle = await openFileHandle(temporary, 'w');
  try {
    for (const text of [header, ...snapshot.chunks, endLine(snapshot.records)]) {
      const data = Buffer.from(text, 'utf8');
      let offset = 0;
      while (offset < data.length) {
        offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
      }
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    removeFile(temporary);
    throw error;
  }
  await handle.close();
  renameSync(temporary, path);
  syncDirectory(dir);
}

function isMarker(value: unknown, marker: 'snapshot' | 'log' | 'end'): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && (value as Record<string, unknown>)[MARKER_KEY] === marker
  );
}

/** Reads only the file's tail: whether its last whole line is an end marker. */
function endsWithEndMarker(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 4096);
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    if (length === 0 || tail[length - 1] !== NEWLINE) return false;
    const start = tail.lastIndexOf(NEWLINE, length - 2) + 1;
    try {
      return isMarker(JSON.parse(tail.toString('utf8', start, length - 1)), 'end');
    } catch {
      return false;
    }
  } finally {
    closeSync(fd);
  }
}

// ─── Replay ──────────────────────────────────────────────────────────────────────────────────────────────

/** What replay needs to turn a file's lines into current records. */
interface RecordReader<R> {
  readonly replay: (record: R) => void;
  /** The code's record version. */
  readonly version: number;
  readonly upgrade: ((record: unknown, fromVersion: number) => R) | undefined;
}

/** Replays a snapshot; returns the version of its records. */
function replaySnapshot<R>(path: string, reader: RecordReader<R>): number {
  let held: { value: unknown; line: number } | undefined;
  let records = 0;
  let recordVersion = FIRST_RECORD_VERSION;
  let apply: (value: unknown) => void = () => {};
  // Each line is applied only once the next arrives, so the last line is always read as the end marker.
  const { lines } = readLines(path, (text, line) => {
    const value = parseLine(text, path, line);
    if (line === 1) {
      recordVersion = snapshotRecordVersion(value, path);
      apply = recordApplier(reader, path, recordVersion);
      return;
    }
    if (held) {
      applyRecord(apply, held.value, path, held.line);
      records++;
    }
    held = { value, line };
  });
  if (!held || !isMarker(held.value, 'end') || held.value.records !== records) {
    throw new JournalCorruptError(path, lines, `expected the end marker after ${records} records`);
  }
  return recordVersion;
}

function snapshotRecordVersion(header: unknown, path: string): number {
  if (isMarker(header, 'snapshot')) {
    if (header.format === UNVERSIONED_SNAPSHOT_FORMAT) return FIRST_RECORD_VERSION;
    if (header.format === SNAPSHOT_FORMAT && isRecordVersion(header.recordVersion))
      return header.recordVersion;
  }
  throw new JournalCorruptError(
    path,
    1,
    `not a snapshot header (format ${UNVERSIONED_SNAPSHOT_FORMAT} or ${SNAPSHOT_FORMAT} with a recordVersion)`,
  );
}

interface LogReplayed {
  /** Bytes kept in the log, after dropping a torn last line. */
  readonly wholeBytes: number;
  readonly records: number;
  /** From the log's header; undefined when it has none (written before versions, or its header torn). */
  readonly recordVersion: number | undefined;
}

function replayLog<R>(
  path: string,
  reader: RecordReader<R>,
  isLast: boolean,
  logger: JournalLogger,
): LogReplayed {
  let recordVersion: number | undefined;
  let apply: (value: unknown) => void = () => {};
  let records = 0;
  const { lines, wholeBytes, tornBytes } = readLines(path, (text, line) => {
    const value = parseLine(text, path, line);
    if (line === 1) {
      if (isMarker(value, 'log')) {
        if (!isRecordVersion(value.recordVersion)) {
          throw new JournalCorruptError(path, line, 'log header without a recordVersion');
        }
        recordVersion = value.recordVersion;
        apply = recordApplier(reader, path, recordVersion);
        return;
      }
      // Written before versions were kept: the first line is already a record.
      apply = recordApplier(reader, path, FIRST_RECORD_VERSION);
    }
    applyRecord(apply, value, path, line);
    records++;
  });
  if (tornBytes > 0) {
    if (!isLast) {
      throw new JournalCorruptError(path, lines + 1, 'unfinished record in a log that a newer log follows');
    }
    // A write cut short by the process dying: its flushed() never resolved, so nobody was told it happened.
    logger.warn(`Dropping the unfinished last record of ${path} (${tornBytes} bytes, line ${lines + 1})`);
    truncateSync(path, wholeBytes);
  }
  return { wholeBytes, records, recordVersion };
}

/** How a file's records reach `replay`: as they are when current, through `upgrade` when older. */
function recordApplier<R>(
  reader: RecordReader<R>,
  path: string,
  fileVersion: number,
): (value: unknown) => void {
  if (fileVersion > reader.version) throw new JournalVersionError(path, fileVersion, reader.version);
  if (fileVersion === reader.version) return (value) => reader.replay(value as R);
  // openJournal refuses a recordVersion above 1 without an upgrade, and no file is older than version 1.
  const upgrade = reader.upgrade!;
  return (value) => reader.replay(upgrade(value, fileVersion));
}

function parseLine(text: string, path: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new JournalCorruptError(path, line, errorMessage(error));
  }
}

function applyRecord(apply: (value: unknown) => void, value: unknown, path: string, line: number): void {
  try {
    apply(value);
  } catch (error) {
    throw new Error(`Replaying journal ${path} line ${line} failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

const NEWLINE = 0x0a;
const READ_CHUNK_BYTES = 1024 * 1024;

interface LinesRead {
  /** Whole lines, each ended by a newline. */
  readonly lines: number;
  /** Bytes up to and including the last newline. */
  readonly wholeBytes: number;
  /** Bytes after the last newline: a record whose write was cut short. */
  readonly tornBytes: number;
}

/** Reads in chunks, so files larger than a JavaScript string can hold still replay. */
function readLines(path: string, onLine: (text: string, line: number) => void): LinesRead {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let lines = 0;
    let wholeBytes = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, READ_CHUNK_BYTES, null);
      if (read === 0) break;
      const view = chunk.subarray(0, read);
      let start = 0;
      for (let end = view.indexOf(NEWLINE, start); end !== -1; end = view.indexOf(NEWLINE, start)) {
        // UTF-8 never uses 0x0a inside a multi-byte character, so splitting bytes on it is safe.
        let text: string;
        if (carryBytes > 0) {
          text = Buffer.concat([...carry, view.subarray(start, end)]).toString('utf8');
          wholeBytes += carryBytes;
          carry = [];
          carryBytes = 0;
        } else {
          text = view.toString('utf8', start, end);
        }
        wholeBytes += end - start + 1;
        lines++;
        onLine(text, lines);
        start = end + 1;
      }
      if (start < read) {
        carry.push(Buffer.from(view.subarray(start)));
        carryBytes += read - start;
      }
    }
    return { lines, wholeBytes, tornBytes: carryBytes };
  } finally {
    closeSync(fd);
  }
}

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────

function serializeRecord(record: unknown): string {
  const json = JSON.stringify(record) as string | undefined;
  if (json === undefined) throw new TypeError(`A journal record must be a JSON value, got ${typeof record}`);
  return `${json}\n`;
}

function isRecordVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= FIRST_RECORD_VERSION;
}

function isErrorCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
