/**
 * Answers the Vend step's task token. A token Step Functions has already closed (the attempt timed out,
 * the execution ended, or this is a redelivered message whose answer was already given) is reported as
 * `closed`, not thrown: retrying the message could never succeed.
 *
 * @example
 * const tokens = new StepFunctionsTaskTokens(new SFNClient({}));
 * await tokens.succeed(message.taskToken, { utrn, creditPence }); // 'sent' | 'closed'
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { VendResult } from '../../workflow/contracts.ts';

export type TokenAnswer = 'sent' | 'closed';

export interface TaskTokens {
  succeed(taskToken: string, output: VendResult): Promise<TokenAnswer>;
  fail(taskToken: string, error: string, cause: string): Promise<TokenAnswer>;
  heartbeat(taskToken: string): Promise<TokenAnswer>;
}

/** Step Functions' answers for a token that can no longer be answered. */
const CLOSED_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export class StepFunctionsTaskTokens implements TaskTokens {
  readonly #sfn: SFNClient;

  constructor(sfn: SFNClient) {
    this.#sfn = sfn;
  }

  succeed(taskToken: string, output: VendResult): Promise<TokenAnswer> {
    return closedTolerant(
      this.#sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  fail(taskToken: string, error: string, cause: string): Promise<TokenAnswer> {
    return closedTolerant(this.#sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }

  heartbeat(taskToken: string): Promise<TokenAnswer> {
    return closedTolerant(this.#sfn.send(new SendTaskHeartbeatCommand({ taskToken })));
  }
}

async function closedTolerant(call: Promise<unknown>): Promise<TokenAnswer> {
  try {
    await call;
    return 'sent';
  } catch (error) {
    if (error instanceof Error && CLOSED_TOKEN_ERRORS.has(error.name)) return 'closed';
    throw error;
  }
}
