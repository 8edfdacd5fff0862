/**
 * Named prepared statements for the SQL the Data API is sent again and again.
 *
 * Sent unnamed, as the Data API sends it, a statement is parsed, analysed and planned by PostgreSQL on every
 * call; an application sends the same few statements for every request, and that was about half of what a
 * call cost PGlite here (a payment's CTE insert wrapped in SET ROLE and RESET ROLE: about 600 µs of CPU unnamed,
 * 300 µs prepared; BENCHMARKS.md). So the first time a statement's text and parameter types are seen it is
 * parsed under a name, and later calls only bind that name. Nothing of this shows to a caller: results,
 * errors and transactions are the same.
 *
 * PostgreSQL replans a prepared statement by itself when something it reads changes; what it cannot do is
 * change the columns one returns ("cached plan must not change result type"). So after any statement that
 * may change the schema (a CREATE, ALTER or DROP, a DO block, a CALL), or that error, every name is forgotten
 * and the session's prepared statements are dropped (DEALLOCATE ALL) before the next call prepares again.
 */
import { protocol } from '@electric-sql/pglite';
import type { BoundStatement } from './named-parameters.ts';

const serialize = protocol.serialize;
const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute({});

/** Beyond this many, a new statement runs unnamed: ad-hoc SQL must not grow the session without bound. */
const MAX_PREPARED = 500;

/** The messages of one exchange, and the names it prepares, in the order of their Parse messages. */
export interface PreparedExchange {
  readonly parts: Uint8Array[];
  readonly preparing: readonly { readonly key: string; readonly name: string }[];
}

export class PreparedStatements {
  /** `text \0 types` → the name it was prepared under. */
  readonly #names = new Map<string, string>();
  /** At most this many names; 0: every statement unnamed, as the Data API sends it. */
  readonly #capacity: number;
  #nextName = 0;
  #stale = false;

  constructor(options: { readonly enabled: boolean }) {
    this.#capacity = options.enabled ? MAX_PREPARED : 0;
  }

  /** Names were forgotten: the caller sends DEALLOCATE ALL before the next exchange, then calls `dropped`. */
  get stale(): boolean {
    return this.#stale;
  }

  dropped(): void {
    this.#stale = false;
  }

  /** Parse (under a new name, the first time), Bind, Describe and Execute for each statement. */
  messagesFor(statements: readonly BoundStatement[]): PreparedExchange {
    const parts: Uint8Array[] = [];
    const preparing: { key: string; name: string }[] = [];
    const inThisExchange = new Map<string, string>();
    for (const statement of statements) {
      const key = `${statement.text}\0${statement.types.join(',')}`;
      let name = this.#names.get(key) ?? inThisExchange.get(key);
      if (name === undefined && this.#names.size + preparing.length < this.#capacity) {
        name = `data_api_${this.#nextName++}`;
        inThisExchange.set(key, name);
        preparing.push({ key, name });
        parts.push(serialize.parse({ name, text: statement.text, types: statement.types }));
      } else if (name === undefined) {
        parts.push(serialize.parse({ text: statement.text, types: statement.types }));
      }
      parts.push(serialize.bind({ statement: name, values: statement.values }), DESCRIBE_PORTAL, EXECUTE);
    }
    return { parts, preparing };
  }

  /**
   * After the exchange: its first `parsed` Parse messages succeeded (ParseComplete; after an error the server
   * skips the rest), so those names exist. A statement that may have changed the schema forgets them all.
   */
  settle(exchange: PreparedExchange, parsed: number, changedSchema: boolean): void {
    for (const { key, name } of exchange.preparing.slice(0, parsed)) this.#names.set(key, name);
    if (changedSchema && (this.#names.size > 0 || parsed > 0)) {
      this.#names.clear();
      this.#stale = true;
    }
  }
}

/** A command tag, or an error, after which the session's prepared statements may no longer fit the schema. */
export function mayChangeSchema(
  tags: readonly string[],
  error: { code?: string; message?: string } | undefined,
) {
  if (error?.code === '0A000' && /cached plan must not change result type/.test(error.message ?? ''))
    return true;
  return tags.some((tag) => /^(CREATE|ALTER|DROP|DO|CALL|IMPORT)\b/.test(tag));
}
