/**
 * What can go wrong asking the vending vendor for credit. The names are what Step Functions matches on
 * the Vend step: `VendorUnavailable` is retried with backoff, `VendRejected` never.
 */

/** The base of every vending failure. */
export class VendingVendorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VendingVendorError';
  }
}

/** The vendor could not answer now (503, a timeout, a connection failure): ask again, same transaction id. */
export class VendorUnavailableError extends VendingVendorError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VendorUnavailable';
  }
}

/** The meter refused the UTRN (duplicate, not authentic, not for this device, ...): final, never retried. */
export class VendRejectedError extends VendingVendorError {
  /** The vendor's rejection code, such as NOT_FOR_THIS_DEVICE. */
  readonly rejectionCode: string;

  constructor(rejectionCode: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VendRejected';
    this.rejectionCode = rejectionCode;
  }
}

/** The vendor refused the request itself (invalid meter id, transaction id reused): retrying cannot help. */
export class VendRequestRefusedError extends VendingVendorError {
  readonly status: number;
  readonly errorCode: string;

  constructor(status: number, errorCode: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VendRequestRefused';
    this.status = status;
    this.errorCode = errorCode;
  }
}
