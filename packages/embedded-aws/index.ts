/**
 * The embedded AWS: Step Functions, SQS, Lambda, SNS and the RDS Data API over PGlite, in one process, spoken to
 * by the real AWS SDK clients over AWS's own protocols. It knows nothing of what runs on it. This is what an
 * application on it may use; tests and fixtures have theirs in `@payment-to-vend/embedded-aws/testing`.
 */

export { InProcessRequestHandler } from './aws/in-process-handler.ts';
export {
  type Journal,
  JournalCorruptError,
  type JournalLogger,
  type JournalOptions,
  JournalVersionError,
  openJournal,
} from './durable/journal.ts';
export { keptFile } from './durable/kept-file.ts';
export {
  type EmbeddedAws,
  type EmbeddedAwsOptions,
  type StartingEmbeddedAws,
  startEmbeddedAws,
} from './embedded-aws.ts';
export type { FunctionDefinition } from './lambda/function-registry.ts';
export { pgliteVersion } from './rds-data/fresh-cluster.ts';
export { type PublishedMessage, SnsEngine } from './sns/sns-engine.ts';
export type { Json, JsonObject } from './stepfunctions/definition/types.ts';
export {
  type DefinitionProblem,
  formatProblems,
  validateDefinition,
} from './stepfunctions/definition/validate.ts';
export { errorMatches } from './stepfunctions/engine/retry-policy.ts';
export {
  InProcessIntegrations,
  type ServiceIntegrations,
  type TaskHandler,
  type TaskInvocation,
} from './stepfunctions/integrations.ts';
export { StatesError } from './stepfunctions/language/states-error.ts';
