/** Schemas every resource's routes share: errors, and the ARNs in paths. */
import { z } from 'zod';

export const ErrorSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  code: z.string().optional(),
  message: z.string(),
  field: z.string().optional(),
});

export const StateMachineArnSchema = z
  .string()
  .regex(/^arn:[\w-]+:states:[\w-]*:\d*:stateMachine:[^:]{1,80}$/, 'must be a state machine ARN');

export const ExecutionArnSchema = z
  .string()
  .regex(/^arn:[\w-]+:states:[\w-]*:\d*:execution:[^:]{1,80}:[^:]{1,80}$/, 'must be an execution ARN');
