/**
 * The API keys the task Lambdas present to the payment gateway and the vending vendor. On AWS each key is a
 * Secrets Manager secret (its ARN in PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN / VENDING_VENDOR_CREDENTIALS_SECRET_ARN;
 * the SecretString is the key itself, or JSON with an `apiKey` field), read through Powertools' cache so a warm
 * Lambda asks Secrets Manager at most every five minutes and picks up a rotated key without a redeploy.
 * Locally no secret is configured: the simulators take requests without a key.
 *
 * @example
 * const apiKey = apiKeyFromSecret(process.env.PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN);
 * await apiKey(); // 'sk_live_…' (cached for five minutes), or undefined locally
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';

/** Resolves the key to send, or undefined when none is configured. */
export type ApiKeySource = () => Promise<string | undefined>;

const CACHE_SECONDS = 300;

const SecretJsonSchema = z.object({ apiKey: z.string().min(1) });

/** The key held in `secretArn`; no secret, no key. `readSecret` is for tests. */
export function apiKeyFromSecret(
  secretArn: string | undefined,
  readSecret: (arn: string) => Promise<unknown> = (arn) => getSecret(arn, { maxAge: CACHE_SECONDS }),
): ApiKeySource {
  if (secretArn === undefined || secretArn === '') return async () => undefined;
  return async () => apiKeyOf(await readSecret(secretArn), secretArn);
}

function apiKeyOf(secret: unknown, secretArn: string): string {
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw new Error(`secret ${secretArn} holds no API key`);
  }
  const text = secret.trim();
  if (!text.startsWith('{')) return text;
  const parsed = SecretJsonSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`secret ${secretArn} is JSON without an "apiKey" field`);
  return parsed.data.apiKey;
}
