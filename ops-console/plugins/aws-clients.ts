/**
 * The AWS SDK v3 clients the console reads AWS through (Step Functions, SQS, SNS and the RDS Data API), built once and destroyed when the app closes. With
 * an endpoint they reach it (the embedded AWS, or anything speaking the same APIs); without one, AWS itself
 * with the operator's credentials from the SDK's default chain (a `--profile`, AWS_PROFILE, SSO, ...).
 */
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import fp from 'fastify-plugin';

export interface OpsAwsClients {
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  /** The on-call topic's alerts reach the console through a subscription of its own queue. */
  readonly sns: SNSClient;
  /** The payments database, read as the console's own role (used only when a database is configured). */
  readonly rdsData: RDSDataClient;
  /** Where the clients go, for the pages to say: the endpoint, or `AWS eu-west-2 (profile ops)`. */
  readonly target: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    opsAws: OpsAwsClients;
  }
}

/** The embedded AWS takes any credentials: one on this machine needs none of the operator's. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export const opsAwsClientsPlugin = fp(
  async (fastify) => {
    const { awsEndpointUrl, region, profile } = fastify.opsConfig;
    const loopback =
      awsEndpointUrl !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(awsEndpointUrl);
    const common = {
      ...(region !== undefined ? { region } : awsEndpointUrl !== undefined ? { region: 'us-east-1' } : {}),
      ...(awsEndpointUrl !== undefined ? { endpoint: awsEndpointUrl } : {}),
      ...(profile !== undefined ? { profile } : {}),
      ...(loopback && profile === undefined ? { credentials: LOCAL_CREDENTIALS } : {}),
    };
    // disableHostPrefix: StartSyncExecution and TestState would otherwise go to `sync-<host>`, which a local
    // endpoint does not have.
    const sfn = new SFNClient({
      ...common,
      ...(awsEndpointUrl !== undefined ? { disableHostPrefix: true } : {}),
    });
    const sqs = new SQSClient(common);
    const sns = new SNSClient(common);
    const rdsData = new RDSDataClient(common);
    // Without a region flag, the SDK finds one (AWS_REGION, the profile's); a call without any fails, and says so.
    const resolvedRegion = await sfn.config.region().catch(() => undefined);
    const target =
      awsEndpointUrl ??
      `AWS ${resolvedRegion ?? '(no region configured)'}${profile === undefined ? '' : ` (profile ${profile})`}`;
    fastify.decorate('opsAws', { sfn, sqs, sns, rdsData, target });
    fastify.addHook('onClose', async () => {
      sfn.destroy();
      sqs.destroy();
      sns.destroy();
      rdsData.destroy();
    });
  },
  { name: 'ops-aws-clients', dependencies: ['ops-config'], fastify: '5.x' },
);
