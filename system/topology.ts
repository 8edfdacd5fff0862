/**
 * The system's resources and their settings, declared once for each environment: the task functions (entry,
 * timeout, memory, what they reach, the database user they sign in as), the front-end's database user, the queues (visibility, retention, redrive), the PaymentSuccess → meter-vending
 * event source mapping (batch, window, concurrency), the on-call topic and the workflow's settings. The CDK
 * constructs (infra/lib/constructs/) build these on AWS, and the embedded system (system/payment-system.ts) builds
 * the same locally, so what runs on one machine is what is deployed: `LOCAL_ENVIRONMENT=production npm start`
 * runs production's settings. Tests hold both to this (infra/lib/topology.test.ts).
 *
 * What differs between environments is in infra/lib/environments.ts; this file derives from it.
 *
 * @example
 * const topology = topologyFor(environmentNamed('dev'));
 * topology.functions.charge.timeoutSeconds; // 45
 * topology.queues.paymentSuccess.visibilityTimeoutSeconds; // 360
 */
import { SERVICE_ROLES, type ServiceRole } from '../database/service-roles.ts';
import type { EnvironmentSettings } from '../infra/lib/environments.ts';
import type { PaymentToVendSettings } from '../workflow/payment-to-vend.ts';

export type TaskFunctionKey = 'charge' | 'notify' | 'meterVending' | 'followUp' | 'reconcile';
export type QueueKey = 'paymentSuccess' | 'paymentFailure' | 'vendingFailure';

/** A party outside AWS that a function calls over HTTPS. */
export type Provider = 'paymentGateway' | 'vendingVendor';

export interface TaskFunctionSpec {
  /** The function's name locally, and the base of its construct id on AWS. */
  readonly name: string;
  /** The CDK construct id (`Charge` → the logical id `TasksCharge…`). */
  readonly constructId: string;
  /** The handler module, from the repository root; it exports `handler`. */
  readonly entry: string;
  /** Powertools' service name (POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Besides the payments database, which every task function reaches. */
  readonly reaches: readonly Provider[];
  /**
   * The database role it signs in as, granted only what its statements need (database/service-roles.ts,
   * migration 0005): its own secret on AWS, its own secret mapped to the role locally.
   */
  readonly databaseUser: ServiceRole;
}

export interface QueueSpec {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionDays: number;
  readonly deadLetter: {
    readonly name: string;
    readonly retentionDays: number;
    readonly maxReceiveCount: number;
  };
}

export interface EventSourceMappingSpec {
  readonly function: TaskFunctionKey;
  readonly queue: QueueKey;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** At most this many concurrent invocations: the vendor is protected by this, not by reserved concurrency. */
  readonly maxConcurrency: number;
}

export interface Topology {
  readonly functions: Readonly<Record<TaskFunctionKey, TaskFunctionSpec>>;
  /** The front-end service (ECS on AWS, in-process locally): the database role it signs in as. */
  readonly frontEnd: { readonly databaseUser: ServiceRole };
  /** The operator console (the operator's machine): the read-only database role it signs in as. */
  readonly operatorConsole: { readonly databaseUser: ServiceRole };
  readonly queues: Readonly<Record<QueueKey, QueueSpec>>;
  readonly topics: { readonly onCall: { readonly name: string } };
  readonly paymentSuccessMapping: EventSourceMappingSpec;
  /**
   * The reconcile function's schedule: an EventBridge rule on AWS (infra/lib/constructs/reconciliation-schedule.ts);
   * locally `npm run reconcile` runs it once.
   */
  readonly reconciliation: { readonly everyMinutes: number };
  /** The PaymentToVend construct's settings (the rest are its defaults). */
  readonly workflow: Partial<PaymentToVendSettings>;
}

/** The names of what the state machine and the tasks reach: the same in every environment. */
export const RESOURCE_NAMES = {
  functions: {
    charge: 'charge',
    notify: 'notify',
    meterVending: 'meter-vending',
    followUp: 'follow-up',
    reconcile: 'reconcile',
  },
  queues: {
    paymentSuccess: 'PaymentSuccess',
    paymentFailure: 'PaymentFailure',
    vendingFailure: 'VendingFailure',
  },
  topics: { onCall: 'OnCall' },
} as const satisfies {
  functions: Record<TaskFunctionKey, string>;
  queues: Record<QueueKey, string>;
  topics: Record<string, string>;
};

/** SQS keeps a dead-letter message at most this long; the dead-letter queues keep theirs for all of it. */
const DEAD_LETTER_RETENTION_DAYS = 14;
/** Receives before a message moves to its dead-letter queue. */
const MAX_RECEIVE_COUNT = 5;

