/**
 * The vending vendor's API (`POST /v1/vends`, and `GET /v1/vends/{transactionId}` to learn what became of a
 * vend whose answer was lost), as the meter-vending task uses it. The transaction id is the vendor's idempotency
 * key: asked again, it returns the same UTRN and never vends twice. Locally
 * `VENDING_VENDOR_URL` points at the vendor simulator (simulators/vending-vendor.ts).
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

/**
 * What became of a transaction id at the vendor: vended (with the receipt), or definitely not (never vended
 * under it, or rejected for good). A vend still under way is neither: the lookup throws VendorUnavailableError.
 */
export type VendLookup =
  | ({ readonly status: 'vended' } & VendReceipt)
  | { readonly status: 'not_vended'; readonly rejectionCode: string | null };

export interface VendingVendor {
  /** Throws VendorUnavailableError, VendRejectedError or VendRequestRefusedError. */
  vend(request: VendRequest): Promise<VendReceipt>;
  /** Asks without vending. Throws VendorUnavailableError when it cannot tell now (also a vend in progress). */
  lookUp(transactionId: string): Promise<VendLookup>;
}

const VendReceiptSchema = z.object({
  utrn: z.string().regex(/^\d{20}$/),
  creditPence: z.number().int().nonnegative(),
});
const VendLookupSchema = z.discriminatedUnion('status', [
  VendReceiptSchema.extend({ status: z.literal('vended') }),
  z.object({ status: z.literal('rejected'), rejectionCode: z.string().optional() }),
  z.object({ status: z.literal('in_progress') }),
]);
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
    const { response, body } = await this.#request(this.#vendsUrl, 'ask for a vend', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    });
    if (response.status === 200) {
      const receipt = VendReceiptSchema.safeParse(body);
      if (receipt.success) return receipt.data;
      throw new VendingVendorError('the vending vendor answered 200 without a 20-digit UTRN');
    }
    const { errorCode, message, failure } = vendorErrorOf(body);
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

  async lookUp(transactionId: string): Promise<VendLookup> {
    const url = `${this.#vendsUrl}/${encodeURIComponent(transactionId)}`;
    const { response, body } = await this.#request(url, 'ask about a vend', {});
    const { errorCode, message } = vendorErrorOf(body);
    if (response.status === 404 && errorCode === 'TRANSACTION_NOT_FOUND') {
      return { status: 'not_vended', rejectionCode: null };
    }
    const found = response.status === 200 ? VendLookupSchema.safeParse(body) : undefined;
    if (found?.success === true) {
      const answer = found.data;
      if (answer.status === 'vended') {
        return { status: 'vended', utrn: answer.utrn, creditPence: answer.creditPence };
      }
      if (answer.status === 'rejected') {
        return { status: 'not_vended', rejectionCode: answer.rejectionCode ?? null };
      }
      throw new VendorUnavailableError('the vending vendor is still working on this vend');
    }
    // Anything else (5xx, a body we cannot read) leaves the outcome unknown: never taken as "not vended".
    throw new VendorUnavailableError(
      `the vending vendor answered ${response.status} ${errorCode} to a vend lookup: ${message}`,
    );
  }

  /**
   * One call to the vendor, with its API key; not reaching it (a refused connection, a timeout, a key that
   * cannot be read now because Secrets Manager is unreachable) is VendorUnavailable, retried like an outage.
   */
  async #request(
    url: string,
    what: string,
    init: RequestInit & { headers?: Record<string, string> },
  ): Promise<{ response: Response; body: unknown }> {
    try {
      const apiKey = await this.#apiKey();
      const response = await this.#fetch(url, {
        ...init,
        headers: { ...init.headers, ...(apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` }) },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { response, body: await response.json().catch(() => undefined) };
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : String(error);
      throw new VendorUnavailableError(`the vending vendor could not be reached to ${what}: ${reason}`, {
        cause: error,
      });
    }
  }
}

function vendorErrorOf(body: unknown) {
  const failure = VendorErrorSchema.safeParse(body);
  const errorCode = failure.success ? failure.data.errorCode : 'UNKNOWN_ERROR';
  const message = failure.success && failure.data.message !== '' ? failure.data.message : errorCode;
  return { errorCode, message, failure };
}
