/**
 * The fuzzer's oracle: holds each answer to what its case expects (fuzz-case.ts) and to what no answer may
 * ever do (a 5xx; a card number, another payment's id or any status token coming back), and each log line to
 * what no log line may hold (a card number or a status token).
 *
 * @example
 * const verdict = checkHttpCase(fuzzCase, await exchange(...), context);
 * if (verdict.findings.length > 0) console.log(verdict.findings);
 */
import { asciiDigitsOf, passesLuhn } from './card-numbers.ts';
import type { Expectation, FuzzCase, HttpCase, RealPayment, SocketCase } from './fuzz-case.ts';
import { type Exchange, type HttpAnswer, requestBytes } from './raw-http.ts';
import type { SocketSession } from './raw-websocket.ts';
import type { Owner, SecretIndex } from './secrets.ts';

export type Outcome = 'refused' | 'accepted' | 'server-error' | 'no-answer' | 'other';

export type Rule =
  | 'server-error'
  | 'not-refused'
  | 'wrong-status'
  | 'no-answer'
  | 'code'
  | 'field'
  | 'error-body'
  | 'not-as-unknown'
  | 'leak'
  | 'log-leak'
  | 'replay'
  | 'accepted-body'
  | 'own-status'
  | 'socket'
  | 'echo';

export interface Finding {
  readonly rule: Rule;
  readonly detail: string;
}

export interface Verdict {
  readonly outcome: Outcome;
  /** Each one a violation. */
  readonly findings: readonly Finding[];
  /** Worth a look, not a failure: hostile input repeated back. */
  readonly notes: readonly Finding[];
  /** The payment a 202 created, to watch its id and token from now on. */
  readonly created?: { readonly paymentId: string; readonly statusToken: string };
  /** The answer in a line, secrets masked. */
  readonly summary: string;
  /** For a refusal that should name a field: whether it named that one, none (where it may), or another. */
  readonly fieldNamed?: 'named' | 'none' | 'wrong';
}

export interface CheckContext {
  readonly host: string;
  readonly secrets: SecretIndex;
  /** What a request for a payment that does not exist gets, on GET and on the socket. */
  readonly unknownAnswers: { readonly http?: HttpAnswer; readonly socket?: HttpAnswer };
  readonly payments: readonly RealPayment[];
}

/** What must never be served: the system's password file, the repository's package.json. */
const FILE_CONTENTS = /root:[^:\n]*:0:0:|"devDependencies"\s*:/;
const ACCEPTED_ID = /^pay_[0-9a-f]{32}$/;
const STATUS_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function checkHttpCase(
  fuzzCase: HttpCase,
  exchange: Exchange,
  context: CheckContext,
  before?: HttpAnswer,
): Verdict {
  if (exchange.outcome === 'answered') return judgeAnswer(fuzzCase, exchange.answer, context, before);
  const closed = exchange.outcome === 'closed';
  if (closed && fuzzCase.expect.mayClose)
    return { outcome: 'refused', findings: [], notes: [], summary: 'closed without an answer' };
  return {
    outcome: 'no-answer',
    findings: [
      {
        rule: 'no-answer',
        detail: closed ? 'the connection closed without an answer' : 'no answer in time',
      },
    ],
    notes: [],
    summary: closed ? 'closed without an answer' : 'timed out',
  };
}

