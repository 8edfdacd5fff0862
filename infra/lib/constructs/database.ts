/**
 * The payments database: Aurora PostgreSQL Serverless v2, reached by the application only through the RDS
 * Data API, and the migrations that keep its schema current.
 *
 * - Encrypted at rest with a customer managed key (rotation on); the credentials secrets too.
 * - The master credentials live in Secrets Manager and rotate every 30 days (single-user rotation: the Data
 *   API signs in with whatever the secret holds at each call, so a rotation needs no redeploy). Only the
 *   migrations use them.
 * - Each service (the front-end, charge, notify, meter-vending) signs in as its own database user, a role that
 *   migration 0005 grants only what that service's statements need (database/service-roles.ts): one secret per
 *   user (its role's name and a generated password without punctuation), encrypted with the database key,
 *   readable by that service alone (`grantDataApiAccess(grantee, role)`), and rotated every 30 days by Secrets
 *   Manager's multi-user rotation, which alternates the role with a `<role>_clone` member of it so a service
 *   never meets a password that is being changed. The migrations give each user LOGIN with its secret's
 *   password, and the rotations start only after that.
 * - Backups kept for the environment's retention; deletion protection and snapshot-on-delete where the
 *   settings ask for it; PostgreSQL and IAM-authentication logs exported to an encrypted log group.
 * - Its security group admits only the rotation function on the PostgreSQL port: nothing in the application
 *   connects over the network.
 *
 * `DatabaseMigrations` runs `migrate()` from `database/migrate.ts` through the Data API in a custom resource,
 * as the master user, then lets each service's user sign in with its secret's password, so a deployment never
 * finishes with code ahead of its schema or a service unable to sign in. It runs again whenever the migration
 * files, the cluster or the service secrets change; both steps are idempotent, so a repeat is harmless.
 *
 * @example
 * const database = new PaymentsDatabase(this, 'Database', { settings, vpc, logsKey });
 * new DatabaseMigrations(this, 'Migrations', { settings, vpc, logsKey, database });
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { SERVICE_ROLES, type ServiceRole } from '../../../database/service-roles.ts';
import { acknowledgeInlinePolicy } from '../compliance.ts';
import type { EnvironmentSettings } from '../environments.ts';
import { SubnetGroups } from './network.ts';
import { nodeFunction, REPOSITORY_ROOT } from './task-functions.ts';
import { logicalIdOf } from './workflow.ts';

/** PostgreSQL's port, given explicitly so the security group rule is a literal. */
export const POSTGRES_PORT = 5432;

/**
 * Kept out of the service users' generated passwords (and their rotations'): every ASCII punctuation mark and
 * the space, so a password is letters and digits only and reads the same in any quoting, the SQL literal that
 * sets it included. Thirty of them still carry about 178 bits.
 */
export const SERVICE_PASSWORD_EXCLUDED_CHARACTERS = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;

export interface PaymentsDatabaseProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
}

