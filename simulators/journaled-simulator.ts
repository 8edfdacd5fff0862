/**
 * What the gateway and vendor simulators share: their state lives in a journal, every change is applied and
 * journaled in one step, and no answer leaves before the journal holds what it tells. So a kill -9 and a
 * restart on the same folder keep everything a client was told, as a real party's database would.
 */
import { type Journal, openJournal } from '@payment-to-vend/embedded-aws';
import { delay, type Simulator, type SimulatorRequest, type SimulatorResponse } from './server.ts';

export abstract class JournaledSimulator<JournalRecord> implements Simulator {
  abstract readonly name: string;
  /** How long a `slow` scenario takes to answer. */
  protected readonly slowDelayMs: number;
  #closing = new AbortController();
  #journal: Journal<JournalRecord> | undefined;
  #durable = false;

  protected constructor(slowDelayMs: number | undefined) {
    this.slowDelayMs = slowDelayMs ?? 2000;
  }

  /** Whether the state outlives the process (opened on a folder) or is in memory. */
  protected get durable(): boolean {
    return this.#durable;
  }

  /**
   * Opens the journal named after the simulator in `journalDir` (null: in memory), rebuilding what an earlier
   * process kept there. Called once, by the subclass's `open`, after its own fields exist.
   */
  protected async openJournal(journalDir: string | null): Promise<void> {
    this.#durable = journalDir !== null;
    this.#journal = await openJournal<JournalRecord>({
      dir: journalDir,
      name: this.name,
      replay: (record) => this.apply(record),
      snapshot: () => this.snapshot(),
    });
  }

  async handle(request: SimulatorRequest): Promise<SimulatorResponse> {
    const response = await this.route(request);
    // Even a replay or a read waits: what it shows may have been recorded in this same turn, and must not be
    // told to a client before a kill -9 could no longer take it back.
    await this.#journal!.flushed();
    return response;
  }

  /** Waits out a `slow` scenario, or until the simulator closes. */
  protected slowAnswer(): Promise<void> {
    return delay(this.slowDelayMs, this.#closing.signal);
  }

  /** Ends pending slow answers. */
  close(): void {
    this.#closing.abort();
  }

  /** Writes what is pending and closes the journal; call after the server stopped serving. */
  async closeJournal(): Promise<void> {
    await this.#journal?.close();
  }

  /** Changes the state and journals the change; `handle` waits for the journal before answering. */
  protected record(record: JournalRecord): void {
    this.apply(record);
    this.#journal!.append(record);
  }

  abstract errorResponse(status: number, code: string, message: string): SimulatorResponse;
  abstract unavailable(status: number): SimulatorResponse;
  /** Answers one request; what it changed goes through `record`. */
  protected abstract route(request: SimulatorRequest): Promise<SimulatorResponse>;
  /** One change, made live or replayed from the journal. */
  protected abstract apply(record: JournalRecord): void;
  /** The records that rebuild the state, for the journal's snapshot. */
  protected abstract snapshot(): Iterable<JournalRecord>;
}