export function checkSocketCase(
  fuzzCase: SocketCase,
  session: SocketSession,
  context: CheckContext,
): Verdict {
  const { expect } = fuzzCase;
  if (session.unanswered !== undefined) {
    return {
      outcome: 'no-answer',
      findings: [{ rule: 'no-answer', detail: `the handshake got no answer (${session.unanswered})` }],
      notes: [],
      summary: session.unanswered,
    };
  }
  if (!session.upgraded || session.handshake === undefined) {
    return judgeAnswer(fuzzCase, session.handshake ?? emptyAnswer(0), context);
  }
  const findings: Finding[] = [];
  const own = ownerOf(expect, context);
  const requestText = requestBytes(fuzzCase.request, context.host).toString('latin1');
  for (const message of session.messages) {
    if (!isEvent(message))
      findings.push({ rule: 'socket', detail: `a message that is not a payment event: ${excerpt(message)}` });
    findings.push(...leaksIn(message, requestText, context, own));
  }
  if (session.messages.length < (expect.minMessages ?? 0)) {
    findings.push({
      rule: 'socket',
      detail: `${session.messages.length} events arrived, at least ${expect.minMessages} expected`,
    });
  }
  const code = session.closeCode;
  let outcome: Outcome = code === 1000 ? 'accepted' : 'refused';
  if (code === 1011) {
    outcome = 'server-error';
    findings.push({
      rule: 'server-error',
      detail: 'the server closed the socket with 1011 (internal error)',
    });
  } else if (session.timedOut) {
    outcome = 'no-answer';
    findings.push({
      rule: 'no-answer',
      detail: 'the socket was neither closed nor our close answered in time',
    });
  } else if (code === undefined) {
    if (!expect.mayDropSocket)
      findings.push({ rule: 'socket', detail: 'the connection was dropped without a close frame' });
  } else if (expect.closeCodes !== undefined && !expect.closeCodes.includes(code)) {
    findings.push({
      rule: 'socket',
      detail: `closed with ${code}, expected ${expect.closeCodes.join(' or ')}`,
    });
  }
  const closing = code === undefined ? (session.timedOut ? 'still open' : 'dropped') : `closed ${code}`;
  return { outcome, findings, notes: [], summary: `101, ${session.messages.length} events, ${closing}` };
}

/** Card numbers and status tokens in a log line. */
export function checkLogLine(line: string, secrets: SecretIndex): Finding[] {
  const findings: Finding[] = [];
  for (const card of secrets.cardsIn(line)) {
    findings.push({ rule: 'log-leak', detail: `a card number (ending ${card.slice(-4)}) in a log line` });
  }
  for (const owner of secrets.tokenOwnersIn(line)) {
    findings.push({ rule: 'log-leak', detail: `${owner}'s status token in a log line` });
  }
  return findings;
}

/** The numeric level of a pino log line (30 info, 40 warn, 50 error), 0 when it has none. */
export function logLevelOf(line: string): number {
  return Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
}

