/**
 * The console's own refusals. Each carries the HTTP status and a code the error handler answers with; AWS's
 * errors are answered by name in app.ts.
 */

export class OpsConsoleError extends Error {
  readonly statusCode: number;
  readonly code: string;

  constructor(statusCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpsConsoleError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** Stop and redrive while the console runs read-only (without --enable-actions). */
export class OpsConsoleActionsDisabledError extends OpsConsoleError {
  constructor() {
    super(
      403,
      'actions_disabled',
      'This console is read-only: start it with --enable-actions (npm start: OPS_ENABLE_ACTIONS=true) to stop or redrive executions',
    );
    this.name = 'OpsConsoleActionsDisabledError';
  }
}

/** A list cursor this console did not give. */
export class OpsConsoleInvalidCursorError extends OpsConsoleError {
  constructor() {
    super(400, 'invalid_cursor', 'The cursor is not one this console gave');
    this.name = 'OpsConsoleInvalidCursorError';
  }
}

/**
 * A request from somewhere other than the operator's own browser on this machine: a Host that is not a
 * loopback name (DNS rebinding), or a change sent from another site's page (cross-site request forgery).
 */
export class OpsConsoleRequestRefusedError extends OpsConsoleError {
  constructor(code: 'host_not_allowed' | 'cross_site_request', message: string) {
    super(403, code, message);
    this.name = 'OpsConsoleRequestRefusedError';
  }
}
