/**
 * Reads the compliance findings of an app in tests: synthesizes it (which runs the packs `applyCompliance`
 * registered) and returns every finding nobody acknowledged, so a test can expect none.
 *
 * @example
 * const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
 * buildStages(app, environments());
 * expect(unsuppressedFindings(app)).toEqual([]);
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Errors } from 'aws-cdk-lib';
import { COMPLIANCE_PACKS, isComplianceApplied } from '../lib/compliance.ts';

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
  if (!isComplianceApplied(app)) {
    throw new Error(
      'unsuppressedFindings: nothing in this app called applyCompliance, so nothing would be checked',
    );
  }
  try {
    app.synth();
  } catch (error) {
    // Synthesis stops on an error-level finding after writing the report; anything else is a real failure.
    if (!Errors.isValidationError(error) || error.name !== 'ValidationFailed') throw error;
  }
  const reportFile = join(app.outdir, 'validation-report.json');
  // CDK writes the report whenever a validation plugin ran, empty when nothing was found.
  if (!existsSync(reportFile)) throw new Error(`unsuppressedFindings: no validation report in ${app.outdir}`);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
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
