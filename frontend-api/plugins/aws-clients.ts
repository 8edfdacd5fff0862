/**
 * The AWS SDK v3 clients, built once per app from the configuration and destroyed when it closes. Locally
 * only the endpoint differs (the embedded AWS); on AWS the default credential chain and endpoints apply.
 */
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SFNClient } from '@aws-sdk/client-sfn';
import fp from 'fastify-plugin';

export interface AwsClients {
  readonly sfn: SFNClient;
  readonly rdsData: RDSDataClient;
}

declare module 'fastify' {
  interface FastifyInstance {
    aws: AwsClients;
  }
}

export const awsClientsPlugin = fp(
  async (fastify) => {
    const { awsEndpointUrl, region } = fastify.config;
    // A loopback endpoint is the embedded AWS, which takes any credentials; anything else uses the default chain.
    const local =
      awsEndpointUrl !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(awsEndpointUrl);
    const common = {
      region,
      ...(awsEndpointUrl ? { endpoint: awsEndpointUrl } : {}),
      ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    };
    // disableHostPrefix: a local endpoint has no `sync-` host for the prefixed operations.
    const clients: AwsClients = {
      sfn: new SFNClient({ ...common, ...(local ? { disableHostPrefix: true } : {}) }),
      rdsData: new RDSDataClient(common),
    };
    fastify.decorate('aws', clients);
    fastify.addHook('onClose', async () => {
      clients.sfn.destroy();
      clients.rdsData.destroy();
    });
  },
  { name: 'aws-clients', dependencies: ['config'], fastify: '5.x' },
);
