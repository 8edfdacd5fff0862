/**
 * The front-end app: the payments HTTP API, the events WebSocket, the customer page at `/`, OpenAPI at
 * `/docs` and `/health`. Built here, never listened on (server.ts listens; tests use inject()/injectWS()).
 *
 * @example
 * const app = await buildApp({ config: { stateMachineArn, database: { resourceArn, secretArn } } });
 * const response = await app.inject({ method: 'GET', url: '/health' });
 * await app.close();
 */
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { withFrontendLogging } from './logging.ts';
import { awsClientsPlugin } from './plugins/aws-clients.ts';
import { configPlugin, type FrontendConfigInput } from './plugins/config.ts';
import { eventTailPlugin } from './plugins/event-tail.ts';
import { paymentsStorePlugin } from './plugins/payments-store.ts';
import { cardDataGuard, findCardDataInRequest } from './request-guards/card-data-guard.ts';
import { cardDataRefused, RequestRefusedError } from './request-guards/errors.ts';
import { jsonBodyGuard } from './request-guards/json-body.ts';
import { upgradeGuard } from './request-guards/upgrades.ts';
import { noteRoutePaths, wrongMethodRoutes } from './request-guards/wrong-routes.ts';
import healthRoutes from './routes/health/index.ts';
import paymentsRoutes from './routes/payments/index.ts';

/** Request bodies are a few small fields. */
export const BODY_LIMIT_BYTES = 16 * 1024;
/** Clients send nothing on the events socket. */
export const WEBSOCKET_MAX_PAYLOAD_BYTES = 1024;

export interface AppOptions {
  /** Defaults to the environment (see plugins/config.ts). */
  readonly config?: FrontendConfigInput;
  /**
   * Fastify's own options (logger, timeouts); server.ts passes them. A logger, when on, always has the
   * serializers and redactions of logging.ts.
   */
  readonly fastify?: FastifyServerOptions;
}

/** Builds the app and waits until it is ready. */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const logger = options.fastify?.logger ?? (process.env.FRONTEND_TEST_LOG ? { level: 'debug' } : false);
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    frameworkErrors: refuseUnroutableUrl,
    ...options.fastify,
    ...(options.fastify?.loggerInstance === undefined ? { logger: withFrontendLogging(logger) } : {}),
  });
  await app.register(frontendApp, { config: options.config });
  await app.ready();
  return app;
}

/**
 * Everything, as one plugin on a bare Fastify instance. Not encapsulated (fastify-plugin), so the root
 * instance sees its decorators (`injectWS`, `config`, ...) and its error handler.
 */
export const frontendApp = fp(buildFrontend, { name: 'frontend-app', fastify: '5.x' });

async function buildFrontend(
  fastify: FastifyInstance,
  options: { config?: FrontendConfigInput | undefined },
): Promise<void> {
  fastify.setValidatorCompiler(validatorCompiler);
  fastify.setSerializerCompiler(serializerCompiler);
  fastify.setErrorHandler(errorHandler);

  // First of all, so that its onRequest hook runs before any other. @fastify/websocket routes each WebSocket
  // handshake through Fastify on the socket Node's server has handed over, which nothing else will ever close:
  // its onRequest hook marks the request (`request.ws`), and its onResponse hook destroys the socket of a marked
  // one answered over HTTP. A guard that refuses in onRequest ends the hooks there, so a handshake refused by a
  // guard registered before it was never marked and kept its socket open for good (fuzzer findings #8, #43).
  await fastify.register(websocket, { options: { maxPayload: WEBSOCKET_MAX_PAYLOAD_BYTES } });
  // Then, so every route and the 404 refuse card data and hostile bodies before anything else reads them.
  await fastify.register(cardDataGuard);
  await fastify.register(jsonBodyGuard);
  await fastify.register(upgradeGuard);
  const routePaths = noteRoutePaths(fastify);

  await fastify.register(configPlugin, { config: options.config });
  await fastify.register(awsClientsPlugin);
  await fastify.register(paymentsStorePlugin);
  await fastify.register(eventTailPlugin);

  await fastify.register(rateLimit, {
    global: true,
    max: fastify.config.rateLimitMax,
    timeWindow: '1 minute',
    // Per client address (behind the ALB, set TRUST_PROXY so it is the caller's); an upgrade may have none.
    keyGenerator: (request) => request.ip ?? 'unknown',
  });
  await fastify.register(swagger, {
    openapi: {
      info: {
        title: 'Payment-to-vend front-end',
        description: 'Top up a prepayment smart meter by card, and follow the top-up live.',
        version: '1.0.0',
      },
    },
    transform: jsonSchemaTransform,
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });
  await fastify.register(fastifyStatic, {
    root: fileURLToPath(new URL('./public/', import.meta.url)),
    prefix: '/',
    decorateReply: false,
  });

  await fastify.register(healthRoutes);
  await fastify.register(paymentsRoutes);
  await fastify.register(wrongMethodRoutes, { routePaths });
}

