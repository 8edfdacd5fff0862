/**
 * Changing anything (stopping or redriving an execution; later, an operator's decisions) is refused unless
 * the console was started with --enable-actions. Routes that change something take this as a preHandler.
 */
import type { FastifyRequest } from 'fastify';
import { OpsConsoleActionsDisabledError } from '../errors.ts';

export async function requireActionsEnabled(this: unknown, request: FastifyRequest): Promise<void> {
  if (!request.server.opsConfig.actionsEnabled) throw new OpsConsoleActionsDisabledError();
}
