/** Choice: the first rule that matches picks the next state, else the Default. */
import type { ChoiceState } from '../../definition/types.ts';
import { evaluateChoiceRule } from '../../language/choice-rules.ts';
import { queryPath } from '../../language/json-path.ts';
import { evaluateJsonataTemplate } from '../../language/jsonata.ts';
import { StatesError } from '../../language/states-error.ts';
import { stateScope } from '../context-object.ts';
import { completeState, effectiveInput, jsonataScope, jsonPathScope } from '../data-flow.ts';
import { type BranchRun, type Interpreter, nextStep, type StepResult } from '../interpreter.ts';

export async function choiceStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: ChoiceState,
): Promise<StepResult> {
  const raw = run.checkpoint.input;
  const scope = stateScope(interpreter, run, state);
  const input = effectiveInput(state, raw, scope);
  // A Choice has no result: what it passes on is its input, shaped by the matching rule's Output and Assign.
  const flow = { rawInput: scope.queryLanguage === 'JSONata' ? raw : input, result: input };
  for (const rule of state.Choices) {
    let matched: boolean;
    if (scope.queryLanguage === 'JSONata') {
      const condition = await evaluateJsonataTemplate(
        rule.Condition ?? false,
        jsonataScope(scope, { input: raw }),
        'Condition',
      );
      if (typeof condition !== 'boolean') {
        throw new StatesError(
          'States.QueryEvaluationError',
          `The Condition field of a Choice rule must evaluate to a boolean, but it returned ${JSON.stringify(condition)}`,
        );
      }
      matched = condition;
    } else {
      matched = evaluateChoiceRule(rule, (path) => queryPath(path, jsonPathScope(input, scope)));
    }
    if (!matched) continue;
    const fields = {
      Output: rule.Output ?? state.Output,
      Assign: rule.Assign ?? state.Assign,
      OutputPath: state.OutputPath,
      ResultPath: null,
    };
    const outcome = await completeState(fields, flow, scope, 'input');
    return nextStep(run, state, outcome, rule.Next);
  }
  if (state.Default === undefined) {
    throw new StatesError('States.NoChoiceMatched', 'No Matches!');
  }
  const outcome = await completeState(
    { Output: state.Output, Assign: state.Assign, OutputPath: state.OutputPath, ResultPath: null },
    flow,
    scope,
    'input',
  );
  return nextStep(run, state, outcome, state.Default);
}
