/**
 * The payments store: the front-end's part of the payments repository (database/payments-repository.ts),
 * accepting top-ups and reading payments and their events through the RDS Data API, as `fastify.payments`.
 *
 * @example
 * const outcome = await fastify.payments.acceptPayment({ idempotencyKey, requestHash, payment, response });
 * if (outcome.kind === 'replay') reply.code(outcome.statusCode).send(outcome.response);
 */
import fp from 'fastify-plugin';
import { DataApi } from '../../database/data-api.ts';
import { DataApiPaymentsRepository, type FrontEndPayments } from '../../database/payments-repository.ts';

declare module 'fastify' {
  interface FastifyInstance {
    payments: FrontEndPayments;
  }
}

export const paymentsStorePlugin = fp(
  async (fastify) => {
    const { resourceArn, secretArn, database } = fastify.config.database;
    const payments: FrontEndPayments = new DataApiPaymentsRepository(
      new DataApi(fastify.aws.rdsData, { resourceArn, secretArn, database }),
    );
    fastify.decorate('payments', payments);
  },
  { name: 'payments-store', dependencies: ['config', 'aws-clients'], fastify: '5.x' },
);
