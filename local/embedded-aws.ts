/**
 * The embedded AWS in one call: the Step Functions engine behind the AWS JSON front door.
 * `npm start` uses it with a data directory; tests use it in memory on a free port.
 *
 * @example
 * const aws = await startEmbeddedAws({ port: 0, dataDir: null, integrations });
 * const sfn = new SFNClient({ endpoint: aws.endpoint, ... });
 * await aws.close();
 */
import type { AddressInfo } from 'node:net';
import { createAwsServer } from './aws/server.ts';
import { createStepFunctionsService } from './stepfunctions/api/service.ts';
import { StepFunctionsEngine } from './stepfunctions/engine/engine.ts';
import { InProcessIntegrations, type ServiceIntegrations } from './stepfunctions/integrations.ts';

export interface EmbeddedAwsOptions {
  readonly port?: number;
  readonly host?: string;
  /** Folder for all state, or null to keep it in memory. */
  readonly dataDir: string | null;
  readonly region?: string;
  readonly accountId?: string;
  /** How Task states reach services; the default knows none. */
  readonly integrations?: ServiceIntegrations;
}

export interface EmbeddedAws {
  readonly endpoint: string;
  readonly port: number;
  readonly stepFunctions: StepFunctionsEngine;
  close(): Promise<void>;
}

export async function startEmbeddedAws(options: EmbeddedAwsOptions): Promise<EmbeddedAws> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stepFunctions = await StepFunctionsEngine.open({
    dataDir: options.dataDir,
    integrations: options.integrations ?? new InProcessIntegrations(),
    region,
    accountId,
  });
  const server = createAwsServer({
    services: [createStepFunctionsService(stepFunctions)],
    region,
    accountId,
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4566, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stepFunctions,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await stepFunctions.close();
    },
  };
}
