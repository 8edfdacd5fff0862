/**
 * Prints each on-call alert (a publish to the OnCall topic) as `ON-CALL ALERT <time> <subject>: <message>`, as
 * `npm start` shows them; `since` replays those published earlier, such as the pages of executions resumed during
 * the start, before this listened.
 */
import type { PaymentSystemWithProviders } from './payment-system.ts';

export function printOnCallAlerts(system: PaymentSystemWithProviders, since: number): void {
  system.aws.sns.onPublished(
    (alert) => {
      if (alert.topicArn !== system.onCallTopicArn) return;
      const at = new Date(alert.publishedAt).toISOString();
      console.log(`ON-CALL ALERT ${at} ${alert.subject ?? '(no subject)'}: ${alert.message}`);
    },
    { since },
  );
}
