/**
 * The payment gateway's charges and refunds API (`POST /v1/charges` and `POST /v1/refunds`, each with an
 * `Idempotency-Key`), as the charge task and the operators' refunds use it, and its charge listing
 * (`GET /v1/charges?created_after=…`), as the reconciliation task reads it. Locally `PAYMENT_GATEWAY_URL` points
 * at the gateway simulator (simulators/payment-gateway.ts).
 *
 * @example
 * const gateway = new HttpPaymentGateway({ baseUrl: 'http://127.0.0.1:4100/gateway', timeoutMs: 10_000 });
 * await gateway.charge({ idempotencyKey: 'pay_1', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_1' });
 * // { status: 'succeeded', chargeId: 'ch_sim_…' }
 * await gateway.refund({ idempotencyKey: 'refund_pay_1', chargeId: 'ch_sim_…', reason: 'vend_failed' });
 * // { refundId: 're_sim_…', amountPence: 2000 }
 * await gateway.listCharges({ createdAfter: new Date(Date.now() - 3_600_000), createdBefore: new Date(), limit: 100 });
 * // { charges: [{ chargeId: 'ch_sim_…', status: 'succeeded', reference: 'pay_1', amountPence: 2000, … }], hasMore: false }
 */
import { z } from 'zod';
import type { ApiKeySource } from '../provider-credentials.ts';
import {
  PaymentGatewayError,
  PaymentGatewayRefundRefusedError,
  PaymentGatewayRequestInProgressError,
  PaymentGatewayRequestRefusedError,
  PaymentGatewayUnavailableError,
} from './errors.ts';

export interface GatewayChargeRequest {
  /** The same for every attempt of one payment, so a retried charge is replayed, never repeated. */
  readonly idempotencyKey: string;
  readonly amountPence: number;
  readonly paymentToken: string;
  /** Shown on the gateway's dashboard: the payment id. */
  readonly reference: string;
}

export type GatewayChargeOutcome =
  | { readonly status: 'succeeded'; readonly chargeId: string }
  | { readonly status: 'declined'; readonly chargeId: string | null; readonly declineCode: string };

/** Why a charge is refunded; `vend_failed`: the customer paid but the meter could not be credited. */
export type GatewayRefundReason = 'requested_by_customer' | 'duplicate' | 'fraudulent' | 'vend_failed';

export interface GatewayRefundRequest {
  /**
   * The same for every attempt of one refund, so a retried refund is replayed, never repeated. It must not be
   * a key already used for a charge (the gateway answers that with 422 idempotency_key_reused).
   */
  readonly idempotencyKey: string;
  /** The gateway's id of the charge to refund (`ch_…`). */
  readonly chargeId: string;
  /** Default: the whole amount not yet refunded. */
  readonly amountPence?: number;
  readonly reason?: GatewayRefundReason;
}

export interface GatewayRefund {
  readonly refundId: string;
  /** What this refund gave back. */
  readonly amountPence: number;
}

export interface PaymentGateway {
  /**
   * Charges the card behind a token. Declines are answers; throws PaymentGatewayUnavailableError when the
   * gateway cannot answer now, PaymentGatewayRequestRefusedError when it refuses the request.
   */
  charge(request: GatewayChargeRequest): Promise<GatewayChargeOutcome>;
  /**
   * What the gateway did with the charges made for a reference (the payment id), when their answers were
   * never received: a succeeded charge if there is one, else a declined one, else undefined (the gateway has
   * none). Throws PaymentGatewayUnavailableError when the gateway cannot answer now.
   */
  findCharge(reference: string): Promise<GatewayChargeOutcome | undefined>;
  /**
   * Refunds a succeeded charge, in whole or in part. Throws PaymentGatewayUnavailableError when the gateway
   * cannot answer now or is still working on the first request with this key (ask again with the same key:
   * the refund is then replayed, never repeated), PaymentGatewayRefundRefusedError with the gateway's code
   * when it refuses the refund.
   */
  refund(request: GatewayRefundRequest): Promise<GatewayRefund>;
}

/** Which charges to list: all filters optional; the gateway lists newest first. */
export interface GatewayChargeListQuery {
  /** Charges created at or after this time. */
  readonly createdAfter?: Date;
  /** Charges created strictly before this time: consecutive windows neither overlap nor leave a gap. */
  readonly createdBefore?: Date;
  /** Charges per page, 1 to 100; the gateway's default is 10. */
  readonly limit?: number;
  /** The id of the last charge of the previous page: this page lists the ones after it. */
  readonly startingAfter?: string;
}

