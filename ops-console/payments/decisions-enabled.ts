/**
 * Deciding on a payment (and redriving a dead-letter queue) changes things: refused with 403 unless the console
 * was started with --enable-actions, as stop and redrive are (plugins/actions.ts), in words about decisions.
 */
import type { FastifyRequest } from 'fastify';
import { OpsConsoleError } from '../errors.ts';

export class OpsConsoleDecisionsDisabledError extends OpsConsoleError {
  constructor() {
    super(
      403,
      'actions_disabled',
      'This console is read-only: start it with --enable-actions (npm start: OPS_ENABLE_ACTIONS=true) to decide on payments or redrive queues',
    );
    this.name = 'OpsConsoleDecisionsDisabledError';
  }
}

export async function requireDecisionsEnabled(this: unknown, request: FastifyRequest): Promise<void> {
  if (!request.server.opsConfig.actionsEnabled) throw new OpsConsoleDecisionsDisabledError();
}