function judgeAnswer(
  fuzzCase: FuzzCase,
  answer: HttpAnswer,
  context: CheckContext,
  before?: HttpAnswer,
): Verdict {
  const { expect } = fuzzCase;
  const findings: Finding[] = [];
  const notes: Finding[] = [];
  const { status } = answer;
  const bodyText = answer.body.toString('utf8');
  const json = jsonOf(answer);
  const summary = `${status} ${excerpt(bodyText)}`.trim();

  const expectedStatus = expect.asUnknown === undefined && isExpectedStatus(expect, status);
  let fieldNamed: Verdict['fieldNamed'];
  if (status >= 500) {
    findings.push({ rule: 'server-error', detail: `answered ${status}` });
  } else if (expect.asUnknown !== undefined) {
    findings.push(...asUnknown(answer, context.unknownAnswers[expect.asUnknown], expect.asUnknown));
  } else if (!expectedStatus) {
    findings.push({
      rule: status < 400 ? 'not-refused' : 'wrong-status',
      detail: `answered ${status}${status === 101 ? ' (switched to WebSocket)' : ''}, expected ${expect.statuses?.join(' or ') ?? 'a 4xx'}`,
    });
  }

  const contentType = answer.headers['content-type'] ?? '';
  if (/json/i.test(contentType) && answer.body.length > 0 && json === undefined) {
    findings.push({ rule: 'error-body', detail: 'a JSON content type on a body that is not JSON' });
  }
  const error = isRecord(json) ? json : undefined;
  if (
    status >= 400 &&
    error !== undefined &&
    typeof error.statusCode === 'number' &&
    error.statusCode !== status
  ) {
    findings.push({
      rule: 'error-body',
      detail: `answered ${status} with a body saying statusCode ${error.statusCode}`,
    });
  }
  if (status >= 400 && status < 500 && expectedStatus && error !== undefined) {
    if (expect.code !== undefined && error.code !== expect.code) {
      findings.push({ rule: 'code', detail: `code ${JSON.stringify(error.code)}, expected ${expect.code}` });
    }
    if (expect.field !== undefined) {
      const named = error.field;
      fieldNamed =
        named === expect.field ? 'named' : named === undefined && expect.fieldMayBeAbsent ? 'none' : 'wrong';
      if (named === undefined ? !expect.fieldMayBeAbsent : named !== expect.field) {
        findings.push({
          rule: 'field',
          detail: `field ${JSON.stringify(named)}, expected ${JSON.stringify(expect.field)}`,
        });
      }
    }
  }
  if (expect.allowHeader && status === 405 && !answer.headers.allow) {
    findings.push({ rule: 'error-body', detail: 'a 405 without an Allow header' });
  }

  let created: Verdict['created'];
  const ownTexts: string[] = [];
  if (status === 202) {
    const accepted = acceptedOf(json);
    if (accepted === undefined) {
      findings.push({
        rule: 'accepted-body',
        detail: `a 202 whose body is not { paymentId, statusToken, eventsUrl }: ${excerpt(bodyText)}`,
      });
    } else {
      created = accepted;
      ownTexts.push(accepted.statusToken, accepted.paymentId);
    }
    if (expect.replaysBefore && before !== undefined) {
      if (!answer.body.equals(before.body))
        findings.push({ rule: 'replay', detail: 'the replay answered another body than the first request' });
      if (answer.headers['idempotent-replayed'] !== 'true')
        findings.push({ rule: 'replay', detail: 'the replay is not marked idempotent-replayed' });
    }
  }
  const own = ownerOf(expect, context);
  if (status === 200 && own !== undefined) {
    const payment = context.payments.find((each) => each.label === own);
    if (!isRecord(json) || json.paymentId !== payment?.paymentId || !Array.isArray(json.events)) {
      findings.push({
        rule: 'own-status',
        detail: `the status of ${own} is not its own: ${excerpt(bodyText)}`,
      });
    }
  }

  let shown = `${answer.head}\r\n\r\n${bodyText}`;
  for (const text of ownTexts) shown = shown.replaceAll(text, '');
  const requestText = requestBytes(fuzzCase.request, context.host).toString('latin1');
  findings.push(...leaksIn(shown, requestText, context, own));
  for (const hostile of expect.noEcho ?? []) {
    if (bodyText.includes(hostile) || bodyText.includes(JSON.stringify(hostile).slice(1, -1))) {
      notes.push({ rule: 'echo', detail: `the answer repeats ${JSON.stringify(hostile)}` });
    }
  }
  return {
    outcome: outcomeOf(status),
    findings,
    notes,
    summary,
    ...(created ? { created } : {}),
    ...(fieldNamed === undefined ? {} : { fieldNamed }),
  };
}

function isExpectedStatus(expect: Expectation, status: number): boolean {
  return expect.statuses !== undefined ? expect.statuses.includes(status) : status >= 400 && status < 500;
}

function asUnknown(
  answer: HttpAnswer,
  reference: HttpAnswer | undefined,
  where: 'http' | 'socket',
): Finding[] {
  if (reference === undefined)
    return [{ rule: 'not-as-unknown', detail: `no reference answer for an unknown payment (${where})` }];
  const same =
    answer.status === reference.status &&
    answer.body.equals(reference.body) &&
    (answer.headers['content-type'] ?? '') === (reference.headers['content-type'] ?? '');
  if (same) return [];
  return [
    {
      rule: 'not-as-unknown',
      detail: `answered ${answer.status} ${excerpt(answer.body.toString('utf8'))}; an unknown payment gets ${reference.status} ${excerpt(reference.body.toString('utf8'))}`,
    },
  ];
}

