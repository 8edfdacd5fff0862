/**
 * The environments the CDK app deploys, in pipeline order, and what differs between them. Everything else
 * is the same code: the stacks are built from these settings and nothing else.
 *
 * Only production faces the internet; every other environment is reachable only from inside its VPC (a
 * VPN or a bastion in front of the internal ALB), so nothing there is publicly reachable.
 *
 * Account ids are placeholders until the organisation's accounts exist: pass real ones with
 * `cdk synth -c accounts='{"dev":"…","staging":"…","nonlive":"…","production":"…","tooling":"…"}'`.
 * Synthesis never looks anything up in an account, so it runs offline with no credentials.
 *
 * The resources built from these settings, on AWS and locally alike, are declared in system/topology.ts.
 *
 * @example
 * for (const settings of ENVIRONMENTS) new PaymentPlatformStage(pipelineScope, settings.name, { settings, toolingAccount });
 */
export type EnvironmentName = 'dev' | 'staging' | 'nonlive' | 'production';

export interface EnvironmentSettings {
  readonly name: EnvironmentName;
  /** Human name, used in alarm descriptions and the dashboard. */
  readonly title: string;
  readonly account: string;
  readonly region: string;
  /** The front-end ALB is internet-facing (production only). */
  readonly publicFrontEnd: boolean;
  /** DNS name customers (or testers) use; the TLS certificate covers it. */
  readonly domainName: string;
  /**
   * ARN of the ACM certificate for `domainName`, issued out of band (DNS validation needs the zone owner).
   * Synthesis takes it as given; a placeholder until the certificate exists.
   */
  readonly certificateArn: string;
  readonly database: {
    /** Aurora Serverless v2 capacity in ACUs. */
    readonly minCapacity: number;
    readonly maxCapacity: number;
    /** Readers besides the writer; production keeps one in another AZ for failover. */
    readonly readers: number;
    /** Days of automated backups Aurora keeps (point-in-time recovery within them). */
    readonly backupRetentionDays: number;
    readonly deletionProtection: boolean;
  };
  readonly frontEnd: {
    readonly minTasks: number;
    readonly maxTasks: number;
  };
  readonly workflow: {
    /** Vend attempts before VendFailed (the construct's maxVendAttempts). */
    readonly maxVendAttempts: number;
    /** At most this many meter-vending invocations at once (the PaymentSuccess event source's cap). */
    readonly vendingConcurrency: number;
  };
  /** Retention of application and audit logs. */
  readonly logRetentionDays: number;
  /**
   * Who the on-call topic pages: email addresses, or HTTPS endpoints (a paging service's SNS integration, a chat
   * webhook). Production must have at least one (synthesis fails without), or every alarm pages nobody.
   */
  readonly onCall: { readonly subscriptions: readonly OnCallSubscription[] };
  /** Where the payment gateway and the vending vendor are: their sandboxes before production. */
  readonly providers: {
    readonly paymentGatewayUrl: string;
    readonly vendingVendorUrl: string;
  };
}

/** One subscriber of an environment's on-call topic. */
export type OnCallSubscription =
  | { readonly protocol: 'email'; readonly address: string }
  | { readonly protocol: 'https'; readonly url: string };

/** Placeholder account ids (the AWS documentation's example range), overridden with `-c accounts=…`. */
export const PLACEHOLDER_ACCOUNTS: Readonly<Record<EnvironmentName | 'tooling', string>> = {
  tooling: '111111111111',
  dev: '222222222222',
  staging: '333333333333',
  nonlive: '444444444444',
  production: '555555555555',
};

/** A UK supplier: customers' data stays in London. */
export const REGION = 'eu-west-2';

const sandboxProviders = {
  paymentGatewayUrl: 'https://sandbox.gateway.example.com',
  vendingVendorUrl: 'https://sandbox.vendor.example.com',
};

const certificate = (account: string, id: string) => `arn:aws:acm:${REGION}:${account}:certificate/${id}`;

