/**
 * Reads the compliance findings of an app in tests: synthesizes it (which runs the packs `applyCompliance`
 * registered) and returns every finding nobody acknowledged, so a test can expect none; and every
 * acknowledgement that acknowledges nothing, so a test can expect none of those either.
 *
 * @example
 * const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
 * buildStages(app, environments());
 * expect(unsuppressedFindings(app)).toEqual([]);
 * expect(unusedAcknowledgements(app)).toEqual([]);
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, type CfnResource, Errors, Validations } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  type IApplyRule,
  NagRuleCompliance,
  type NagRuleResult,
  PCIDSS321Checks,
} from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { COMPLIANCE_PACKS, complianceScopes, isComplianceApplied } from '../lib/compliance.ts';

/** One unacknowledged finding: which rule, on which construct, and what it says. */
export interface NagFinding {
  /** e.g. `AwsSolutions-SQS3`, or `AwsSolutions-IAM5[Resource::*]` for one finding of a rule with several. */
  readonly ruleId: string;
  /** The construct path of the offending resource, e.g. `production/Stateful/Messaging/PaymentSuccess/Resource`. */
  readonly path: string;
  readonly message: string;
  /** `error` fails `cdk synth`; `warning` is printed. Both count as findings here. */
  readonly severity: string;
}

/** One acknowledgement: the rule it names, the construct it sits on (it covers everything under it), why. */
export interface NagAcknowledgement {
  /** As given to `Validations.acknowledge`, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly ruleId: string;
  readonly path: string;
  readonly reason: string;
}

/** The part of CDK's `validation-report.json` this reads. */
interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly violations: readonly {
      readonly ruleName: string;
      readonly description: string;
      readonly severity?: string;
      readonly violatingConstructs: readonly { readonly constructPath?: string }[];
    }[];
  }[];
}

/**
 * Synthesizes `app` and returns its unacknowledged compliance findings, sorted by path then rule. Throws when
 * the packs did not run (no stage called `applyCompliance`), so an empty list always means "checked and clean".
 *
 * Findings of CDK's built-in CloudFormation checks (template values CloudFormation would refuse) are included
 * too, their rule ids prefixed with the plugin's name (`CloudFormation-Validate::F3031`).
 */
export function unsuppressedFindings(app: App): NagFinding[] {
  const report = synthesizedReport(app, 'unsuppressedFindings');
  const packs = new Set<string>(COMPLIANCE_PACKS);
  const findings = new Map<string, NagFinding>();
  for (const pluginReport of report.pluginReports) {
    // The packs' rule ids carry their pack's name; other plugins' (CDK's own CloudFormation checks) get it.
    const prefix = packs.has(pluginReport.pluginName) ? '' : `${pluginReport.pluginName}::`;
    for (const violation of pluginReport.violations) {
      for (const construct of violation.violatingConstructs) {
        const finding: NagFinding = {
          ruleId: `${prefix}${violation.ruleName}`,
          path: construct.constructPath ?? '(unknown)',
          message: violation.description,
          severity: violation.severity ?? 'error',
        };
        findings.set(`${finding.path} ${finding.ruleId}`, finding);
      }
    }
  }
  return [...findings.values()].sort(
    (a, b) => a.path.localeCompare(b.path) || a.ruleId.localeCompare(b.ruleId),
  );
}

/**
 * The acknowledgements of the packs' rules in `app` that acknowledge nothing: no finding of their rule, on their
 * construct or under it, would be reported without them. Each acknowledgement should name exactly what it
 * covers, so one that matches nothing is stale, or misspelt and so not covering the finding it was written for.
 *
 * The packs drop an acknowledged finding without reporting it, so their rules are run here once more with every
 * finding kept, and each finding is matched to the acknowledgement the pack would have used: the nearest one on
 * the resource or its ancestors with the same rule id. (Acknowledgements of CDK's own checks, such as the ones
 * CDK's constructs add for `CloudFormation-Validate::…`, are not this app's to remove, and are not checked.)
 */
