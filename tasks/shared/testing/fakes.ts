/**
 * Test doubles for the task logic: a logger that records every line, scripted gateway and vendor, and
 * recorded task-token answers. The payments repository's double is database/testing/in-memory-payments-repository.ts.
 */
import type { VendResult } from '../../../workflow/contracts.ts';
import type { TaskTokens, TokenAnswer } from '../../meter-vending/task-tokens.ts';
import type { TaskLogger } from '../logger.ts';
import type {
  GatewayChargeOutcome,
  GatewayChargeRequest,
  GatewayRefund,
  GatewayRefundRequest,
  PaymentGateway,
} from '../payment-gateway/client.ts';
import type { VendingVendor, VendLookup, VendReceipt, VendRequest } from '../vending-vendor/client.ts';

/** Every log line, serialised, so a test can check that no card data reached it. */
export class RecordingLogger implements TaskLogger {
  readonly lines: string[] = [];
  info = (...input: unknown[]) => void this.lines.push(JSON.stringify(['info', ...input]));
  warn = (...input: unknown[]) => void this.lines.push(JSON.stringify(['warn', ...input]));
  error = (...input: unknown[]) => void this.lines.push(JSON.stringify(['error', ...input]));
}

/**
 * Answers charges from a script, by token; records every request. What it answered is what `findCharge` finds
 * by reference, unless `made` says the gateway did something the caller never heard of.
 *
 * Refunds are answered by `refundAnswer` when given (throw to fail); otherwise each refund succeeds, for the
 * amount asked or else the whole charge it answered with that id, and a retried key gets the first answer again.
 */
export class ScriptedGateway implements PaymentGateway {
  readonly requests: GatewayChargeRequest[] = [];
  readonly refundRequests: GatewayRefundRequest[] = [];
  /** Charges the gateway made whose answers were lost, by reference. */
  readonly made = new Map<string, GatewayChargeOutcome>();
  readonly #answered = new Map<string, GatewayChargeOutcome>();
  readonly #refunds = new Map<string, GatewayRefund>();

  constructor(
    private readonly answer: (request: GatewayChargeRequest) => GatewayChargeOutcome,
    private readonly refundAnswer?: (request: GatewayRefundRequest, call: number) => GatewayRefund,
  ) {}

  async charge(request: GatewayChargeRequest): Promise<GatewayChargeOutcome> {
    this.requests.push(request);
    const outcome = this.answer(request);
    this.#answered.set(request.reference, outcome);
    return outcome;
  }

  async findCharge(reference: string): Promise<GatewayChargeOutcome | undefined> {
    return this.made.get(reference) ?? this.#answered.get(reference);
  }

  async refund(request: GatewayRefundRequest): Promise<GatewayRefund> {
    this.refundRequests.push(request);
    if (this.refundAnswer) return this.refundAnswer(request, this.refundRequests.length);
    const earlier = this.#refunds.get(request.idempotencyKey);
    if (earlier) return earlier;
    const charged = this.requests.find(
      (charge) => this.#answered.get(charge.reference)?.chargeId === request.chargeId,
    );
    const refund = {
      refundId: `re_scripted_${this.#refunds.size + 1}`,
      amountPence: request.amountPence ?? charged?.amountPence ?? 0,
    };
    this.#refunds.set(request.idempotencyKey, refund);
    return refund;
  }
}

/**
 * Answers vends from a script (throw to fail); records every request, and keeps what vended for `lookUp`, as
 * the vendor does. `lookUpError`, when set, is what every lookup throws (the vendor cannot tell now).
 */
export class ScriptedVendor implements VendingVendor {
  readonly requests: VendRequest[] = [];
  readonly lookUps: string[] = [];
  lookUpError: Error | undefined;
  readonly #vended = new Map<string, VendReceipt>();

  constructor(private readonly answer: (request: VendRequest, call: number) => VendReceipt) {}

  async vend(request: VendRequest): Promise<VendReceipt> {
    this.requests.push(request);
    const receipt = this.answer(request, this.requests.length);
    this.#vended.set(request.transactionId, receipt);
    return receipt;
  }

  /** A vend made at the vendor whose answer never reached the task (the connection dropped). */
  vendedUnanswered(transactionId: string, receipt: VendReceipt): void {
    this.#vended.set(transactionId, receipt);
  }

  async lookUp(transactionId: string): Promise<VendLookup> {
    this.lookUps.push(transactionId);
    if (this.lookUpError !== undefined) throw this.lookUpError;
    const receipt = this.#vended.get(transactionId);
    return receipt === undefined
      ? { status: 'not_vended', rejectionCode: null }
      : { status: 'vended', ...receipt };
  }
}

type Answer =
  | { kind: 'success'; taskToken: string; output: VendResult }
  | { kind: 'failure'; taskToken: string; error: string; cause: string };

/** Records answers; tokens listed in `closed` answer 'closed', as Step Functions' TaskTimedOut would. */
export class RecordingTaskTokens implements TaskTokens {
  readonly answers: Answer[] = [];
  /** Every token heartbeated, in order, open or closed. */
  readonly heartbeats: string[] = [];
  readonly closed = new Set<string>();
  failNext: Error | undefined;

  async succeed(taskToken: string, output: VendResult): Promise<TokenAnswer> {
    return this.#answer({ kind: 'success', taskToken, output });
  }

  async fail(taskToken: string, error: string, cause: string): Promise<TokenAnswer> {
    return this.#answer({ kind: 'failure', taskToken, error, cause });
  }

  async heartbeat(taskToken: string): Promise<TokenAnswer> {
    this.heartbeats.push(taskToken);
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
