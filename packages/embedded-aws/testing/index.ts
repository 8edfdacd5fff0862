/** What tests of code running on the embedded AWS use: child processes to crash, and Step Functions helpers. */
export { ChildProcesses, type RunningProcess, readyEndpoint } from './child-processes.ts';
export { type CrashTestOptions, crashTestEach } from './crash-test.ts';
export { eventually, historyWith, waitForEnd } from './execution-waits.ts';
export { expectWellFormedHistory, historyProblems, historyText } from './history-checks.ts';
export {
  createStateMachine,
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
  executionHistory,
  sfnClient,
  startExecution,
} from './step-functions.ts';
