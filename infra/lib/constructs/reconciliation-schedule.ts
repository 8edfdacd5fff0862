/**
 * Runs the reconcile function on a schedule: an EventBridge rule every `reconciliation.everyMinutes` of the
 * topology (system/topology.ts; 15), in every environment. Each run compares the gateway's charges with the
 * payments and records its findings for the operator console's follow-up list (tasks/reconcile/reconcile.ts).
 *
 * EventBridge invokes the function asynchronously, at least once. A run is idempotent (a finding found again is
 * brought up to date, never added twice), so a repeat is harmless; one that fails is retried by Lambda, and an
 * invocation not delivered before the next run is due is dropped (that run does the same work). Locally there is
 * no schedule: `npm run reconcile` runs it once against `npm start`.
 *
 * @example
 * new ReconciliationSchedule(this, 'Reconciliation', { settings, reconcile: taskFunctions.reconcile });
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { topologyFor } from '../../../system/topology.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface ReconciliationScheduleProps {
  readonly settings: EnvironmentSettings;
  /** The reconcile task function (TaskFunctions' `reconcile`). */
  readonly reconcile: lambda.IFunction;
}

export class ReconciliationSchedule extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconciliationScheduleProps) {
    super(scope, id);
    const { everyMinutes } = topologyFor(props.settings).reconciliation;
    this.rule = new events.Rule(this, 'Rule', {
      description: `${props.settings.title}: reconciles the payment gateway's charges with the payments every ${everyMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(everyMinutes)),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.reconcile, {
        // Delivery to Lambda only: once delivered, Lambda retries a failed run itself.
        retryAttempts: 2,
        // A run delivered after the next one is due would repeat it.
        maxEventAge: Duration.minutes(everyMinutes),
      }),
    );
  }
}