export function unusedAcknowledgements(app: App): NagAcknowledgement[] {
  synthesizedReport(app, 'unusedAcknowledgements');
  const acknowledgements = acknowledgementsIn(app).filter((ack) =>
    COMPLIANCE_PACKS.some((pack) => ack.ruleId.startsWith(`${pack}-`)),
  );
  const used = new Set<NagAcknowledgement>();
  for (const finding of everyPackFinding(app)) {
    for (
      let construct: IConstruct | undefined = finding.resource;
      construct;
      construct = construct.node.scope
    ) {
      const path = construct.node.path;
      const nearest = acknowledgements.find((ack) => ack.path === path && ack.ruleId === finding.ruleId);
      if (nearest !== undefined) {
        used.add(nearest);
        break;
      }
    }
  }
  return acknowledgements
    .filter((ack) => !used.has(ack))
    .sort((a, b) => a.path.localeCompare(b.path) || a.ruleId.localeCompare(b.ruleId));
}

/** Synthesizes `app` (once; later calls reuse the assembly) and reads CDK's validation report. */
function synthesizedReport(app: App, caller: string): ValidationReport {
  if (!isComplianceApplied(app)) {
    throw new Error(`${caller}: nothing in this app called applyCompliance, so nothing would be checked`);
  }
  try {
    app.synth();
  } catch (error) {
    // Synthesis stops on an error-level finding after writing the report; anything else is a real failure.
    if (!Errors.isValidationError(error) || error.name !== 'ValidationFailed') throw error;
  }
  const reportFile = join(app.outdir, 'validation-report.json');
  // CDK writes the report whenever a validation plugin ran, empty when nothing was found.
  if (!existsSync(reportFile)) throw new Error(`${caller}: no validation report in ${app.outdir}`);
  return JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
}

/** Every `Validations.acknowledge` in the app, as CDK records them in construct metadata. */
function acknowledgementsIn(app: App): NagAcknowledgement[] {
  const acknowledgements: NagAcknowledgement[] = [];
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // CDK files ids without a plugin prefix (the packs' ids) under `Annotation::`; the packs read them without it.
        acknowledgements.push({
          ruleId: id.replace(/^annotation::/i, ''),
          path: construct.node.path,
          reason,
        });
      }
    }
  }
  return acknowledgements;
}

/** A finding of a pack's rule, acknowledged or not. */
interface PackFinding {
  readonly ruleId: string;
  readonly resource: CfnResource;
}

/** The packs' findings under every scope `applyCompliance` checks, acknowledged ones included. */
function everyPackFinding(app: App): PackFinding[] {
  return complianceScopes(app).flatMap((scope) =>
    [new AwsSolutionsFindings(), new PciDss321Findings()].flatMap((pack) => {
      pack.validateScope(scope);
      return pack.findings;
    }),
  );
}

/**
 * Runs one rule as the pack would (a rule that throws counts as a finding, as the pack counts it) and returns its
 * findings, without asking whether anything acknowledges them.
 */
function findingsOf(packName: string, params: IApplyRule): PackFinding[] {
  const ruleId = `${packName}-${params.ruleSuffixOverride ?? params.rule.name}`;
  let result: NagRuleResult;
  try {
    result = params.rule(params.node);
  } catch {
    return [{ ruleId, resource: params.node }];
  }
  if (result === NagRuleCompliance.NON_COMPLIANT) return [{ ruleId, resource: params.node }];
  if (Array.isArray(result)) {
    return result.map((finding) => ({ ruleId: `${ruleId}[${finding}]`, resource: params.node }));
  }
  return [];
}

class AwsSolutionsFindings extends AwsSolutionsChecks {
  public readonly findings: PackFinding[] = [];
  protected override applyRule(params: IApplyRule): void {
    this.findings.push(...findingsOf(this.readPackName, params));
  }
}

class PciDss321Findings extends PCIDSS321Checks {
  public readonly findings: PackFinding[] = [];
  protected override applyRule(params: IApplyRule): void {
    this.findings.push(...findingsOf(this.readPackName, params));
  }
}
