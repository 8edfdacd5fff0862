/**
 * The operator console: pages and a JSON API (documented at `/docs`) over Step Functions, SQS, SNS and the
 * payments database (the RDS Data API, as the console's read-only role), reached only through the AWS SDK
 * clients, so the same console reads the embedded AWS and a real account. Built here, never listened on
 * (server.ts and system/main.ts listen; tests use inject()).
 *
 * Read-only unless `actionsEnabled`: stop, redrive, decisions on payments and dead-letter redrives answer 403
 * without it, and their buttons are not shown.
 *
 * @example
 * const app = await buildOpsConsole({ config: { awsEndpointUrl: 'http://127.0.0.1:4566' } });
 * const response = await app.inject({ method: 'GET', url: '/api/state-machines' });
 * await app.close();
 */
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import fp from 'fastify-plugin';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { type AwsErrorAnswer, answerForAwsError } from './aws-errors.ts';
import { type OpsConsoleConfigInput, opsConfigPlugin } from './config.ts';
import { OpsConsoleError } from './errors.ts';
import { errorPage } from './pages/error-page.ts';
import { sendPage } from './pages/respond.ts';
import { opsAwsClientsPlugin } from './plugins/aws-clients.ts';
import { loopbackGuard } from './plugins/loopback-guard.ts';
import { opsServicesPlugin } from './plugins/services.ts';
import alertsRoutes from './routes/alerts/index.ts';
import executionsRoutes from './routes/executions/index.ts';
import followUpRoutes from './routes/follow-up/index.ts';
import homeRoutes from './routes/home/index.ts';
import paymentsRoutes from './routes/payments/index.ts';
import queuesRoutes from './routes/queues/index.ts';
import stateMachinesRoutes from './routes/state-machines/index.ts';

/** The only bodies are a stop's optional error and cause, and a decision (its reason is at most 1000 characters). */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface OpsConsoleOptions {
  readonly config?: OpsConsoleConfigInput;
  /** Fastify's own options (logger, timeouts). */
  readonly fastify?: FastifyServerOptions;
}

/** Builds the console and waits until it is ready. */
export async function buildOpsConsole(options: OpsConsoleOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    // Pages poll while an execution runs: a line per read would drown what matters (changes, errors).
    logController: new LogController({ disableRequestLogging: (request) => request.method === 'GET' }),
    ...options.fastify,
  });
  await app.register(opsConsoleApp, { config: options.config ?? {} });
  await app.ready();
  return app;
}

/** Everything, as one plugin; not encapsulated, so the root instance has its decorators and error handler. */
export const opsConsoleApp = fp(buildConsole, { name: 'ops-console-app', fastify: '5.x' });

async function buildConsole(
  fastify: FastifyInstance,
  options: { config: OpsConsoleConfigInput },
): Promise<void> {
  fastify.setValidatorCompiler(validatorCompiler);
  fastify.setSerializerCompiler(serializerCompiler);
  fastify.setErrorHandler(errorHandler);
  fastify.setNotFoundHandler((request, reply) =>
    answer(request, reply, {
      statusCode: 404,
      code: 'not_found',
      message: `Nothing at ${request.method} ${request.url.split('?')[0]}`,
    }),
  );

  await fastify.register(loopbackGuard);
  await fastify.register(opsConfigPlugin, { config: options.config });
  await fastify.register(opsAwsClientsPlugin);
  await fastify.register(opsServicesPlugin);

  await fastify.register(swagger, {
    openapi: {
      info: {
        title: 'Payment-to-vend operator console',
        description:
          'Executions of the state machines (PaymentToVend and any other) with the real reasons they failed, each execution in full; payments (searched by id, meter or status), each with its timeline, vend attempts, follow-up, audit trail, queue messages and alerts; what needs following up (open payments, the follow-up and dead-letter queues); the on-call alerts. Stop and redrive executions, decisions on open payments (re-vend, record a UTRN, refund, recheck a charge) and dead-letter redrives when the console runs with --enable-actions.',
        version: '1.0.0',
      },
    },
    transform: jsonSchemaTransform,
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });
  await fastify.register(fastifyStatic, {
    root: fileURLToPath(new URL('./public/', import.meta.url)),
    prefix: '/assets/',
    decorateReply: false,
    cacheControl: false,
  });

  await fastify.register(homeRoutes);
  await fastify.register(stateMachinesRoutes);
  await fastify.register(executionsRoutes);
  await fastify.register(queuesRoutes);
  await fastify.register(paymentsRoutes);
  await fastify.register(followUpRoutes);
  await fastify.register(alertsRoutes);
}

interface Answer extends AwsErrorAnswer {
  readonly field?: string;
}

/**
 * The one error handler: a request's mistakes and AWS's refusals are answered in words an operator can act
 * on (which are AWS's own: this is their console); anything else is logged and hidden.
 */
function errorHandler(
  this: FastifyInstance,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const [first] = error.validation;
    const path = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '';
    const field = path || error.validationContext || 'request';
    return answer(request, reply, {
      statusCode: 400,
      code: 'invalid_request',
      message: first ? `${field}: ${first.message}` : 'The request is invalid',
      field,
    });
  }
  if (error instanceof OpsConsoleError) {
    request.log.info({ code: error.code, statusCode: error.statusCode }, 'request refused');
    return answer(request, reply, { statusCode: error.statusCode, code: error.code, message: error.message });
  }
  const aws = answerForAwsError(error);
  if (aws !== undefined) {
    request.log[aws.statusCode >= 500 ? 'warn' : 'info'](
      { err: error, statusCode: aws.statusCode },
      'AWS refused',
    );
    return answer(request, reply, aws);
  }
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed');
    return answer(request, reply, {
      statusCode: 500,
      code: 'internal_error',
      message: 'Something went wrong in the console; its log says what',
    });
  }
  return answer(request, reply, {
    statusCode,
    code: error.code ?? 'refused',
    message: error.code?.startsWith('FST_ERR_CTP') ? 'The request body could not be read' : error.message,
  });
}

/** JSON for the API (and anything not a page); an HTML page for the pages. */
function answer(request: FastifyRequest, reply: FastifyReply, { statusCode, code, message, field }: Answer) {
  const path = request.url.split('?')[0] ?? '';
  const wantsPage =
    request.method === 'GET' &&
    !path.startsWith('/api/') &&
    !path.startsWith('/docs') &&
    !path.startsWith('/assets/');
  if (wantsPage) {
    return sendPage(
      reply,
      // A request refused before the plugins load (a foreign Host) still gets a page.
      errorPage(
        {
          target: request.server.opsAws?.target ?? '',
          actionsEnabled: request.server.opsConfig?.actionsEnabled ?? false,
        },
        { statusCode, message },
      ),
      statusCode,
    );
  }
  return reply.code(statusCode).send({
    statusCode,
    error: httpReason(statusCode),
    code,
    message,
    ...(field === undefined ? {} : { field }),
  });
}

function httpReason(statusCode: number): string {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
  };
  return reasons[statusCode] ?? 'Error';
}