/** The environments in the order the pipeline promotes a change through them. */
export function environments(
  accounts: Readonly<Record<EnvironmentName | 'tooling', string>> = PLACEHOLDER_ACCOUNTS,
): readonly EnvironmentSettings[] {
  const nonProduction = {
    region: REGION,
    publicFrontEnd: false,
    frontEnd: { minTasks: 1, maxTasks: 2 },
    workflow: { maxVendAttempts: 5, vendingConcurrency: 5 },
    // Placeholders until the team's addresses exist; the team's own inbox, not the production pager.
    onCall: { subscriptions: [{ protocol: 'email' as const, address: 'payments-team@example.co.uk' }] },
    logRetentionDays: 30,
    providers: sandboxProviders,
  };
  return [
    {
      ...nonProduction,
      name: 'dev',
      title: 'Development',
      account: accounts.dev,
      domainName: 'topup.dev.internal.example.co.uk',
      certificateArn: certificate(accounts.dev, '00000000-0000-4000-8000-000000000001'),
      database: {
        minCapacity: 0,
        maxCapacity: 2,
        readers: 0,
        backupRetentionDays: 1,
        deletionProtection: false,
      },
    },
    {
      ...nonProduction,
      name: 'staging',
      title: 'Staging',
      account: accounts.staging,
      domainName: 'topup.staging.internal.example.co.uk',
      certificateArn: certificate(accounts.staging, '00000000-0000-4000-8000-000000000002'),
      database: {
        minCapacity: 0.5,
        maxCapacity: 4,
        readers: 0,
        backupRetentionDays: 7,
        deletionProtection: false,
      },
    },
    {
      ...nonProduction,
      name: 'nonlive',
      title: 'Non-live production',
      account: accounts.nonlive,
      domainName: 'topup.nonlive.internal.example.co.uk',
      certificateArn: certificate(accounts.nonlive, '00000000-0000-4000-8000-000000000003'),
      // Production's shape at production's settings, against the providers' sandboxes.
      frontEnd: { minTasks: 2, maxTasks: 4 },
      database: {
        minCapacity: 0.5,
        maxCapacity: 16,
        readers: 1,
        backupRetentionDays: 14,
        deletionProtection: true,
      },
      logRetentionDays: 90,
    },
    {
      name: 'production',
      title: 'Production',
      account: accounts.production,
      region: REGION,
      publicFrontEnd: true,
      domainName: 'topup.example.co.uk',
      certificateArn: certificate(accounts.production, '00000000-0000-4000-8000-000000000004'),
      database: {
        minCapacity: 0.5,
        maxCapacity: 16,
        readers: 1,
        backupRetentionDays: 35,
        deletionProtection: true,
      },
      frontEnd: { minTasks: 2, maxTasks: 10 },
      workflow: { maxVendAttempts: 5, vendingConcurrency: 50 },
      // Placeholders: the paging service's SNS integration (it confirms the subscription itself) and a mailbox.
      onCall: {
        subscriptions: [
          { protocol: 'https', url: 'https://paging.example.com/integrations/sns/payments-production' },
          { protocol: 'email', address: 'payments-oncall@example.co.uk' },
        ],
      },
      // Payment audit trails are kept for a year (PCI DSS 10.7).
      logRetentionDays: 365,
      providers: {
        paymentGatewayUrl: 'https://api.gateway.example.com',
        vendingVendorUrl: 'https://api.vendor.example.com',
      },
    },
  ];
}

/**
 * One environment's settings, by name (placeholder accounts: enough for what runs locally).
 *
 * @example
 * environmentNamed('production').workflow.maxVendAttempts; // 5
 */
export function environmentNamed(name: string): EnvironmentSettings {
  const found = environments().find((settings) => settings.name === name);
  if (found === undefined) {
    const names = environments().map((settings) => settings.name);
    throw new Error(`No environment named ${JSON.stringify(name)}: one of ${names.join(', ')}`);
  }
  return found;
}