/** A card, a token or another payment's id in `text` (an answer or a socket message). */
function leaksIn(
  text: string,
  requestText: string,
  context: CheckContext,
  own: Owner | undefined,
): Finding[] {
  const findings: Finding[] = [];
  for (const card of context.secrets.cardsIn(text)) {
    findings.push({ rule: 'leak', detail: `a card number (ending ${card.slice(-4)}) came back` });
  }
  for (const owner of context.secrets.tokenOwnersIn(text)) {
    if (owner !== own) findings.push({ rule: 'leak', detail: `${owner}'s status token came back` });
  }
  for (const { owner, value } of context.secrets.paymentsNamedIn(text)) {
    // Repeating the id the request named is an echo at worst; naming another payment is a leak.
    if (owner !== own && !requestText.includes(value))
      findings.push({ rule: 'leak', detail: `${owner}'s data (${mask(value)}) came back` });
  }
  if (FILE_CONTENTS.test(text)) findings.push({ rule: 'leak', detail: 'the contents of a file came back' });
  return findings;
}

function ownerOf(expect: Expectation, context: CheckContext): Owner | undefined {
  return expect.ownPayment === undefined
    ? undefined
    : context.payments.find((each) => each.label === expect.ownPayment)?.label;
}

function acceptedOf(json: unknown): { paymentId: string; statusToken: string } | undefined {
  if (!isRecord(json)) return undefined;
  const { paymentId, statusToken, eventsUrl } = json;
  if (
    typeof paymentId !== 'string' ||
    typeof statusToken !== 'string' ||
    !ACCEPTED_ID.test(paymentId) ||
    !STATUS_TOKEN.test(statusToken)
  ) {
    return undefined;
  }
  return eventsUrl === `/api/payments/${paymentId}/events?token=${statusToken}`
    ? { paymentId, statusToken }
    : undefined;
}

function isEvent(message: string): boolean {
  try {
    const event: unknown = JSON.parse(message);
    return (
      isRecord(event) &&
      Number.isInteger(event.seq) &&
      typeof event.type === 'string' &&
      typeof event.at === 'string'
    );
  } catch {
    return false;
  }
}

function jsonOf(answer: HttpAnswer): unknown {
  if (!/json/i.test(answer.headers['content-type'] ?? '') || answer.body.length === 0) return undefined;
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function outcomeOf(status: number): Outcome {
  if (status >= 500) return 'server-error';
  if (status >= 400) return 'refused';
  if (status >= 100 && status < 300) return 'accepted';
  return 'other';
}

function emptyAnswer(status: number): HttpAnswer {
  return { status, headers: {}, head: '', body: Buffer.alloc(0) };
}

/** Runs of digits long enough to be a card, and anything shaped like a status token. */
const CARD_LIKE = /\p{Nd}(?:[\p{Nd}\s\p{Zs}\p{Pd}._/\u200b]|%[0-9A-Fa-f]{2}){11,}\p{Nd}/gu;
const TOKEN_LIKE = /[A-Za-z0-9_-]{40,}/g;
const PAYMENT_ID_LIKE = /pay_[0-9a-f]{32}/g;

/** `text` fit to print: card-like digits, tokens and payment ids replaced by what they are. */
export function mask(text: string): string {
  return text
    .replace(PAYMENT_ID_LIKE, (id) => `pay_${id.slice(4, 8)}…`)
    .replace(CARD_LIKE, (run) => (holdsLuhnNumber(run) ? '[card number]' : run))
    .replace(TOKEN_LIKE, '[token]');
}

/** Whether some 13 to 19 digits in a row of `run` (separators aside) pass the Luhn check. */
function holdsLuhnNumber(run: string): boolean {
  const digits = asciiDigitsOf(decodedOrAsIs(run)).replace(/[^0-9]/g, '');
  for (let at = 0; at + 13 <= digits.length; at += 1) {
    for (let length = 13; length <= 19 && at + length <= digits.length; length += 1) {
      if (passesLuhn(digits.slice(at, at + length))) return true;
    }
  }
  return false;
}

function decodedOrAsIs(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The start of `text`, masked, on one line. */
export function excerpt(text: string, length = 160): string {
  const flat = mask(text).replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}