/** A charge as a listing shows it: what reconciling needs, and nothing of the card (no payment token). */
export interface ListedGatewayCharge {
  readonly chargeId: string;
  /** `failed`: declined; no money was taken. */
  readonly status: 'succeeded' | 'failed';
  /** What the charge was made for: our payment id. */
  readonly reference: string;
  readonly amountPence: number;
  readonly amountRefundedPence: number;
  /** Whether the whole amount has been given back. */
  readonly refunded: boolean;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface GatewayChargePage {
  /** Newest first. */
  readonly charges: readonly ListedGatewayCharge[];
  /** Whether another page follows: ask again with `startingAfter` the last charge's id. */
  readonly hasMore: boolean;
}

/** The gateway's charge listing, which reconciliation reads. */
export interface GatewayChargeListing {
  /**
   * One page of the charges the gateway made, newest first. Throws PaymentGatewayUnavailableError when the
   * gateway cannot answer now, PaymentGatewayRequestRefusedError when it refuses the query.
   */
  listCharges(query: GatewayChargeListQuery): Promise<GatewayChargePage>;
}

const GatewayChargeSchema = z.object({ id: z.string().min(1), status: z.enum(['succeeded', 'failed']) });
const GatewayChargePageSchema = z.object({
  data: z.array(
    GatewayChargeSchema.extend({
      reference: z.string(),
      amountPence: z.number().int(),
      amountRefundedPence: z.number().int().default(0),
      refunded: z.boolean().default(false),
      createdAt: z.string(),
    }),
  ),
  hasMore: z.boolean(),
});
const GatewayChargeListSchema = z.object({
  data: z.array(
    GatewayChargeSchema.extend({ declineCode: z.string().nullish(), failureCode: z.string().nullish() }),
  ),
});
const GatewayRefundSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  amountPence: z.number().int().positive(),
});
const GatewayErrorSchema = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    declineCode: z.string().nullish(),
    charge: z.string().nullish(),
  }),
});

interface GatewayAnswer {
  readonly response: Response;
  /** The parsed JSON body, or undefined when there was none. */
  readonly body: unknown;
}

export class HttpPaymentGateway implements PaymentGateway, GatewayChargeListing {
  readonly #chargesUrl: string;
  readonly #refundsUrl: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #apiKey: ApiKeySource;

