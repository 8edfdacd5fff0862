/**
 * The console's services over the AWS clients, one per side of the console, decorated for the routes.
 * Payments and decisions (issue #11, later) belong here beside them.
 */
import fp from 'fastify-plugin';
import { ExecutionsService } from '../executions/executions-service.ts';
import { QueuesService } from '../queues/queues-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    executions: ExecutionsService;
    queues: QueuesService;
  }
}

export const opsServicesPlugin = fp(
  async (fastify) => {
    fastify.decorate('executions', new ExecutionsService({ sfn: fastify.opsAws.sfn }));
    fastify.decorate('queues', new QueuesService({ sqs: fastify.opsAws.sqs }));
  },
  { name: 'ops-services', dependencies: ['ops-aws-clients'], fastify: '5.x' },
);
