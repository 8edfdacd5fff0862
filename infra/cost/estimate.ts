/**
 * What 1 million payments a month cost in production (eu-west-2), from the state machine definition that is
 * checked in (`workflow/payment-to-vend.asl.json`) and a table of list prices.
 *
 * Step Functions Standard bills every state entered and every retry as one state transition ("Step Functions
 * counts a state transition each time a step of your workflow is executed … including retries", AWS Step
 * Functions pricing page). The walk below follows one path through the definition per outcome and counts
 * exactly that: each state entered, plus each retry of a Task. The same walk counts the Lambda invocations
 * (per function name), SQS sends and SNS publishes of each path.
 *
 * Everything that is not read from the definition is an assumption, named in `ASSUMPTIONS` and `PRICES`.
 * Free tiers, savings plans, taxes and data transfer to the internet are left out.
 *
 * @example
 * node --import tsx infra/cost/estimate.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMatches } from '@payment-to-vend/embedded-aws';
import { SERVICE_ROLE_NAMES } from '../../database/service-roles.ts';

// ─── The definition and the walk ──────────────────────────────────────────────────────────────────

interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly MaxAttempts?: number;
}
interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
}
interface AslChoiceRule {
  readonly StringEquals?: string;
  readonly Next: string;
}
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: string };
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
  readonly Choices?: readonly AslChoiceRule[];
  readonly Default?: string;
}
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/** One way through the machine. */
export interface PathScenario {
  readonly name: string;
  /** Share of all payments that take this path (the shares add up to 1). */
  readonly share: number;
  /** At each Choice state, the `StringEquals` value of the rule taken, e.g. `{ ChargeOutcome: 'charged' }`. */
  readonly choose: Readonly<Record<string, string>>;
  /** Task states that are retried this many times and then succeed. */
  readonly retries?: Readonly<Record<string, number>>;
  /** Task states that fail with this error on every attempt: all its retries, then its Catch. */
  readonly failWith?: Readonly<Record<string, string>>;
}

export interface PathCount {
  readonly states: readonly string[];
  readonly retries: number;
  /** What Step Functions bills: states entered plus retries. */
  readonly transitions: number;
  /** Invocations per Lambda function name (the last part of FunctionName), every attempt counted. */
  readonly lambdaInvocations: Readonly<Record<string, number>>;
  /** sqs:sendMessage calls, every attempt counted (a Vend attempt sends one message). */
  readonly sqsSends: number;
  /** Vend attempts: messages the meter-vending Lambda receives. */
  readonly vendAttempts: number;
  readonly snsPublishes: number;
}

// The engine's matcher, so a path is walked as the embedded Step Functions (and AWS) would take it.
const matches = errorMatches;

/** Follows `scenario` from StartAt to a terminal state and counts what is billed. */
export function walk(definition: AslDefinition, scenario: PathScenario): PathCount {
  const states: string[] = [];
  const lambdaInvocations: Record<string, number> = {};
  let retries = 0;
  let sqsSends = 0;
  let vendAttempts = 0;
  let snsPublishes = 0;
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    const state: AslState | undefined = definition.States[name];
    if (state === undefined) throw new Error(`${scenario.name}: no state ${name}`);
    if (states.length > 200) throw new Error(`${scenario.name}: the path does not end`);
    states.push(name);
    let next: string | undefined = state.End === true ? undefined : state.Next;
    if (state.Type === 'Choice') {
      const value: string | undefined = scenario.choose[name];
      // A rule the scenario does not name (and one that is not a StringEquals) is not taken: the Default is.
      const rule: AslChoiceRule | undefined =
        value === undefined
          ? undefined
          : state.Choices?.find((candidate) => candidate.StringEquals === value);
      next = rule?.Next ?? state.Default;
      if (next === undefined) throw new Error(`${scenario.name}: ${name} has no rule for ${String(value)}`);
    } else if (state.Type === 'Task') {
      let attempts = 1 + (scenario.retries?.[name] ?? 0);
      const error: string | undefined = scenario.failWith?.[name];
      if (error !== undefined) {
        const retrier: AslRetrier | undefined = state.Retry?.find((candidate) =>
          matches(candidate.ErrorEquals, error),
        );
        attempts = 1 + (retrier === undefined ? 0 : (retrier.MaxAttempts ?? 3));
        const catcher: AslCatcher | undefined = state.Catch?.find((candidate) =>
          matches(candidate.ErrorEquals, error),
        );
        if (catcher === undefined) throw new Error(`${scenario.name}: ${name} does not catch ${error}`);
        next = catcher.Next;
      }
      retries += attempts - 1;
      const resource = state.Resource ?? '';
      if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
        const functionName = (state.Parameters?.FunctionName ?? 'unknown').split(':').pop() ?? 'unknown';
        lambdaInvocations[functionName] = (lambdaInvocations[functionName] ?? 0) + attempts;
      } else if (resource.startsWith('arn:aws:states:::sqs:sendMessage')) {
        sqsSends += attempts;
        if (resource.endsWith('.waitForTaskToken')) vendAttempts += attempts;
      } else if (resource.startsWith('arn:aws:states:::sns:publish')) {
        snsPublishes += attempts;
      }
    }
    if (state.Type === 'Succeed' || state.Type === 'Fail') next = undefined;
    name = next;
  }
  return {
    states,
    retries,
    transitions: states.length + retries,
    lambdaInvocations,
    sqsSends,
    vendAttempts,
    snsPublishes,
  };
}

