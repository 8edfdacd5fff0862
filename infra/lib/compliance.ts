/**
 * The compliance checks every environment is held to: cdk-nag's AWS Solutions and PCI DSS 3.2.1 packs,
 * run by CDK's policy validation at synthesis. An unacknowledged finding fails `cdk synth`; a finding that
 * is accepted is acknowledged beside its resource with `Validations.of(construct).acknowledge({ id, reason })`.
 *
 * Each pack checks only the constructs under the scope it was applied to. (A pack on its own checks the whole
 * app whichever stage it is registered on, so with one stage per environment every finding would be reported
 * once per stage.)
 *
 * @example
 * export class PaymentPlatformStage extends Stage {
 *   constructor(scope: Construct, id: string, props: PaymentPlatformStageProps) {
 *     super(scope, id, { env: { account: props.settings.account, region: props.settings.region } });
 *     // …stacks…
 *     applyCompliance(this);
 *   }
 * }
 */
import {
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  Validations,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The names the packs report under (the prefix of their rule ids), as they appear in the validation report. */
export const COMPLIANCE_PACKS = ['AwsSolutions', 'PCI.DSS.321'] as const;

/** Registers the AWS Solutions and PCI DSS 3.2.1 packs on `scope` (a Stage or App, or a construct inside one). */
export function applyCompliance(scope: IConstruct): void {
  checkedScopes.add(scope);
  Validations.of(scope).addPlugins(
    new ScopedNagPack(new AwsSolutionsChecks(scope), scope),
    new ScopedNagPack(new PCIDSS321Checks(scope), scope),
  );
}

const checkedScopes = new WeakSet<IConstruct>();

/** Whether `applyCompliance` was called on `scope` or on any construct under it. */
export function isComplianceApplied(scope: IConstruct): boolean {
  return complianceScopes(scope).length > 0;
}

/** The constructs under `root` (itself included) that `applyCompliance` was called on. */
export function complianceScopes(root: IConstruct): IConstruct[] {
  return root.node.findAll().filter((construct) => checkedScopes.has(construct));
}

/** A nag pack that checks the constructs under one scope rather than the whole app. */
class ScopedNagPack implements IPolicyValidationPlugin {
  public readonly name: string;
  public readonly version?: string;

  constructor(
    private readonly pack: NagPack,
    private readonly scope: IConstruct,
  ) {
    this.name = pack.name;
    if (pack.version !== undefined) this.version = pack.version;
  }

  public validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.pack.validateScope(this.scope);
  }
}

/**
 * Acknowledges PCI DSS 3.2.1's "no inline policies" on a construct whose role CDK gives an inline policy built
 * from grants. Each such policy belongs to one role, holds only that role's grants and goes with it; the
 * requirement behind the rule (7.1.2, least privilege) is what the grants express.
 */
export function acknowledgeInlinePolicy(construct: IConstruct, reason: string): void {
  Validations.of(construct).acknowledge({
    id: 'PCI.DSS.321-IAMNoInlinePolicy',
    reason: `Least-privilege grants to one role, kept with it as CDK generates them. ${reason}`,
  });
}

/**
 * Acknowledges the AWS managed policies every function in a VPC carries (basic execution, VPC access):
 * AWS keeps them current, and a hand-written copy would only drift from them.
 */
export function acknowledgeLambdaManagedPolicies(fn: IConstruct): void {
  Validations.of(fn).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWS maintains the basic execution policy (write to the function’s own log streams); a copy would only drift from it.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'AWS maintains the VPC access policy Lambda needs to manage the function’s network interfaces in the VPC.',
    },
  );
}
