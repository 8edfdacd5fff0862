/**
 * The payments repository as the task Lambdas build it at their cold start: the Data API through the real
 * client (locally AWS_ENDPOINT_URL points it at the embedded AWS, reached in-process when it runs in this one:
 * aws-client-config.ts), the database named by the environment.
 */
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApi } from '../../database/data-api.ts';
import { DataApiPaymentsRepository } from '../../database/payments-repository.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { databaseConfig } from './config.ts';

export function paymentsRepositoryFrom(
  environment: Readonly<Record<string, string | undefined>>,
): DataApiPaymentsRepository {
  return new DataApiPaymentsRepository(
    new DataApi(new RDSDataClient(awsClientConfig(environment)), databaseConfig(environment)),
  );
}
