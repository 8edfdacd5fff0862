/**
 * What the task logic needs of a logger: Powertools' Logger, or a recording fake in tests. Nothing that
 * reaches a logger may hold card data: payment tokens are never passed to it.
 */
import type { Logger } from '@aws-lambda-powertools/logger';

export type TaskLogger = Pick<Logger, 'info' | 'warn' | 'error'>;