export class PaymentsDatabase extends Construct {
  public readonly cluster: rds.DatabaseCluster;
  /** The master credentials, as the Data API's `secretArn`: the migrations' alone. */
  public readonly secret: secretsmanager.ISecret;
  /** Each service's own credentials (username = its role), as its Data API `secretArn`. */
  public readonly serviceSecrets: Readonly<Record<ServiceRole, secretsmanager.ISecret>>;
  public readonly databaseName = 'payments';
  /** Encrypts the storage, snapshots and the credentials secret. */
  public readonly key: kms.Key;
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PaymentsDatabaseProps) {
    super(scope, id);
    const { settings, vpc } = props;

    this.key = new kms.Key(this, 'Key', {
      description: `${settings.title}: payments database storage and credentials`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Payments database: PostgreSQL from the credentials rotation function only',
      allowAllOutbound: false,
    });

    const protectedData = settings.database.deletionProtection;
    // RDS would create the exported logs' groups itself, unencrypted and kept for ever; created here first,
    // under the names RDS writes to, they are encrypted and expire with the environment's retention.
    const clusterIdentifier = `payments-${settings.name}`;
    const exportedLogs = ['postgresql', 'iam-db-auth-error'].map(
      (log) =>
        new logs.LogGroup(this, `Logs-${log}`, {
          logGroupName: `/aws/rds/cluster/${clusterIdentifier}/${log}`,
          retention: settings.logRetentionDays as logs.RetentionDays,
          encryptionKey: props.logsKey,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
    );
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier,
      port: POSTGRES_PORT,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_7 }),
      defaultDatabaseName: this.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret('payments_admin', { encryptionKey: this.key }),
      enableDataApi: true,
      iamAuthentication: true,
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      readers: Array.from({ length: settings.database.readers }, (_, index) =>
        rds.ClusterInstance.serverlessV2(`Reader${index + 1}`, {
          // The first reader is the failover target: it scales with the writer.
          scaleWithWriter: index === 0,
          autoMinorVersionUpgrade: true,
        }),
      ),
      serverlessV2MinCapacity: settings.database.minCapacity,
      serverlessV2MaxCapacity: settings.database.maxCapacity,
      vpc,
      vpcSubnets: { subnetGroupName: SubnetGroups.database },
      securityGroups: [this.securityGroup],
      storageEncrypted: true,
      storageEncryptionKey: this.key,
      backup: {
        retention: Duration.days(settings.database.backupRetentionDays),
        preferredWindow: '01:00-02:00',
      },
      preferredMaintenanceWindow: 'Sun:03:00-Sun:04:00',
      deletionProtection: protectedData,
      removalPolicy: protectedData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      copyTagsToSnapshot: true,
      cloudwatchLogsExports: ['postgresql', 'iam-db-auth-error'],
    });
    for (const logGroup of exportedLogs) this.cluster.node.addDependency(logGroup);
    if (this.cluster.secret === undefined) throw new Error('PaymentsDatabase: the cluster has no secret');
    this.secret = this.cluster.secret;

    this.cluster.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: { subnetGroupName: SubnetGroups.application },
    });

    const serviceSecrets: Partial<Record<ServiceRole, secretsmanager.ISecret>> = {};
    for (const [key, role] of Object.entries(SERVICE_ROLES)) {
      const name = key.charAt(0).toUpperCase() + key.slice(1);
      const secret = new rds.DatabaseSecret(this, `${name}Secret`, {
        username: role,
        encryptionKey: this.key,
        // The multi-user rotation signs in as the master (the secret's `masterarn`) to change the password.
        masterSecret: this.secret,
        excludeCharacters: SERVICE_PASSWORD_EXCLUDED_CHARACTERS,
      });
      // The cluster's host, port and engine, which the rotation function signs in with.
      const attached = secret.attach(this.cluster);
      this.cluster.addRotationMultiUser(`${name}Rotation`, {
        secret: attached,
        automaticallyAfter: Duration.days(30),
        excludeCharacters: SERVICE_PASSWORD_EXCLUDED_CHARACTERS,
        vpcSubnets: { subnetGroupName: SubnetGroups.application },
      });
      serviceSecrets[role] = attached;
    }
    this.serviceSecrets = serviceSecrets as Record<ServiceRole, secretsmanager.ISecret>;
    // The rule is from the rotation function's security group (not an address range) to the cluster's port,
    // which CDK takes from the cluster's endpoint attribute: the packs cannot read a port from an attribute.
    Validations.of(this.securityGroup).acknowledge(
      {
        id: 'PCI.DSS.321-EC2RestrictedCommonPorts',
        reason:
          'The only ingress is PostgreSQL from the rotation function’s security group; its port is the cluster endpoint’s attribute, which the rule cannot resolve at synthesis.',
      },
      {
        id: 'PCI.DSS.321-EC2RestrictedSSH',
        reason:
          'The only ingress is PostgreSQL from the rotation function’s security group; no SSH, and its port is the cluster endpoint’s attribute, which the rule cannot resolve at synthesis.',
      },
    );

    if (!protectedData) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: `${settings.title} holds test data only and is recreated at will; production-shaped environments have deletion protection.`,
      });
    }
  }

  /**
   * What a service needs to reach the database as its own user: the rds-data calls on this cluster, and
   * reading its own credentials secret (the Data API reads it as the caller) and no other, whose key decrypts
   * only through Secrets Manager.
   *
   * Written as the caller's own IAM statements rather than CDK's `cluster.grantDataApiAccess`: that also
   * names the caller's role in this key's policy, and with the callers in another stack that reference would
   * run both ways between the stacks. The key policy already trusts the account's IAM policies.
   */
  public grantDataApiAccess(grantee: iam.IGrantable, role: ServiceRole): void {
    this.#grantDataApi(grantee, [this.serviceSecrets[role]]);
  }

  /**
   * What the migrations need: the Data API as the master user, and reading every service's secret, whose
   * password they give its user.
   */
  public grantMigrationAccess(grantee: iam.IGrantable): void {
    this.#grantDataApi(grantee, [this.secret, ...Object.values(this.serviceSecrets)]);
  }

  /**
   * Schedules the service secrets' rotations only once `dependency` (the migrations) is in place: Secrets
   * Manager rotates a secret as soon as its schedule exists, and the multi-user rotation makes its second user a
   * member of the role, so the role must exist and sign in first. (The schedule only: the rotation functions
   * sit under the cluster, which the migrations wait for.)
   */
  public rotateServiceSecretsAfter(dependency: IDependable): void {
    for (const secret of Object.values(this.serviceSecrets)) {
      const schedule = secret.node.tryFindChild('RotationSchedule');
      if (schedule === undefined)
        throw new Error(`PaymentsDatabase: ${secret.node.path} has no rotation schedule`);
      schedule.node.addDependency(dependency);
    }
  }

  #grantDataApi(grantee: iam.IGrantable, secrets: readonly secretsmanager.ISecret[]): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'rds-data:BatchExecuteStatement',
        'rds-data:BeginTransaction',
        'rds-data:CommitTransaction',
        'rds-data:ExecuteStatement',
        'rds-data:RollbackTransaction',
      ],
      resourceArns: [this.cluster.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: secrets.map((secret) => secret.secretArn),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
      },
    });
  }
}

