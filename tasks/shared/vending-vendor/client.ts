/**
 * The vending vendor's API (`POST /v1/vends`), as the meter-vending task uses it. The transaction id is the
 * vendor's idempotency key: asked again, it returns the same UTRN and never vends twice. Locally
 * `VENDING_VENDOR_URL` points at the vendor simulator (local/simulators/vending-vendor.ts).
 *
 * @example
 * const vendor = new HttpVendingVendor({ baseUrl: 'http://127.0.0.1:4100/vendor', timeoutMs: 20_000 });
 * await vendor.vend({ transactionId: 'pay_1', meterId: '1200000000011', amountPence: 2000 });
 * // { utrn: '12345678901234567890', creditPence: 2000 }
 */
import { z } from 'zod';
import type { ApiKeySource } from '../provider-credentials.ts';
import {
  VendingVendorError,
  VendorUnavailableError,
  VendRejectedError,
  VendRequestRefusedError,
} from './errors.ts';

export interface VendRequest {
  readonly transactionId: string;
  readonly meterId: string;
  readonly amountPence: number;
}

export interface VendReceipt {
  readonly utrn: string;
  readonly creditPence: number;
}

export interface VendingVendor {
  /** Throws VendorUnavailableError, VendRejectedError or VendRequestRefusedError. */
  vend(request: VendRequest): Promise<VendReceipt>;
}

const VendReceiptSchema = z.object({
  utrn: z.string().regex(/^\d{20}$/),
  creditPence: z.number().int().nonnegative(),
});
const VendorErrorSchema = z.object({
  errorCode: z.string(),
  message: z.string().default(''),
  retryable: z.boolean().optional(),
  rejectionCode: z.string().optional(),
});

export class HttpVendingVendor implements VendingVendor {
  readonly #vendsUrl: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #apiKey: ApiKeySource;

  constructor(options: { baseUrl: string; timeoutMs: number; apiKey?: ApiKeySource; fetch?: typeof fetch }) {
    this.#vendsUrl = `${options.baseUrl.replace(/\/+$/, '')}/v1/vends`;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
    this.#apiKey = options.apiKey ?? (async () => undefined);
  }

  async vend(request: VendRequest): Promise<VendReceipt> {
    let response: Response;
    let body: unknown;
    try {
      // Inside the try: a key that cannot be read now (Secrets Manager unreachable) is retried like an outage.
      const apiKey = await this.#apiKey();
      response = await this.#fetch(this.#vendsUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` }),
        },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : String(error);
      throw new VendorUnavailableError(`the vending vendor could not be reached: ${reason}`, {
        cause: error,
      });
    }
    if (response.status === 200) {
      const receipt = VendReceiptSchema.safeParse(body);
      if (receipt.success) return receipt.data;
      throw new VendingVendorError('the vending vendor answered 200 without a 20-digit UTRN');
    }
    const failure = VendorErrorSchema.safeParse(body);
    const errorCode = failure.success ? failure.data.errorCode : 'UNKNOWN_ERROR';
    const message = failure.success && failure.data.message !== '' ? failure.data.message : errorCode;
    if (response.status === 422 && errorCode === 'VEND_REJECTED') {
      const rejectionCode = failure.success ? (failure.data.rejectionCode ?? errorCode) : errorCode;
      throw new VendRejectedError(rejectionCode, message);
    }
    const retryable = failure.success ? failure.data.retryable : undefined;
    if (retryable === true || (retryable === undefined && response.status >= 500)) {
      throw new VendorUnavailableError(
        `the vending vendor answered ${response.status} ${errorCode}: ${message}`,
      );
    }
    throw new VendRequestRefusedError(response.status, errorCode, message);
  }
}
