/**
 * The task Lambdas' configuration, read from their environment variables and validated once at module load,
 * so a misconfigured function fails at its cold start with the variable named, not at its first call.
 *
 * @example
 * const database = databaseConfig(process.env);
 * // { resourceArn: 'arn:aws:rds:…:cluster:payments', secretArn: 'arn:aws:secretsmanager:…', database: 'payments' }
 */
import { z } from 'zod';
import { type ApiKeySource, apiKeyFromSecret } from './provider-credentials.ts';

const DatabaseEnvironmentSchema = z.object({
  DATABASE_CLUSTER_ARN: z.string().startsWith('arn:'),
  DATABASE_SECRET_ARN: z.string().startsWith('arn:'),
  DATABASE_NAME: z.string().min(1).default('payments'),
});

const PaymentGatewayEnvironmentSchema = z.object({
  PAYMENT_GATEWAY_URL: z.url(),
  PAYMENT_GATEWAY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN: z.string().startsWith('arn:').optional(),
});

const VendingVendorEnvironmentSchema = z.object({
  VENDING_VENDOR_URL: z.url(),
  VENDING_VENDOR_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  VENDING_VENDOR_CREDENTIALS_SECRET_ARN: z.string().startsWith('arn:').optional(),
});

type Environment = Readonly<Record<string, string | undefined>>;

/** Which database the Data API reaches. */
export interface DatabaseConfig {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

export function databaseConfig(environment: Environment): DatabaseConfig {
  const env = DatabaseEnvironmentSchema.parse(environment);
  return {
    resourceArn: env.DATABASE_CLUSTER_ARN,
    secretArn: env.DATABASE_SECRET_ARN,
    database: env.DATABASE_NAME,
  };
}

/** Where a provider is, how long to wait for it, and the API key to present (from Secrets Manager on AWS). */
export interface ProviderConfig {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly apiKey: ApiKeySource;
}

export function paymentGatewayConfig(environment: Environment): ProviderConfig {
  const env = PaymentGatewayEnvironmentSchema.parse(environment);
  return {
    baseUrl: env.PAYMENT_GATEWAY_URL,
    timeoutMs: env.PAYMENT_GATEWAY_TIMEOUT_MS,
    apiKey: apiKeyFromSecret(env.PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN),
  };
}

export function vendingVendorConfig(environment: Environment): ProviderConfig {
  const env = VendingVendorEnvironmentSchema.parse(environment);
  return {
    baseUrl: env.VENDING_VENDOR_URL,
    timeoutMs: env.VENDING_VENDOR_TIMEOUT_MS,
    apiKey: apiKeyFromSecret(env.VENDING_VENDOR_CREDENTIALS_SECRET_ARN),
  };
}