export interface DatabaseMigrationsProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
  readonly database: PaymentsDatabase;
}

/** The migration files, whose checksum makes the custom resource run again when one is added. */
const MIGRATIONS_DIR = join(REPOSITORY_ROOT, 'database', 'migrations');

export class DatabaseMigrations extends Construct {
  /** The custom resource's handler (`infra/functions/migrate-database.ts`). */
  public readonly function: ReturnType<typeof nodeFunction>;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: DatabaseMigrationsProps) {
    super(scope, id);
    const { settings, vpc, logsKey, database } = props;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description:
        'Database migrations: no inbound; HTTPS out (Data API, Lambda, the CloudFormation response URL)',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs');

    this.function = nodeFunction(this, 'Function', {
      settings,
      vpc,
      logsKey,
      securityGroups: [securityGroup],
      entry: 'infra/functions/migrate-database.ts',
      serviceName: 'migrate-database',
      description: 'Applies the payments database migrations through the Data API at deployment',
      // migrate() waits up to 10 minutes for another runner's lock.
      timeout: Duration.minutes(14),
      environment: {
        DATABASE_CLUSTER_ARN: database.cluster.clusterArn,
        DATABASE_SECRET_ARN: database.secret.secretArn,
        DATABASE_NAME: database.databaseName,
      },
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        // migrate() reads its SQL files beside the bundle (new URL('./migrations/', import.meta.url)).
        afterBundling: (inputDir: string, outputDir: string) => [
          `mkdir -p "${outputDir}/migrations"`,
          `cp "${inputDir}"/database/migrations/*.sql "${outputDir}/migrations/"`,
        ],
      },
    });
    database.grantMigrationAccess(this.function);

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      encryptionKey: logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: providerLogs,
      vpc,
      vpcSubnets: { subnetGroupName: SubnetGroups.application },
      securityGroups: [securityGroup],
    });
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK custom resource framework function logs with the AWS maintained basic execution policy.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'The CDK custom resource framework function runs in the VPC and needs the AWS maintained VPC access policy.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.function)}.Arn>:*]`,
        reason:
          'The framework invokes any version of the migrations function (the :* suffix), and only that function.',
      },
    );
    acknowledgeInlinePolicy(provider, 'The framework function may only invoke the migrations function.');

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::PaymentsDatabaseMigrations',
      properties: {
        ClusterArn: database.cluster.clusterArn,
        SecretArn: database.secret.secretArn,
        Database: database.databaseName,
        // Role → its secret: the users to let sign in once migrated (a new or replaced secret runs it again).
        ServiceSecrets: Object.fromEntries(
          Object.entries(database.serviceSecrets).map(([role, secret]) => [role, secret.secretArn]),
        ),
        MigrationsChecksum: migrationsChecksum(),
      },
    });
    // The writer must be up before the Data API can run anything.
    this.resource.node.addDependency(database.cluster);
    database.rotateServiceSecretsAfter(this.resource);
  }
}

/** SHA-256 over the migration files' names and text: a new or changed file changes it. */
function migrationsChecksum(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort()) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(MIGRATIONS_DIR, file), 'utf8').replace(/\r\n/g, '\n'));
  }
  return hash.digest('hex');
}