// ─── Prices ───────────────────────────────────────────────────────────────────────────────────────

/**
 * List prices in USD for eu-west-2 (London), on-demand. `checked` says where each came from: "read" means read
 * on the named page on that date; "recalled" means the London list price as last known, to be verified on the
 * named page before the figure is quoted. After "recalled;", the 2026-11-24 note says what the stored copies of
 * the pricing pages did and did not show. No figure was changed on the strength of another Region's rate or a
 * third-party page.
 */
export const PRICES = {
  stepFunctionsPerTransition: {
    usd: 0.025 / 1000,
    source: 'https://aws.amazon.com/step-functions/pricing/ (Europe (London): $0.025 per 1,000)',
    checked: 'read 2026-11-24',
  },
  lambdaPerRequest: {
    usd: 0.2 / 1e6,
    source: 'https://aws.amazon.com/lambda/pricing/',
    checked:
      'recalled; 2026-11-24: the stored copies of the Lambda pricing page show no rate table in their text (its worked examples are "based on price in US East (N. Virginia)"); $0.20 per 1M requests read in the AWS whitepaper "How AWS Pricing Works" (docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html, no Region named, undated); London rate not shown',
  },
  lambdaArmPerGbSecond: {
    usd: 0.0000133334,
    source: 'https://aws.amazon.com/lambda/pricing/ (Arm, first tier)',
    checked:
      'recalled; 2026-11-24: the stored copies of the Lambda pricing page list "x86 Price / Arm Price" tabs but no figures in their text; no Arm rate, London or other, read on an AWS page',
  },
  sqsPerRequest: {
    usd: 0.4 / 1e6,
    source:
      'https://aws.amazon.com/sqs/pricing/ (standard queue; each 64 KiB chunk of a request is one request)',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS SQS pricing page found; only third-party pages, quoting $0.40 per 1M for US East (N. Virginia); London rate not shown',
  },
  snsPerPublish: {
    usd: 0.5 / 1e6,
    source: 'https://aws.amazon.com/sns/pricing/ (each 64 KiB chunk is one request)',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS SNS pricing page found; only third-party pages (standard-topic publish $0.50 per 1M, Region not stated); London rate not shown',
  },
  dataApiPerRequest: {
    usd: 0.35 / 1e6,
    source:
      'https://aws.amazon.com/rds/aurora/pricing/ (Data API: per million requests, first billion; requests metered in 32 KiB chunks of payload)',
    checked:
      'recalled (us-east-1 rate; the London rate may be higher); 2026-11-24: the stored copy of the Aurora pricing page shows only its introduction, not the Data API section; no Data API rate read for any Region',
  },
  auroraPerAcuHour: {
    usd: 0.14,
    source: 'https://aws.amazon.com/rds/aurora/pricing/ (Aurora Serverless v2, Aurora Standard, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the Aurora pricing page says to select an edition "to view database instance pricing"; the price table is not in the stored text; London rate not shown',
  },
  auroraStoragePerGbMonth: {
    usd: 0.11,
    source: 'https://aws.amazon.com/rds/aurora/pricing/ (Aurora Standard storage, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the Aurora pricing page describes storage as billed per GB-month but shows no figure; London rate not shown',
  },
  auroraPerMillionIo: {
    usd: 0.22,
    source: 'https://aws.amazon.com/rds/aurora/pricing/ (Aurora Standard I/O, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the Aurora pricing page describes I/O as billed per million requests but shows no figure; London rate not shown',
  },
  fargateX86PerVcpuHour: {
    usd: 0.04656,
    source: 'https://aws.amazon.com/fargate/pricing/ (Linux/x86, London)',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS Fargate pricing page found; third-party pages quote only US East (N. Virginia) rates; London rate not shown',
  },
  fargateX86PerGbHour: {
    usd: 0.00511,
    source: 'https://aws.amazon.com/fargate/pricing/ (Linux/x86, London)',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS Fargate pricing page found; third-party pages quote only US East (N. Virginia) rates; London rate not shown',
  },
  albPerHour: {
    usd: 0.02646,
    source: 'https://aws.amazon.com/elasticloadbalancing/pricing/ (ALB, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the ELB pricing page (aws.amazon.com/elasticloadbalancing/classicloadbalancer/pricing/) has an ALB table behind a Region selector, with no figures in the stored text; London rate not shown',
  },
  albPerLcuHour: {
    usd: 0.0084,
    source: 'https://aws.amazon.com/elasticloadbalancing/pricing/ (ALB LCU, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the ELB pricing page has an ALB table behind a Region selector, with no figures in the stored text; London rate not shown',
  },
  natPerHour: {
    usd: 0.05,
    source: 'https://aws.amazon.com/vpc/pricing/ (NAT gateway, London)',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS VPC pricing page found; third-party pages quote $0.045 per hour for US East and give no exact London figure; London rate not shown',
  },
  natPerGb: {
    usd: 0.05,
    source: 'https://aws.amazon.com/vpc/pricing/ (NAT data processed, London)',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS VPC pricing page found; third-party pages quote $0.045 per GB for US East and give no exact London figure; London rate not shown',
  },
  interfaceEndpointPerAzHour: {
    usd: 0.011,
    source: 'https://aws.amazon.com/privatelink/pricing/ (interface endpoint per AZ, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the PrivateLink pricing page says endpoints are billed per hour in each AZ but shows no hourly figure; London rate not shown',
  },
  interfaceEndpointPerGb: {
    usd: 0.01,
    source: 'https://aws.amazon.com/privatelink/pricing/ (first PB, London)',
    checked:
      'recalled; 2026-11-24: $0.01 per GB for the first 1 PB appears in a third-party mirror of the PrivateLink pricing page (not aws.amazon.com). That table does not name its Region, and the aws.amazon.com copy shows no figures; London rate not confirmed',
  },
  kmsPerKeyMonth: {
    usd: 1,
    source: 'https://aws.amazon.com/kms/pricing/',
    checked:
      'read 2026-11-24 on https://aws.amazon.com/kms/pricing/ (no date shown): "Each AWS KMS key that you create in KMS costs $1/month", one rate with no Region named (no per-Region table for key storage)',
  },
  kmsPerRequest: {
    usd: 0.03 / 10_000,
    source: 'https://aws.amazon.com/kms/pricing/',
    checked:
      'recalled; 2026-11-24: in the stored copy of the KMS pricing page, the "Key Usage" price table is not in the text (only the 20,000 free requests a month); London rate not shown',
  },
  logsIngestionPerGb: {
    usd: 0.5985,
    source: 'https://aws.amazon.com/cloudwatch/pricing/ (Logs, standard ingestion, London)',
    checked:
      'recalled; 2026-11-24: the stored copy of the CloudWatch pricing page shows the free tier and "Pricing varies by Region", but the paid-tier tables are not in the text; London rate not shown',
  },
  logsStoragePerGbMonth: {
    usd: 0.0315,
    source: 'https://aws.amazon.com/cloudwatch/pricing/ (Logs archival, London; billed on compressed size)',
    checked:
      'recalled; 2026-11-24: the stored copy of the CloudWatch pricing page shows the free tier and "Pricing varies by Region", but the paid-tier tables are not in the text; London rate not shown',
  },
  cloudTrailDataEventsPerEvent: {
    usd: 0.1 / 100_000,
    source:
      'https://aws.amazon.com/cloudtrail/pricing/ (data events; the first copy of management events is free)',
    checked:
      'recalled; 2026-11-24: an older stored copy of https://aws.amazon.com/cloudtrail/pricing/ (undated; it describes data events as S3-only) says data events "are charged at $0.10 per 100,000 events", with no Region named; the newer stored copy does not show its paid-tier figures; London rate not confirmed on the current page',
  },
  alarmPerMetricMonth: {
    usd: 0.1,
    source: 'https://aws.amazon.com/cloudwatch/pricing/ (standard-resolution alarm, per metric)',
    checked:
      'recalled; 2026-11-24: the stored copy of the CloudWatch pricing page shows only the free tier (10 alarm metrics) and "Pricing varies by Region"; paid rate not shown for London',
  },
  dashboardPerMonth: {
    usd: 3,
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    checked:
      'recalled; 2026-11-24: the stored copy of the CloudWatch pricing page shows only the free tier (3 custom dashboards) and "Pricing varies by Region"; paid rate not shown for London',
  },
  secretPerMonth: {
    usd: 0.4,
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    checked:
      'recalled; 2026-11-24: no stored copy of the AWS Secrets Manager pricing page found; only third-party pages ($0.40 per secret per month, Region not stated); London rate not shown',
  },
} as const;

