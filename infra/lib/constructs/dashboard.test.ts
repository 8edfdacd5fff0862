import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { monitoredResources, TEST_ENV } from '../../testing/monitored-resources.ts';
import { FlowDashboard } from './dashboard.ts';

describe('FlowDashboard', () => {
  let body: string;

  beforeAll(() => {
    const app = constructTestApp();
    const stack = new Stack(app, 'Dashboard', { env: TEST_ENV });
    new FlowDashboard(stack, 'Dashboard', {
      resources: monitoredResources(stack),
      dashboardName: 'PaymentToVend-test',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'PaymentToVend-test' });
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    // The body is a Fn::Join of literal JSON and tokens; the literal parts are what a reader sees.
    body = JSON.stringify(dashboard);
  });

  it.each([
    [
      'executions started, succeeded and failed',
      ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed'],
    ],
    ['task Lambda errors and duration', ['AWS/Lambda', 'Errors', 'Duration', 'charge', 'meter-vending']],
    [
      'queue depths and ages',
      ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'VendingFailure'],
    ],
    [
      'ALB requests, 5xx and latency',
      ['RequestCount', 'HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'TargetResponseTime'],
    ],
    ['ECS CPU and memory', ['AWS/ECS', 'CPUUtilization', 'MemoryUtilization']],
  ])('shows %s', (_what, needles) => {
    for (const needle of needles) expect(body).toContain(needle);
  });
});
