/**
 * Test doubles for the task logic: a logger that records every line, an in-memory payments store with the
 * database's once-only rules, scripted gateway and vendor, and recorded task-token answers.
 */
import type { NotifyCustomerRequest, VendResult } from '../../../workflow/contracts.ts';
import type { TaskTokens, TokenAnswer } from '../../meter-vending/task-tokens.ts';
import { PaymentNotFoundError } from '../database/errors.ts';
import type {
  AppendedNotification,
  PaymentRecord,
  PaymentsStore,
  VendAttemptRecord,
} from '../database/payments-store.ts';
import type { TaskLogger } from '../logger.ts';
import type {
  GatewayChargeOutcome,
  GatewayChargeRequest,
  PaymentGateway,
} from '../payment-gateway/client.ts';
import type { VendingVendor, VendReceipt, VendRequest } from '../vending-vendor/client.ts';

/** Every log line, serialised, so a test can check that no card data reached it. */
export class RecordingLogger implements TaskLogger {
  readonly lines: string[] = [];
  info = (...input: unknown[]) => void this.lines.push(JSON.stringify(['info', ...input]));
  warn = (...input: unknown[]) => void this.lines.push(JSON.stringify(['warn', ...input]));
  error = (...input: unknown[]) => void this.lines.push(JSON.stringify(['error', ...input]));
}

export class InMemoryPaymentsStore implements PaymentsStore {
  readonly payments = new Map<string, PaymentRecord>();
  readonly vends: VendAttemptRecord[] = [];
  readonly events: (NotifyCustomerRequest & { seq: number })[] = [];

  addPayment(payment: Partial<PaymentRecord> & { paymentId: string }): void {
    this.payments.set(payment.paymentId, {
      meterId: '1200000000011',
      amountPence: 2000,
      status: 'accepted',
      gatewayChargeId: null,
      ...payment,
    });
  }

  async findPayment(paymentId: string) {
    return this.payments.get(paymentId);
  }

  async recordCharge(paymentId: string, chargeId: string): Promise<void> {
    const payment = this.payments.get(paymentId);
    if (payment === undefined) throw new PaymentNotFoundError(paymentId);
    this.payments.set(paymentId, { ...payment, gatewayChargeId: chargeId });
  }

  async recordVendAttempt(attempt: VendAttemptRecord): Promise<'recorded' | 'already-recorded'> {
    const duplicate = this.vends.some(
      (vend) =>
        vend.paymentId === attempt.paymentId &&
        (vend.attempt === attempt.attempt || (vend.outcome === 'vended' && attempt.outcome === 'vended')),
    );
    if (duplicate) return 'already-recorded';
    this.vends.push(attempt);
    return 'recorded';
  }

  async appendNotification(request: NotifyCustomerRequest): Promise<AppendedNotification> {
    const mine = this.events.filter((event) => event.paymentId === request.paymentId);
    const same = mine.find(
      (event) =>
        event.type === request.type &&
        (request.type !== 'vend_retrying' || (event as { attempt?: number }).attempt === request.attempt),
    );
    if (same) return { recorded: false, seq: same.seq };
    const seq = mine.length + 1;
    this.events.push({ ...request, seq });
    return { recorded: true, seq };
  }
}

/** Answers charges from a script, by token; records every request. */
export class ScriptedGateway implements PaymentGateway {
  readonly requests: GatewayChargeRequest[] = [];

  constructor(private readonly answer: (request: GatewayChargeRequest) => GatewayChargeOutcome) {}

  async charge(request: GatewayChargeRequest): Promise<GatewayChargeOutcome> {
    this.requests.push(request);
    return this.answer(request);
  }
}

/** Answers vends from a script (throw to fail); records every request. */
export class ScriptedVendor implements VendingVendor {
  readonly requests: VendRequest[] = [];

  constructor(private readonly answer: (request: VendRequest, call: number) => VendReceipt) {}

  async vend(request: VendRequest): Promise<VendReceipt> {
    this.requests.push(request);
    return this.answer(request, this.requests.length);
  }
}

type Answer =
  | { kind: 'success'; taskToken: string; output: VendResult }
  | { kind: 'failure'; taskToken: string; error: string; cause: string };

/** Records answers; tokens listed in `closed` answer 'closed', as Step Functions' TaskTimedOut would. */
export class RecordingTaskTokens implements TaskTokens {
  readonly answers: Answer[] = [];
  readonly closed = new Set<string>();
  failNext: Error | undefined;

  async succeed(taskToken: string, output: VendResult): Promise<TokenAnswer> {
    return this.#answer({ kind: 'success', taskToken, output });
  }

  async fail(taskToken: string, error: string, cause: string): Promise<TokenAnswer> {
    return this.#answer({ kind: 'failure', taskToken, error, cause });
  }

  async heartbeat(taskToken: string): Promise<TokenAnswer> {
    return this.closed.has(taskToken) ? 'closed' : 'sent';
  }

  #answer(answer: Answer): TokenAnswer {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    if (this.closed.has(answer.taskToken)) return 'closed';
    this.answers.push(answer);
    return 'sent';
  }
}