export function topologyFor(settings: EnvironmentSettings): Topology {
  const functions: Record<TaskFunctionKey, TaskFunctionSpec> = {
    charge: {
      name: RESOURCE_NAMES.functions.charge,
      constructId: 'Charge',
      entry: 'tasks/charge/handler.ts',
      serviceName: 'charge',
      description: 'PaymentToVend Charge: charges the card through the payment gateway',
      // The gateway call may take its 10 s timeout, and a Data API call up to 20 s while a paused dev
      // cluster resumes (database/data-api.ts).
      timeoutSeconds: 45,
      memoryMb: 512,
      reaches: ['paymentGateway'],
      databaseUser: SERVICE_ROLES.charge,
    },
    notify: {
      name: RESOURCE_NAMES.functions.notify,
      constructId: 'Notify',
      entry: 'tasks/notify/handler.ts',
      serviceName: 'notify',
      description: 'PaymentToVend NotifyCustomer: appends a customer event',
      // One Data API call, which may wait up to 20 s while a paused dev cluster resumes.
      timeoutSeconds: 30,
      memoryMb: 512,
      reaches: [],
      databaseUser: SERVICE_ROLES.notify,
    },
    meterVending: {
      name: RESOURCE_NAMES.functions.meterVending,
      constructId: 'MeterVending',
      entry: 'tasks/meter-vending/handler.ts',
      serviceName: 'meter-vending',
      description: 'PaymentToVend Meter Vending: vends credit for PaymentSuccess messages',
      // The vendor's 20 s timeout, heartbeats while it answers, and a resuming Data API.
      timeoutSeconds: 60,
      memoryMb: 512,
      reaches: ['vendingVendor'],
      databaseUser: SERVICE_ROLES.meterVending,
    },
    followUp: {
      name: RESOURCE_NAMES.functions.followUp,
      constructId: 'FollowUp',
      entry: 'tasks/follow-up/handler.ts',
      serviceName: 'follow-up',
      description:
        'PaymentToVend AwaitDecision and RecordDecision: an open payment and its operator decisions',
      // Two Data API calls, which may wait up to 20 s while a paused dev cluster resumes.
      timeoutSeconds: 45,
      memoryMb: 512,
      reaches: [],
      databaseUser: SERVICE_ROLES.followUp,
    },
    reconcile: {
      name: RESOURCE_NAMES.functions.reconcile,
      constructId: 'Reconcile',
      entry: 'tasks/reconcile/handler.ts',
      serviceName: 'reconcile',
      description:
        'Reconciliation: payments charged but not vended, and gateway charges no payment records, for follow-up',
      // Pages of the gateway's charges (each 10 s at most) and a few Data API calls, which may wait up to 20 s
      // while a paused dev cluster resumes. A run that runs out of time records nothing; the next one, 15 minutes
      // on, reads it all again.
      timeoutSeconds: 300,
      memoryMb: 512,
      reaches: ['paymentGateway'],
      databaseUser: SERVICE_ROLES.reconcile,
    },
  };
  const queue = (name: string, visibilityTimeoutSeconds: number, retentionDays: number): QueueSpec => ({
    name,
    visibilityTimeoutSeconds,
    retentionDays,
    deadLetter: {
      name: `${name}-dlq`,
      retentionDays: DEAD_LETTER_RETENTION_DAYS,
      maxReceiveCount: MAX_RECEIVE_COUNT,
    },
  });
  return {
    functions,
    frontEnd: { databaseUser: SERVICE_ROLES.frontEnd },
    operatorConsole: { databaseUser: SERVICE_ROLES.console },
    queues: {
      // Six times the consumer's timeout, as AWS advises for an SQS event source, so a batch still being worked
      // on is not delivered twice; messages are consumed in seconds, so four days is plenty.
      paymentSuccess: queue(
        RESOURCE_NAMES.queues.paymentSuccess,
        6 * functions.meterVending.timeoutSeconds,
        4,
      ),
      // The failure queues wait for an operator.
      paymentFailure: queue(RESOURCE_NAMES.queues.paymentFailure, 300, 7),
      vendingFailure: queue(RESOURCE_NAMES.queues.vendingFailure, 300, 7),
    },
    topics: { onCall: { name: RESOURCE_NAMES.topics.onCall } },
    paymentSuccessMapping: {
      function: 'meterVending',
      queue: 'paymentSuccess',
      // Up to five waiting messages per invocation, but no waiting for a batch to fill: every vend is a customer
      // watching their page, and a batching window would add itself to each one's wait.
      batchSize: 5,
      maxBatchingWindowSeconds: 0,
      maxConcurrency: settings.workflow.vendingConcurrency,
    },
    reconciliation: { everyMinutes: 15 },
    workflow: { maxVendAttempts: settings.workflow.maxVendAttempts },
  };
}