// ─── Assumptions ──────────────────────────────────────────────────────────────────────────────────

const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** The outcomes, as paths through the machine (state names as in the definition). */
const SCENARIOS: readonly PathScenario[] = [
  { name: 'vended at the first attempt', share: 0.929, choose: { ChargeOutcome: 'charged' } },
  {
    name: 'vended after one transient vendor failure',
    share: 0.02,
    choose: { ChargeOutcome: 'charged' },
    retries: { Vend: 1 },
  },
  { name: 'charge declined', share: 0.045, choose: { ChargeOutcome: 'declined' } },
  {
    name: 'charge unconfirmed (gateway unavailable on every attempt), rechecked by an operator: charged, vended',
    share: 0.001,
    choose: {
      ChargeOutcome: 'unconfirmed',
      Decision: 'recheck_charge',
      RecheckOutcome: 'charged',
    },
    failWith: { Charge: 'PaymentGatewayUnavailable' },
  },
  {
    name: 'vend failed (vendor down for every attempt), refunded by an operator',
    share: 0.005,
    choose: { ChargeOutcome: 'charged', Decision: 'refund' },
    failWith: { Vend: 'VendorUnavailable' },
  },
];

/** What is not in the definition. Production settings (infra/lib/environments.ts) unless said otherwise. */
export const ASSUMPTIONS = {
  paymentsPerMonth: 1_000_000,
  scenarios: SCENARIOS,
  lambda: {
    /** nodeFunction's default in infra/lib/constructs/task-functions.ts; arm64. */
    memoryGb: 512 / 1024,
    /** Billed duration per invocation (ms): gateway and vendor round trips dominate. */
    durationMs: { charge: 450, notify: 60, 'meter-vending': 700 } as Record<string, number>,
  },
  sqs: {
    /** Per message the meter-vending event source receives and deletes it (batches are ~1 at this rate). */
    requestsPerVendMessage: 2,
    /**
     * Lambda's SQS event source long-polls even when idle: about 5 pollers × 3 twenty-second polls a minute.
     */
    idlePollerRequestsPerMonth: 5 * 3 * 60 * HOURS_PER_MONTH,
  },
  dataApi: {
    /**
     * Front-end: accepting the payment (one statement: key, payment, `accepted`), then the events socket's
     * authorisation read and its history read. bench:e2e measures 9.3 Data API calls per vended payment in all.
     */
    frontEndCallsPerPayment: 3,
    /** Charge: read/insert the payment, record the outcome. */
    chargeCallsPerInvocation: 2,
    /** Notify: append one payment_events row. */
    notifyCallsPerInvocation: 1,
    /** Meter vending: record the vend attempt (a retry also appends its vend_retrying event; rare). */
    meterVendingCallsPerAttempt: 1,
    /** Each front-end task tails payment_events every EVENT_POLL_INTERVAL_MS (150 ms by default). */
    eventPollIntervalMs: 150,
  },
  aurora: {
    /** Average ACUs of the writer (the event tail's polling keeps it above the 0.5 minimum) and of the reader. */
    writerAverageAcu: 1,
    readers: 1,
    readerAverageAcu: 0.5,
    storageGb: 10,
    ioPerPayment: 30,
    /** The event tail's polls are served from cache: ~0 I/O each. */
  },
  frontEnd: {
    /** production minTasks; 0.5 vCPU, 1 GiB, x86_64 (infra/lib/constructs/frontend-service.ts). */
    tasks: 2,
    vcpu: 0.5,
    memoryGb: 1,
    /** Average LCUs: new connections, WebSockets held open while customers watch, and request volume. */
    averageLcu: 1,
  },
  network: {
    /** production: one NAT gateway per AZ, three AZs; ten interface endpoints in each AZ. */
    natGateways: 3,
    natGbPerMonth: 10,
    interfaceEndpoints: 10,
    availabilityZones: 3,
    endpointGbPerMonth: 20,
  },
  kms: { keys: 10, requestsPerPayment: 2 },
  logs: {
    /** Step Functions logs ALL events without execution data: ~ events per state × bytes. */
    stepFunctionsBytesPerState: 3 * 350,
    lambdaBytesPerInvocation: 1500,
    frontEndBytesPerPayment: 3000,
    eventBridgeBytesPerPayment: 2 * 1200,
    /** Kept a year in production; CloudWatch Logs bills storage on compressed size (~15% of ingested). */
    retainedMonths: 12,
    compression: 0.15,
  },
  // Production's alarms (alarms.ts, and the front-end's deployment alarm): 27 on 29 metrics as counted from its
  // synthesized stacks, plus errors and throttles of the follow-up and reconcile functions; secrets: the master, each service user's (the console's too), the gateway's and the
  // vendor's.
  monitoring: { alarms: 33, dashboards: 1, secrets: 1 + SERVICE_ROLE_NAMES.length + 2 },
} as const;

