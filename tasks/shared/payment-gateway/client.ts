/**
 * The payment gateway's charges API (`POST /v1/charges` with an `Idempotency-Key`), as the charge task uses
 * it. Locally `PAYMENT_GATEWAY_URL` points at the gateway simulator (local/simulators/payment-gateway.ts).
 *
 * @example
 * const gateway = new HttpPaymentGateway({ baseUrl: 'http://127.0.0.1:4100/gateway', timeoutMs: 10_000 });
 * await gateway.charge({ idempotencyKey: 'pay_1', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_1' });
 * // { status: 'succeeded', chargeId: 'ch_sim_…' }
 */
import { z } from 'zod';
import type { ApiKeySource } from '../provider-credentials.ts';
import {
  PaymentGatewayError,
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
}

const GatewayChargeSchema = z.object({ id: z.string().min(1), status: z.enum(['succeeded', 'failed']) });
const GatewayChargeListSchema = z.object({
  data: z.array(
    GatewayChargeSchema.extend({ declineCode: z.string().nullish(), failureCode: z.string().nullish() }),
  ),
});
const GatewayErrorSchema = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    declineCode: z.string().nullish(),
    charge: z.string().nullish(),
  }),
});

export class HttpPaymentGateway implements PaymentGateway {
  readonly #chargesUrl: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #apiKey: ApiKeySource;

  constructor(options: { baseUrl: string; timeoutMs: number; apiKey?: ApiKeySource; fetch?: typeof fetch }) {
    this.#chargesUrl = `${options.baseUrl.replace(/\/+$/, '')}/v1/charges`;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
    this.#apiKey = options.apiKey ?? (async () => undefined);
  }

  async findCharge(reference: string): Promise<GatewayChargeOutcome | undefined> {
    let response: Response;
    let body: unknown;
    try {
      const apiKey = await this.#apiKey();
      response = await this.#fetch(`${this.#chargesUrl}?reference=${encodeURIComponent(reference)}`, {
        headers: apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      throw new PaymentGatewayUnavailableError(
        `the payment gateway could not be reached: ${describe(error)}`,
        { cause: error },
      );
    }
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

  async charge(request: GatewayChargeRequest): Promise<GatewayChargeOutcome> {
    let response: Response;
    let body: unknown;
    try {
      // Inside the try: a key that cannot be read now (Secrets Manager unreachable) is retried like an outage.
      const apiKey = await this.#apiKey();
      response = await this.#fetch(this.#chargesUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': request.idempotencyKey,
          ...(apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` }),
        },
        body: JSON.stringify({
          amountPence: request.amountPence,
          currency: 'GBP',
          paymentToken: request.paymentToken,
          reference: request.reference,
        }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      // The gateway keeps the first answer per key, so asking again after a lost answer is safe.
      throw new PaymentGatewayUnavailableError(
        `the payment gateway could not be reached: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
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
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  return error instanceof Error ? error.message : String(error);
}