/**
 * The answer when the router cannot read a URL (a path parameter that does not percent-decode). It comes
 * before any hook, and Fastify's own would quote the path, card numbers and all.
 */
function refuseUnroutableUrl(
  _error: FastifyError,
  request: Parameters<NonNullable<FastifyServerOptions['frameworkErrors']>>[1],
  reply: Parameters<NonNullable<FastifyServerOptions['frameworkErrors']>>[2],
) {
  const field = findCardDataInRequest(request.raw);
  const refusal =
    field !== undefined
      ? cardDataRefused(field)
      : new RequestRefusedError({
          statusCode: 400,
          code: 'invalid_url',
          message: 'The URL could not be read',
          field: 'path',
        });
  // No hook runs before this answer, @fastify/websocket's neither: the socket of a handshake refused here is
  // destroyed once the answer is out, as that plugin's onResponse hook does for the others. (A request that
  // merely names an Upgrade, not handed over as one, loses its keep-alive: harmless after a refusal.)
  if (request.headers.upgrade !== undefined) {
    const socket = reply.raw.socket;
    reply.raw.once('finish', () => socket?.destroy());
  }
  return answerRefusal(refusal, request, reply);
}

/** The one error handler: logs everything, names the field of a 400, hides the details of a 5xx. */
function errorHandler(
  this: FastifyInstance,
  error: FastifyError,
  request: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[1],
  reply: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[2],
) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const [first] = error.validation;
    const where = error.validationContext;
    const path = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '';
    const field =
      where === 'headers' && path === 'idempotency-key' ? 'Idempotency-Key' : path || where || 'body';
    request.log.info({ field, validationContext: where }, 'request refused: invalid');
    return reply.code(400).send({
      statusCode: 400,
      error: 'Bad Request',
      code: 'invalid_request',
      message: first ? `${field}: ${first.message}` : 'The request is invalid',
      field,
    });
  }
  if (error instanceof RequestRefusedError) return answerRefusal(error, request, reply);
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Something went wrong on our side; please try again',
    });
  }
  // A body that does not parse may hold anything, card numbers included: neither echo nor log its text.
  const bodyParseError = error.code?.startsWith('FST_ERR_CTP') === true;
  request.log.info(
    { code: error.code, statusCode, ...(bodyParseError ? {} : { message: error.message }) },
    'request refused',
  );
  return reply.code(statusCode).send({
    statusCode,
    error: httpReason(statusCode),
    ...(error.code ? { code: error.code } : {}),
    message: bodyParseError ? 'The request body could not be read' : error.message,
  });
}

/** Logs a refusal (card data as a warning) and answers it: the usual error body, and the refusal's headers. */
function answerRefusal(
  refusal: RequestRefusedError,
  request: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[1],
  reply: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[2],
) {
  const level = refusal.code === 'card_data_refused' ? 'warn' : 'info';
  request.log[level](
    { code: refusal.code, statusCode: refusal.statusCode, field: refusal.field },
    'request refused',
  );
  return reply
    .code(refusal.statusCode)
    .headers(refusal.headers)
    .send({
      statusCode: refusal.statusCode,
      error: httpReason(refusal.statusCode),
      code: refusal.code,
      message: refusal.message,
      ...(refusal.field === undefined ? {} : { field: refusal.field }),
    });
}

function httpReason(statusCode: number): string {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    429: 'Too Many Requests',
  };
  return reasons[statusCode] ?? 'Error';
}