// ─── The estimate ─────────────────────────────────────────────────────────────────────────────────

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPriceUsd: number;
  readonly monthlyUsd: number;
}

export interface Estimate {
  readonly perPath: readonly (PathCount & { readonly name: string; readonly share: number })[];
  /** State transitions per payment, weighted over the paths. */
  readonly transitionsPerPayment: number;
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
}

export function estimate(definition: AslDefinition, assumptions = ASSUMPTIONS): Estimate {
  const payments = assumptions.paymentsPerMonth;
  const perPath = assumptions.scenarios.map((scenario) => ({
    name: scenario.name,
    share: scenario.share,
    ...walk(definition, scenario),
  }));
  const shareTotal = perPath.reduce((sum, path) => sum + path.share, 0);
  if (Math.abs(shareTotal - 1) > 1e-9) throw new Error(`the path shares add up to ${shareTotal}, not 1`);
  const weighted = (value: (path: (typeof perPath)[number]) => number) =>
    perPath.reduce((sum, path) => sum + path.share * value(path), 0);

  const transitionsPerPayment = weighted((path) => path.transitions);
  const functionNames = [...new Set(perPath.flatMap((path) => Object.keys(path.lambdaInvocations)))];
  const invocationsPerPayment: Record<string, number> = {};
  for (const name of functionNames)
    invocationsPerPayment[name] = weighted((path) => path.lambdaInvocations[name] ?? 0);
  const vendAttemptsPerPayment = weighted((path) => path.vendAttempts);
  invocationsPerPayment['meter-vending'] = vendAttemptsPerPayment;
  const stepFunctionsSendsPerPayment = weighted((path) => path.sqsSends);
  const snsPerPayment = weighted((path) => path.snsPublishes);

  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantity: number, unit: string, unitPriceUsd: number) =>
    lines.push({ service, item, quantity, unit, unitPriceUsd, monthlyUsd: quantity * unitPriceUsd });

  add(
    'Step Functions',
    `state transitions (${transitionsPerPayment.toFixed(2)} per payment)`,
    transitionsPerPayment * payments,
    'transitions',
    PRICES.stepFunctionsPerTransition.usd,
  );

  const invocations = Object.values(invocationsPerPayment).reduce((sum, count) => sum + count, 0) * payments;
  add(
    'Lambda',
    'requests (charge, notify, meter-vending, follow-up)',
    invocations,
    'requests',
    PRICES.lambdaPerRequest.usd,
  );
  const gbSeconds = Object.entries(invocationsPerPayment).reduce(
    (sum, [name, count]) =>
      sum +
      count * payments * ((assumptions.lambda.durationMs[name] ?? 100) / 1000) * assumptions.lambda.memoryGb,
    0,
  );
  add(
    'Lambda',
    `duration at ${assumptions.lambda.memoryGb * 1024} MB, arm64`,
    gbSeconds,
    'GB-seconds',
    PRICES.lambdaArmPerGbSecond.usd,
  );

  const sqsRequests =
    (stepFunctionsSendsPerPayment + vendAttemptsPerPayment * assumptions.sqs.requestsPerVendMessage) *
      payments +
    assumptions.sqs.idlePollerRequestsPerMonth;
  add(
    'SQS',
    'send, receive, delete (+ idle long polls), messages < 64 KiB',
    sqsRequests,
    'requests',
    PRICES.sqsPerRequest.usd,
  );
  add('SNS', 'on-call pages (AlertOnCall)', snsPerPayment * payments, 'publishes', PRICES.snsPerPublish.usd);

  const dataApi = assumptions.dataApi;
  const dataApiPerPayment =
    dataApi.frontEndCallsPerPayment +
    (invocationsPerPayment.charge ?? 0) * dataApi.chargeCallsPerInvocation +
    (invocationsPerPayment.notify ?? 0) * dataApi.notifyCallsPerInvocation +
    vendAttemptsPerPayment * dataApi.meterVendingCallsPerAttempt;
  add(
    'RDS Data API',
    `payment requests (${dataApiPerPayment.toFixed(1)} per payment), each < 32 KiB`,
    dataApiPerPayment * payments,
    'requests',
    PRICES.dataApiPerRequest.usd,
  );
  const tailPolls = (assumptions.frontEnd.tasks * (SECONDS_PER_MONTH * 1000)) / dataApi.eventPollIntervalMs;
  add(
    'RDS Data API',
    `event tail polls (${assumptions.frontEnd.tasks} tasks, every ${dataApi.eventPollIntervalMs} ms)`,
    tailPolls,
    'requests',
    PRICES.dataApiPerRequest.usd,
  );

  const aurora = assumptions.aurora;
  add(
    'Aurora Serverless v2',
    `writer ~${aurora.writerAverageAcu} ACU + ${aurora.readers} reader ~${aurora.readerAverageAcu} ACU`,
    (aurora.writerAverageAcu + aurora.readers * aurora.readerAverageAcu) * HOURS_PER_MONTH,
    'ACU-hours',
    PRICES.auroraPerAcuHour.usd,
  );
  add('Aurora Serverless v2', 'storage', aurora.storageGb, 'GB-months', PRICES.auroraStoragePerGbMonth.usd);
  add(
    'Aurora Serverless v2',
    'I/O',
    (aurora.ioPerPayment * payments) / 1e6,
    'million I/Os',
    PRICES.auroraPerMillionIo.usd,
  );

  const frontEnd = assumptions.frontEnd;
  add(
    'ECS Fargate',
    `${frontEnd.tasks} tasks × ${frontEnd.vcpu} vCPU`,
    frontEnd.tasks * frontEnd.vcpu * HOURS_PER_MONTH,
    'vCPU-hours',
    PRICES.fargateX86PerVcpuHour.usd,
  );
  add(
    'ECS Fargate',
    `${frontEnd.tasks} tasks × ${frontEnd.memoryGb} GB`,
    frontEnd.tasks * frontEnd.memoryGb * HOURS_PER_MONTH,
    'GB-hours',
    PRICES.fargateX86PerGbHour.usd,
  );
  add('ALB', 'load balancer hours', HOURS_PER_MONTH, 'hours', PRICES.albPerHour.usd);
  add(
    'ALB',
    `~${frontEnd.averageLcu} LCU on average`,
    frontEnd.averageLcu * HOURS_PER_MONTH,
    'LCU-hours',
    PRICES.albPerLcuHour.usd,
  );

  const network = assumptions.network;
  add(
    'VPC',
    `${network.natGateways} NAT gateways`,
    network.natGateways * HOURS_PER_MONTH,
    'hours',
    PRICES.natPerHour.usd,
  );
  add(
    'VPC',
    'NAT data processed (gateway and vendor calls)',
    network.natGbPerMonth,
    'GB',
    PRICES.natPerGb.usd,
  );
  add(
    'VPC',
    `${network.interfaceEndpoints} interface endpoints × ${network.availabilityZones} AZs`,
    network.interfaceEndpoints * network.availabilityZones * HOURS_PER_MONTH,
    'endpoint-AZ-hours',
    PRICES.interfaceEndpointPerAzHour.usd,
  );
  add(
    'VPC',
    'interface endpoint data processed',
    network.endpointGbPerMonth,
    'GB',
    PRICES.interfaceEndpointPerGb.usd,
  );

  add('KMS', 'customer-managed keys', assumptions.kms.keys, 'key-months', PRICES.kmsPerKeyMonth.usd);
  add(
    'KMS',
    'requests (data keys are cached and reused)',
    assumptions.kms.requestsPerPayment * payments,
    'requests',
    PRICES.kmsPerRequest.usd,
  );

  const logs = assumptions.logs;
  const bytesPerPayment =
    weighted((path) => path.states.length + path.retries) * logs.stepFunctionsBytesPerState +
    (invocations / payments) * logs.lambdaBytesPerInvocation +
    logs.frontEndBytesPerPayment +
    logs.eventBridgeBytesPerPayment;
  const ingestedGb = (bytesPerPayment * payments) / 1024 ** 3;
  add(
    'CloudWatch Logs',
    `ingestion (~${(bytesPerPayment / 1024).toFixed(1)} KiB per payment)`,
    ingestedGb,
    'GB',
    PRICES.logsIngestionPerGb.usd,
  );
  add(
    'CloudWatch Logs',
    `storage after ${logs.retainedMonths} months (compressed)`,
    ingestedGb * logs.retainedMonths * logs.compression,
    'GB-months',
    PRICES.logsStoragePerGbMonth.usd,
  );
  const queueWritesPerPayment = stepFunctionsSendsPerPayment + vendAttemptsPerPayment;
  add(
    'CloudTrail',
    'SQS data events (sends and deletes)',
    queueWritesPerPayment * payments,
    'events',
    PRICES.cloudTrailDataEventsPerEvent.usd,
  );
  add('CloudWatch', 'alarms', assumptions.monitoring.alarms, 'alarm metrics', PRICES.alarmPerMetricMonth.usd);
  add(
    'CloudWatch',
    'dashboard',
    assumptions.monitoring.dashboards,
    'dashboards',
    PRICES.dashboardPerMonth.usd,
  );
  add(
    'Secrets Manager',
    'database users, gateway and vendor credentials',
    assumptions.monitoring.secrets,
    'secret-months',
    PRICES.secretPerMonth.usd,
  );

  return {
    perPath,
    transitionsPerPayment,
    lines,
    totalUsd: lines.reduce((sum, line) => sum + line.monthlyUsd, 0),
  };
}