  constructor(options: { baseUrl: string; timeoutMs: number; apiKey?: ApiKeySource; fetch?: typeof fetch }) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#chargesUrl = `${baseUrl}/v1/charges`;
    this.#refundsUrl = `${baseUrl}/v1/refunds`;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
    this.#apiKey = options.apiKey ?? (async () => undefined);
  }

  async findCharge(reference: string): Promise<GatewayChargeOutcome | undefined> {
    const { response, body } = await this.#request(
      `${this.#chargesUrl}?reference=${encodeURIComponent(reference)}`,
    );
    const list = GatewayChargeListSchema.safeParse(body);
    if (response.status !== 200 || !list.success) {
      throw new PaymentGatewayUnavailableError(
        `the payment gateway answered ${response.status} to a charge search`,
        { status: response.status },
      );
    }
    const succeeded = list.data.data.find((charge) => charge.status === 'succeeded');
    if (succeeded !== undefined) return { status: 'succeeded', chargeId: succeeded.id };
    const declined = list.data.data[0];
    if (declined === undefined) return undefined;
    return {
      status: 'declined',
      chargeId: declined.id,
      declineCode: declined.declineCode ?? declined.failureCode ?? 'declined',
    };
  }

  async listCharges(query: GatewayChargeListQuery): Promise<GatewayChargePage> {
    const params = new URLSearchParams();
    if (query.createdAfter !== undefined) params.set('created_after', query.createdAfter.toISOString());
    if (query.createdBefore !== undefined) params.set('created_before', query.createdBefore.toISOString());
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.startingAfter !== undefined) params.set('starting_after', query.startingAfter);
    const { response, body } = await this.#request(`${this.#chargesUrl}?${params}`);
    if (response.status === 200) {
      const page = GatewayChargePageSchema.safeParse(body);
      if (!page.success)
        throw new PaymentGatewayError('the payment gateway answered 200 without a charge list');
      return {
        charges: page.data.data.map((charge) => ({
          chargeId: charge.id,
          status: charge.status,
          reference: charge.reference,
          amountPence: charge.amountPence,
          amountRefundedPence: charge.amountRefundedPence,
          refunded: charge.refunded,
          createdAt: charge.createdAt,
        })),
        hasMore: page.data.hasMore,
      };
    }
    const failure = GatewayErrorSchema.safeParse(body);
    const code = failure.success ? failure.data.error.code : 'unknown_error';
    if (response.status >= 500 || response.status === 429 || response.status === 409) {
      throw new PaymentGatewayUnavailableError(
        `the payment gateway answered ${response.status} ${code} to a charge listing`,
        { status: response.status },
      );
    }
    throw new PaymentGatewayRequestRefusedError(response.status, code);
  }

  async charge(request: GatewayChargeRequest): Promise<GatewayChargeOutcome> {
    const { response, body } = await this.#request(this.#chargesUrl, {
      idempotencyKey: request.idempotencyKey,
      json: {
        amountPence: request.amountPence,
        currency: 'GBP',
        paymentToken: request.paymentToken,
        reference: request.reference,
      },
    });
    if (response.status === 200) {
      const charge = GatewayChargeSchema.safeParse(body);
      if (charge.success && charge.data.status === 'succeeded') {
        return { status: 'succeeded', chargeId: charge.data.id };
      }
      throw new PaymentGatewayError('the payment gateway answered 200 without a succeeded charge');
    }
    const failure = GatewayErrorSchema.safeParse(body);
    const code = failure.success ? failure.data.error.code : 'unknown_error';
    if (response.status === 402 && failure.success) {
      const { declineCode, charge } = failure.data.error;
      return { status: 'declined', chargeId: charge ?? null, declineCode: declineCode ?? code };
    }
    if (response.status === 409 && code === 'idempotency_request_in_progress') {
      throw new PaymentGatewayRequestInProgressError();
    }
    const shouldRetry = response.headers.get('Should-Retry');
    const transient =
      shouldRetry === 'true' ||
      (shouldRetry === null &&
        (response.status >= 500 || response.status === 409 || response.status === 429));
    if (transient) {
      throw new PaymentGatewayUnavailableError(`the payment gateway answered ${response.status} ${code}`, {
        status: response.status,
      });
    }
    throw new PaymentGatewayRequestRefusedError(response.status, code);
  }

  async refund(request: GatewayRefundRequest): Promise<GatewayRefund> {
    const { response, body } = await this.#request(this.#refundsUrl, {
      idempotencyKey: request.idempotencyKey,
      json: {
        charge: request.chargeId,
        ...(request.amountPence === undefined ? {} : { amountPence: request.amountPence }),
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      },
    });
    if (response.status === 200) {
      const refund = GatewayRefundSchema.safeParse(body);
      if (refund.success && refund.data.status === 'succeeded') {
        return { refundId: refund.data.id, amountPence: refund.data.amountPence };
      }
      throw new PaymentGatewayError('the payment gateway answered 200 without a succeeded refund');
    }
    const failure = GatewayErrorSchema.safeParse(body);
    const code = failure.success ? failure.data.error.code : 'unknown_error';
    // A 5xx may have refunded or not, whatever Should-Retry says: only asking again with the same key can tell.
    const transient =
      response.status >= 500 ||
      response.status === 429 ||
      (response.status === 409 && code === 'idempotency_request_in_progress') ||
      response.headers.get('Should-Retry') === 'true';
    if (transient) {
      throw new PaymentGatewayUnavailableError(
        `the payment gateway answered ${response.status} ${code} to a refund`,
        { status: response.status },
      );
    }
    throw new PaymentGatewayRefundRefusedError(response.status, code);
  }

  /**
   * One call to the gateway: a GET, or a POST of `json` under an idempotency key. Throws
   * PaymentGatewayUnavailableError when no answer came (unreachable, timed out, the API key unreadable).
   */
  async #request(
    url: string,
    post?: { readonly idempotencyKey: string; readonly json: unknown },
  ): Promise<GatewayAnswer> {
    try {
      // Inside the try: a key that cannot be read now (Secrets Manager unreachable) is retried like an outage.
      const apiKey = await this.#apiKey();
      const authorization: Record<string, string> =
        apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` };
      const response = await this.#fetch(url, {
        ...(post === undefined
          ? { headers: authorization }
          : {
              method: 'POST',
              headers: {
                'Content-Type': 'application/json',
                'Idempotency-Key': post.idempotencyKey,
                ...authorization,
              },
              body: JSON.stringify(post.json),
            }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const body: unknown = await response.json().catch(() => undefined);
      return { response, body };
    } catch (error) {
      // The gateway keeps the first answer per key, so asking again after a lost answer is safe.
      throw new PaymentGatewayUnavailableError(
        `the payment gateway could not be reached: ${describe(error)}`,
        { cause: error },
      );
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  return error instanceof Error ? error.message : String(error);
}
