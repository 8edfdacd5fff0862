/**
 * Execution histories, fetched through GetExecutionHistory and kept: a finished execution's history is read
 * once, and a running one's is brought up to date with the newest events only (newest first, until a known
 * event), so a page following a live execution costs one small call a poll rather than the whole history.
 * `newestEvents` reads just the last few, to tell where a running execution is.
 *
 * @example
 * const store = new HistoryStore(sfn);
 * const events = await store.historyOf(executionArn);
 */
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** AWS keeps at most 25,000 events per execution; this reads them all. */
const FULL_PAGE_SIZE = 1000;
/** Newer events since the last read: a poll's worth is usually a handful. */
const UPDATE_PAGE_SIZE = 100;
const MAX_KEPT = 500;

interface Kept {
  readonly events: HistoryEvent[];
  /** The execution has ended and its last event says so: nothing more comes unless it is redriven. */
  finished: boolean;
  /** Redrives seen when it was read: a redrive appends to a finished history. */
  redriveCount: number;
}

const END_TYPES = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

export class HistoryStore {
  readonly #sfn: SFNClient;
  readonly #kept = new Map<string, Kept>();

  constructor(sfn: SFNClient) {
    this.#sfn = sfn;
  }

  /**
   * The whole history. `redriveCount` (from DescribeExecution or ListExecutions) tells a finished history
   * that was redriven since it was read from one that is still as read.
   */
  async historyOf(
    executionArn: string,
    { redriveCount = 0 }: { redriveCount?: number } = {},
  ): Promise<HistoryEvent[]> {
    const kept = this.#kept.get(executionArn);
    if (kept !== undefined) {
      this.#kept.delete(executionArn);
      this.#kept.set(executionArn, kept);
      if (kept.finished && kept.redriveCount === redriveCount) return kept.events;
      const updated = await this.#newerThan(executionArn, kept.events.at(-1)?.id ?? 0);
      if (updated !== undefined) {
        kept.events.push(...updated);
        kept.finished = END_TYPES.has(kept.events.at(-1)?.type ?? '');
        kept.redriveCount = redriveCount;
        return kept.events;
      }
    }
    const events = await this.#all(executionArn);
    this.#keep(executionArn, {
      events,
      finished: END_TYPES.has(events.at(-1)?.type ?? ''),
      redriveCount,
    });
    return events;
  }

  /**
   * The execution's newest events, newest first: one small call, for telling where a running execution is
   * without reading its whole history. `more`: older events were left out.
   */
  async newestEvents(
    executionArn: string,
    count: number,
  ): Promise<{ events: HistoryEvent[]; more: boolean }> {
    const page = await this.#sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: count, reverseOrder: true }),
    );
    const events = [...(page.events ?? [])].sort((a, b) => (b.id ?? 0) - (a.id ?? 0));
    return { events, more: page.nextToken !== undefined };
  }

  async #all(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: FULL_PAGE_SIZE, nextToken }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return events.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  }

  /**
   * The events after `lastId`, oldest first; undefined when they do not join up with it (events written
   * between two pages can shift them), and the caller reads the whole history again.
   */
  async #newerThan(executionArn: string, lastId: number): Promise<HistoryEvent[] | undefined> {
    const newer: HistoryEvent[] = [];
    let nextToken: string | undefined;
    for (;;) {
      const page = await this.#sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: UPDATE_PAGE_SIZE,
          reverseOrder: true,
          nextToken,
        }),
      );
      const events = page.events ?? [];
      let reachedKnown = false;
      for (const event of events) {
        if ((event.id ?? 0) <= lastId) {
          reachedKnown = true;
          break;
        }
        newer.push(event);
      }
      nextToken = page.nextToken;
      if (reachedKnown || nextToken === undefined) break;
    }
    newer.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    const joinsUp = newer.every((event, index) => event.id === lastId + index + 1);
    return joinsUp ? newer : undefined;
  }

  #keep(executionArn: string, kept: Kept) {
    this.#kept.delete(executionArn);
    this.#kept.set(executionArn, kept);
    while (this.#kept.size > MAX_KEPT) this.#kept.delete(this.#kept.keys().next().value!);
  }
}