/** The estimate as a plain-text table. */
export function formatEstimate(result: Estimate): string {
  const out: string[] = [];
  out.push('State transitions per payment, from workflow/payment-to-vend.asl.json:');
  for (const path of result.perPath) {
    out.push(
      `  ${(path.share * 100).toFixed(1).padStart(5)}%  ${path.name}: ${path.transitions} transitions (${path.states.length} states + ${path.retries} retries)`,
    );
    out.push(`          ${path.states.join(' → ')}`);
  }
  out.push(`  weighted: ${result.transitionsPerPayment.toFixed(3)} per payment`, '');
  const rows = result.lines.map((line) => [
    line.service,
    line.item,
    `${formatQuantity(line.quantity)} ${line.unit}`,
    formatUnitPrice(line.unitPriceUsd),
    `$${line.monthlyUsd.toFixed(2)}`,
  ]);
  const header = ['service', 'item', 'quantity / month', 'unit price', 'USD / month'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        column >= 3 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ');
  out.push(format(header), widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) out.push(format(row));
  out.push(widths.map((width) => '-'.repeat(width)).join('  '));
  out.push(
    format(['total', `1,000,000 payments a month, eu-west-2`, '', '', `$${result.totalUsd.toFixed(2)}`]),
  );
  out.push(`  = $${(result.totalUsd / ASSUMPTIONS.paymentsPerMonth).toFixed(5)} per payment`);
  return out.join('\n');
}

function formatUnitPrice(usd: number): string {
  if (usd < 0.001) return `$${Number((usd * 1e6).toPrecision(4))} per 1M`;
  return `$${Number(usd.toPrecision(4))}`;
}

function formatQuantity(quantity: number): string {
  if (quantity >= 1000) return Math.round(quantity).toLocaleString('en-GB');
  return Number(quantity.toPrecision(4)).toString();
}

export function loadDefinition(
  url: URL = new URL('../../workflow/payment-to-vend.asl.json', import.meta.url),
): AslDefinition {
  return JSON.parse(readFileSync(url, 'utf8')) as AslDefinition;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatEstimate(estimate(loadDefinition())));
}
