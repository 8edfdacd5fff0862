import { parseTaskResource } from '../integrations.ts';
import { checkChoiceRule, isTimestamp } from './choice-rules.ts';
import {
  intrinsicProblem,
  isIntrinsicCall,
  isJsonataTemplate,
  isPath,
  isReferencePath,
  jsonataProblem,
} from './expression-syntax.ts';
import {
  BRANCH_FIELDS,
  CATCHER_FIELDS,
  isJsonataField,
  LIMITS,
  PATH_FIELDS,
  PAYLOAD_TEMPLATE_FIELDS,
  PROCESSOR_FIELDS,
  REFERENCE_PATH_FIELDS,
  RETRIER_FIELDS,
  STATE_FIELDS,
  STATE_TYPES,
  TOP_LEVEL_FIELDS,
} from './field-rules.ts';
import { type JsonPointer, parseJsonSource } from './json-source.ts';
import { type DefinitionProblem, ProblemList } from './problems.ts';
import type { QueryLanguage, State, StateMachineDefinition, StateType } from './types.ts';

export type { DefinitionProblem } from './problems.ts';

export type ValidationResult =
  | { readonly ok: true; readonly definition: StateMachineDefinition }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * TestState's answer: the state on its own, and the same state as a one-state machine named `stateName`, so
 * callers that run whole machines can run it unchanged.
 */
export type StateValidationResult =
  | { readonly ok: true; readonly state: State; readonly definition: StateMachineDefinition }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

export type StateMachineType = 'STANDARD' | 'EXPRESS';

type JsonRecord = { readonly [key: string]: unknown };

/**
 * Parses and validates a whole state machine definition as CreateStateMachine, UpdateStateMachine and
 * ValidateStateMachineDefinition do. `type` decides the EXPRESS-only rules (no `.sync`, no
 * `.waitForTaskToken`, no activities).
 *
 * @example
 * const result = validateDefinition('{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}');
 * if (!result.ok) throw new Error(formatProblems(result.problems));
 * // Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next, ...'
 */
export function validateDefinition(
  definitionJson: string,
  options: { type?: StateMachineType } = {},
): ValidationResult {
  const parsed = parseJsonSource(definitionJson);
  if (!parsed.ok) {
    return {
      ok: false,
      problems: [{ code: 'INVALID_JSON_DESCRIPTION', message: parsed.message, location: parsed.location }],
    };
  }
  const problems = new ProblemList();
  const root = parsed.value;
  if (!isRecord(root)) {
    problems.schema('Definition must be a valid JSON object', null);
    return { ok: false, problems: problems.items };
  }
  const validator = new DefinitionValidator(problems, options.type ?? 'STANDARD', parsed.duplicateKeys);
  validator.checkMachine(root);
  if (problems.items.length > 0) return { ok: false, problems: problems.items };
  return { ok: true, definition: root as unknown as StateMachineDefinition };
}

/**
 * Validates one state's definition as TestState does: the state's own fields and rules, located from `/`
 * (`/Resource`, `/Retry[0]/BackoffRate`). What only makes sense inside a machine is not checked: whether
 * Next names an existing state, reachability, a terminal state, and (a guess, see the report) the presence
 * of Next or End. Nested machines of Parallel and Map are checked in full.
 *
 * @example
 * validateStateDefinition('{"Type":"Pass","Result":1,"End":true}') // { ok: true, state: {...}, definition: {...} }
 */
export function validateStateDefinition(
  stateJson: string,
  options: { type?: StateMachineType; stateName?: string } = {},
): StateValidationResult {
  const parsed = parseJsonSource(stateJson);
  if (!parsed.ok) {
    return {
      ok: false,
      problems: [{ code: 'INVALID_JSON_DESCRIPTION', message: parsed.message, location: parsed.location }],
    };
  }
  const problems = new ProblemList();
  const state = parsed.value;
  if (!isRecord(state)) {
    problems.schema('Definition must be a valid JSON object', null);
    return { ok: false, problems: problems.items };
  }
  const validator = new DefinitionValidator(problems, options.type ?? 'STANDARD', parsed.duplicateKeys);
  validator.checkState(state, [], {
    language: 'JSONPath',
    machineLanguage: 'JSONPath',
    executionType: options.type ?? 'STANDARD',
    standalone: true,
  });
  if (problems.items.length > 0) return { ok: false, problems: problems.items };
  const stateName = options.stateName ?? 'TestState';
  const definition = {
    StartAt: stateName,
    States: { [stateName]: state },
  } as unknown as StateMachineDefinition;
  return { ok: true, state: state as unknown as State, definition };
}

/**
 * The message of the InvalidDefinition error: every problem as `CODE: message at location`, joined with
 * `, ` inside `Invalid State Machine Definition: '...'`. A problem without a location prints `at null`, as
 * AWS does for MISSING_END_STATE; a JSON syntax error already ends with its `at [Source: ...]`.
 *
 * @example
 * formatProblems([{ code: 'MISSING_TRANSITION_TARGET', message: "Missing 'Next' target: pass3", location: '/States/pass1/Next' }])
 * // "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next'"
 */
export function formatProblems(problems: readonly DefinitionProblem[]): string {
  const parts = problems.map((problem) =>
    problem.code === 'INVALID_JSON_DESCRIPTION'
      ? `${problem.code}: ${problem.message}`
      : `${problem.code}: ${problem.message} at ${problem.location === '' ? 'null' : problem.location}`,
  );
  return `Invalid State Machine Definition: '${parts.join(', ')}'`;
}

interface StateContext {
  /** The state's inherited query language: the machine's, since nested machines inherit from the top. */
  readonly language: QueryLanguage;
  readonly machineLanguage: QueryLanguage;
  /** EXPRESS for an Express machine, and inside a distributed Map whose children run as EXPRESS. */
  readonly executionType: StateMachineType;
  /** TestState: a state checked on its own, outside any machine. */
  readonly standalone: boolean;
}

const QUERY_LANGUAGES: readonly QueryLanguage[] = ['JSONPath', 'JSONata'];

class DefinitionValidator {
  readonly #seenStateNames = new Set<string>();

  constructor(
    private readonly problems: ProblemList,
    private readonly machineType: StateMachineType,
    private readonly duplicateKeys: readonly JsonPointer[],
  ) {}

  checkMachine(root: JsonRecord): void {
    const missing = ['States', 'StartAt'].filter((field) => !(field in root));
    if (missing.length > 0) this.problems.required(missing, []);
    for (const field of Object.keys(root)) {
      if (!TOP_LEVEL_FIELDS.has(field)) this.problems.unsupported(field, []);
    }
    this.checkString(root, 'Comment', []);
    this.checkString(root, 'Version', []);
    if ('TimeoutSeconds' in root)
      this.checkInteger(root.TimeoutSeconds, ['TimeoutSeconds'], 1, LIMITS.timeoutSeconds);
    let machineLanguage: QueryLanguage = 'JSONPath';
    if ('QueryLanguage' in root) {
      this.checkQueryLanguageValue(root.QueryLanguage, ['QueryLanguage']);
      machineLanguage = resolveLanguage(root.QueryLanguage, 'JSONPath');
    }
    const context: StateContext = {
      language: machineLanguage,
      machineLanguage,
      executionType: this.machineType,
      standalone: false,
    };
    this.checkStates(root, [], context, true);
  }

  /** A machine or nested machine: StartAt, its States, their transitions and reachability. */
  private checkStates(owner: JsonRecord, at: JsonPointer, context: StateContext, topLevel: boolean): void {
    const startAt = owner.StartAt;
    if ('StartAt' in owner && typeof startAt !== 'string')
      this.problems.expectedType('STRING', [...at, 'StartAt']);
    if (!('States' in owner)) return;
    const states = owner.States;
    if (!isRecord(states)) {
      this.problems.expectedType('OBJECT', [...at, 'States']);
      return;
    }
    const statesAt = [...at, 'States'];
    for (const [name, state] of Object.entries(states)) {
      this.checkStateName(name, [...statesAt, name]);
      this.checkState(state, [...statesAt, name], context);
    }
    this.checkTransitions(states, statesAt);

    const names = new Set(Object.keys(states));
    if (typeof startAt === 'string' && !names.has(startAt)) {
      // Guessed wording: modelled on AWS's "Missing 'Next' target" message, naming the field that dangles.
      this.problems.add('MISSING_TRANSITION_TARGET', `Missing 'StartAt' target: ${startAt}`, [
        ...at,
        'StartAt',
      ]);
    }
    // Measured by others on AWS: a top-level workflow with no terminal state is refused on that ground
    // alone, and the reachability walk is not reported on top of it.
    if (topLevel && !Object.values(states).some(isTerminal)) {
      this.problems.add('MISSING_END_STATE', 'Workflow has no terminal state', null);
      return;
    }
    const reachable = reachableStates(states, typeof startAt === 'string' ? startAt : undefined);
    for (const name of names) {
      if (!reachable.has(name)) {
        this.problems.add('MISSING_TRANSITION_TARGET', `State "${name}" is not reachable.`, [
          ...statesAt,
          name,
        ]);
      }
    }
  }

  private checkStateName(name: string, at: JsonPointer): void {
    const duplicateInObject = this.duplicateKeys.some((pointer) => sameLocation(pointer, at));
    if (this.#seenStateNames.has(name) || duplicateInObject) {
      this.problems.add('DUPLICATE_STATE_NAME', `Duplicate State name: ${name}`, at);
    }
    this.#seenStateNames.add(name);
    if ([...name].length > LIMITS.stateNameLength) {
      // Guessed wording; the limit itself (80 characters) is documented.
      this.problems.add(
        'INVALID_STATE_NAME',
        `State name exceeds the maximum length of ${LIMITS.stateNameLength} characters`,
        at,
      );
    } else if (name.length === 0) {
      this.problems.add('INVALID_STATE_NAME', 'State name cannot be empty', at);
    }
  }

  private checkTransitions(states: JsonRecord, statesAt: JsonPointer): void {
    const names = new Set(Object.keys(states));
    for (const [name, state] of Object.entries(states)) {
      if (!isRecord(state)) continue;
      for (const [target, field, at] of transitionsOf(state, [...statesAt, name])) {
        if (!names.has(target))
          this.problems.add('MISSING_TRANSITION_TARGET', `Missing '${field}' target: ${target}`, at);
      }
    }
  }

  checkState(state: unknown, at: JsonPointer, context: StateContext): void {
    if (!isRecord(state)) {
      this.problems.expectedType('OBJECT', at);
      return;
    }
    if (!('Type' in state)) {
      this.problems.required(['Type'], at);
      return;
    }
    const type = state.Type;
    if (typeof type !== 'string' || !(STATE_TYPES as readonly string[]).includes(type)) {
      // Guessed wording, in the style of AWS's other enumeration messages.
      this.problems.schema(`The field 'Type' should have one of these values: [${STATE_TYPES.join(', ')}]`, [
        ...at,
        'Type',
      ]);
      return;
    }
    const stateType = type as StateType;

    let language = context.language;
    let downgraded = false;
    if ('QueryLanguage' in state) {
      this.checkQueryLanguageValue(state.QueryLanguage, [...at, 'QueryLanguage']);
      language = resolveLanguage(state.QueryLanguage, context.language);
      if (context.machineLanguage === 'JSONata' && state.QueryLanguage === 'JSONPath') {
        downgraded = true;
        this.problems.schema(
          "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
          at,
        );
      }
    }

    this.checkFieldsAllowed(state, stateType, language, at, !downgraded);
    this.checkTransitionFields(state, stateType, at, context);
    this.checkString(state, 'Comment', at);
    if (language === 'JSONPath') this.checkJsonPathFields(state, at);
    else this.checkJsonataFields(state, at);
    if ('Assign' in state) this.checkAssign(state.Assign, [...at, 'Assign'], language);

    switch (stateType) {
      case 'Task':
        this.checkTask(state, at, language, context);
        break;
      case 'Choice':
        this.checkChoice(state, at, language);
        break;
      case 'Wait':
        this.checkWait(state, at, language);
        break;
      case 'Fail':
        this.checkFail(state, at, language);
        break;
      case 'Parallel':
        this.checkParallel(state, at, context);
        break;
      case 'Map':
        this.checkMap(state, at, language, context);
        break;
      case 'Pass':
      case 'Succeed':
        break;
    }
    if (stateType === 'Task' || stateType === 'Parallel' || stateType === 'Map') {
      if ('Retry' in state) this.checkRetry(state.Retry, [...at, 'Retry']);
      if ('Catch' in state) this.checkCatch(state.Catch, [...at, 'Catch'], language);
    }
  }

  private checkFieldsAllowed(
    state: JsonRecord,
    type: StateType,
    language: QueryLanguage,
    at: JsonPointer,
    reportOtherLanguage: boolean,
  ): void {
    const other: QueryLanguage = language === 'JSONPath' ? 'JSONata' : 'JSONPath';
    for (const field of Object.keys(state)) {
      if (STATE_FIELDS[type][language].has(field)) continue;
      if (STATE_FIELDS[type][other].has(field)) {
        // Measured by others on AWS: a downgrade to JSONPath is the whole answer for that state.
        if (reportOtherLanguage) {
          this.problems.schema(
            `The QueryLanguage is set to '${language}', but field '${field}' is only supported for the '${other}' QueryLanguage`,
            at,
          );
        }
        continue;
      }
      this.problems.unsupported(field, at);
    }
  }

  private checkTransitionFields(
    state: JsonRecord,
    type: StateType,
    at: JsonPointer,
    context: StateContext,
  ): void {
    if (type === 'Choice' || type === 'Succeed' || type === 'Fail') return;
    if ('Next' in state && typeof state.Next !== 'string')
      this.problems.expectedType('STRING', [...at, 'Next']);
    if ('End' in state && typeof state.End !== 'boolean')
      this.problems.expectedType('BOOLEAN', [...at, 'End']);
    const ends = state.End === true;
    if ('Next' in state && ends) {
      this.problems.onlyOneOf(['Next', 'End'], at);
    } else if (!('Next' in state) && !ends && !context.standalone) {
      // Guessed wording: no public AWS message for a state with neither Next nor End was found.
      this.problems.schema('One of the following fields is required: [Next, End]', at);
    }
  }

  private checkJsonPathFields(state: JsonRecord, at: JsonPointer): void {
    for (const [field, value] of Object.entries(state)) {
      if (PATH_FIELDS.has(field)) {
        if (value !== null) this.checkPath(value, field, [...at, field], false);
      } else if (REFERENCE_PATH_FIELDS.has(field)) {
        if (!(field === 'ResultPath' && value === null)) this.checkPath(value, field, [...at, field], true);
      } else if (PAYLOAD_TEMPLATE_FIELDS.has(field) && field !== 'Assign') {
        this.checkPayloadTemplate(value, [...at, field]);
      }
    }
  }

  private checkJsonataFields(state: JsonRecord, at: JsonPointer): void {
    for (const [field, value] of Object.entries(state)) {
      if (isJsonataField(field) && field !== 'Assign') this.checkJsonataValue(value, [...at, field], field);
    }
  }

  /**
   * Every `{% %}` string in a JSONata field must parse. A key ending in `.$` is an ordinary key there: AWS
   * accepts `"x.$": "$"` in a JSONata Output and outputs it as written.
   */
  private checkJsonataValue(value: unknown, at: JsonPointer, field: string): void {
    if (isJsonataTemplate(value)) {
      const problem = jsonataProblem(value, field);
      if (problem !== undefined) this.problems.add('INVALID_JSONATA_EXPRESSION', problem, at);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => {
        this.checkJsonataValue(item, [...at, index], field);
      });
    } else if (isRecord(value)) {
      for (const [key, nested] of Object.entries(value)) this.checkJsonataValue(nested, [...at, key], field);
    }
  }

  /** JSONPath templates: a key ending in `.$` holds a path or an intrinsic call, at any depth. */
  private checkPayloadTemplate(value: unknown, at: JsonPointer): void {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        this.checkPayloadTemplate(item, [...at, index]);
      });
      return;
    }
    if (!isRecord(value)) return;
    for (const [key, nested] of Object.entries(value)) {
      if (key.endsWith('.$')) this.checkDynamicValue(key, nested, [...at, key]);
      else this.checkPayloadTemplate(nested, [...at, key]);
    }
  }

  private checkDynamicValue(key: string, value: unknown, at: JsonPointer): void {
    const valid =
      typeof value === 'string' &&
      (isIntrinsicCall(value) ? intrinsicProblem(value) === undefined : isPath(value));
    if (!valid) {
      this.problems.schema(
        `The value for the field '${key}' must be a valid JSONPath or a valid intrinsic function call`,
        at,
      );
    }
  }

  private checkPath(value: unknown, field: string, at: JsonPointer, reference: boolean): void {
    if (typeof value !== 'string') {
      this.problems.expectedType('STRING', at);
      return;
    }
    const valid = reference ? isReferencePath(value) : isPath(value);
    if (!valid) {
      this.problems.schema(
        reference
          ? `The value for the field '${field}' must be a valid reference path`
          : `The value for the field '${field}' must be a valid JSONPath`,
        at,
      );
    }
  }

  private checkAssign(assign: unknown, at: JsonPointer, language: QueryLanguage): void {
    if (!isRecord(assign)) {
      this.problems.expectedType('OBJECT', at);
      return;
    }
    for (const key of Object.keys(assign)) {
      const name = language === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
      // Rule and codes as reported by others on AWS: `states` is reserved for $states, and names are
      // identifiers (a letter or underscore, then letters, digits and underscores).
      if (name === 'states') {
        this.problems.add('RESERVED_VARIABLE_NAME', "Cannot assign to reserved variable '$states'.", at);
      } else if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name) || name.length > LIMITS.stateNameLength) {
        this.problems.add(
          'INVALID_VARIABLE_NAME',
          `Invalid variable name '${name}': the variable name contains invalid characters.`,
          at,
        );
      }
    }
    if (language === 'JSONPath') this.checkPayloadTemplate(assign, at);
    else this.checkJsonataValue(assign, at, 'Assign');
  }

  private checkTask(
    state: JsonRecord,
    at: JsonPointer,
    language: QueryLanguage,
    context: StateContext,
  ): void {
    if (!('Resource' in state)) {
      this.problems.required(['Resource'], at);
    } else if (typeof state.Resource !== 'string') {
      this.problems.expectedType('STRING', [...at, 'Resource']);
    } else {
      this.checkResource(state.Resource, [...at, 'Resource'], context);
    }
    this.checkTimeout(state, 'TimeoutSeconds', at, language);
    this.checkTimeout(state, 'HeartbeatSeconds', at, language);
    const { TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat } = state;
    if (typeof timeout === 'number' && typeof heartbeat === 'number' && heartbeat >= timeout) {
      // Guessed wording; the rule (heartbeat smaller than timeout) is documented.
      this.problems.schema(
        "The value of the field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
        [...at, 'HeartbeatSeconds'],
      );
    }
    if ('Credentials' in state && !isRecord(state.Credentials) && !isJsonataTemplate(state.Credentials)) {
      this.problems.expectedType('OBJECT', [...at, 'Credentials']);
    }
  }

  private checkResource(resource: string, at: JsonPointer, context: StateContext): void {
    const parsed = parseTaskResource(resource);
    if (parsed === undefined) {
      this.problems.schema(
        `The resource provided ${resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`,
        at,
      );
      return;
    }
    if (context.executionType !== 'EXPRESS') return;
    // AWS's message ends with a space; kept as measured.
    if (parsed.pattern === 'wait-for-task-token') {
      this.problems.schema(
        "Express state machine does not support '.waitForTaskToken' service integration ",
        at,
      );
    } else if (parsed.pattern === 'sync') {
      this.problems.schema("Express state machine does not support '.sync' service integration ", at);
    } else if (parsed.service === 'activity') {
      // Guessed wording; Express workflows documentedly do not support activities.
      this.problems.schema('Express state machine does not support activities', at);
    }
  }

  private checkTimeout(
    state: JsonRecord,
    field: 'TimeoutSeconds' | 'HeartbeatSeconds',
    at: JsonPointer,
    language: QueryLanguage,
  ): void {
    const pathField = `${field}Path`;
    if (field in state && pathField in state) this.problems.onlyOneOf([field, pathField], at);
    if (!(field in state)) return;
    const value = state[field];
    if (language === 'JSONata' && isJsonataTemplate(value)) return;
    this.checkInteger(value, [...at, field], 1, LIMITS.timeoutSeconds);
  }

  private checkChoice(state: JsonRecord, at: JsonPointer, language: QueryLanguage): void {
    if (!('Choices' in state)) {
      this.problems.required(['Choices'], at);
    } else if (!Array.isArray(state.Choices)) {
      this.problems.expectedType('ARRAY', [...at, 'Choices']);
    } else if (state.Choices.length === 0) {
      this.problems.schema('Value cannot be empty', [...at, 'Choices']);
    } else {
      state.Choices.forEach((rule, index) => {
        checkChoiceRule(rule, [...at, 'Choices', index], true, language, this.problems);
        if (isRecord(rule) && 'Assign' in rule)
          this.checkAssign(rule.Assign, [...at, 'Choices', index, 'Assign'], language);
        if (language === 'JSONata' && isRecord(rule)) {
          for (const field of ['Condition', 'Output'] as const) {
            if (field in rule) this.checkJsonataValue(rule[field], [...at, 'Choices', index, field], field);
          }
        }
      });
    }
    if ('Default' in state && typeof state.Default !== 'string')
      this.problems.expectedType('STRING', [...at, 'Default']);
  }

  private checkWait(state: JsonRecord, at: JsonPointer, language: QueryLanguage): void {
    const present = ['SecondsPath', 'Seconds', 'TimestampPath', 'Timestamp'].filter(
      (field) => field in state,
    );
    if (present.length > 1) this.problems.onlyOneOf(present, at);
    if (present.length === 0) {
      // Guessed wording, the counterpart of the measured "There should only be one of..." message.
      this.problems.schema(
        'One of the following fields is required: [Seconds, SecondsPath, Timestamp, TimestampPath]',
        at,
      );
    }
    if ('Seconds' in state && !(language === 'JSONata' && isJsonataTemplate(state.Seconds))) {
      this.checkInteger(state.Seconds, [...at, 'Seconds'], 0, LIMITS.timeoutSeconds);
    }
    if ('Timestamp' in state && !(language === 'JSONata' && isJsonataTemplate(state.Timestamp))) {
      if (typeof state.Timestamp !== 'string') this.problems.expectedType('STRING', [...at, 'Timestamp']);
      else if (!isTimestamp(state.Timestamp)) {
        this.problems.schema("The value for the field 'Timestamp' must be a valid timestamp", [
          ...at,
          'Timestamp',
        ]);
      }
    }
  }

  private checkFail(state: JsonRecord, at: JsonPointer, language: QueryLanguage): void {
    for (const [literal, path] of [
      ['Error', 'ErrorPath'],
      ['Cause', 'CausePath'],
    ] as const) {
      if (literal in state && path in state) this.problems.onlyOneOf([literal, path], at);
      if (literal in state && typeof state[literal] !== 'string')
        this.problems.expectedType('STRING', [...at, literal]);
      if (path in state && language === 'JSONPath') {
        const value = state[path];
        if (typeof value !== 'string') this.problems.expectedType('STRING', [...at, path]);
        else if (isIntrinsicCall(value) ? intrinsicProblem(value) !== undefined : !isReferencePath(value)) {
          this.problems.schema(
            `The value for the field '${path}' must be a valid JSONPath or a valid intrinsic function call`,
            [...at, path],
          );
        }
      }
    }
  }

  private checkParallel(state: JsonRecord, at: JsonPointer, context: StateContext): void {
    if (!('Branches' in state)) {
      this.problems.required(['Branches'], at);
      return;
    }
    const branches = state.Branches;
    if (!Array.isArray(branches)) {
      this.problems.expectedType('ARRAY', [...at, 'Branches']);
      return;
    }
    if (branches.length === 0) this.problems.schema('Value cannot be empty', [...at, 'Branches']);
    branches.forEach((branch, index) => {
      this.checkNestedMachine(branch, [...at, 'Branches', index], BRANCH_FIELDS, context);
    });
  }

  /**
   * A Parallel branch or a Map's processor. Its states inherit the machine's query language, not the
   * enclosing state's (measured by others on AWS), and can only transition among themselves.
   */
  private checkNestedMachine(
    nested: unknown,
    at: JsonPointer,
    allowed: ReadonlySet<string>,
    context: StateContext,
  ): void {
    if (!isRecord(nested)) {
      this.problems.expectedType('OBJECT', at);
      return;
    }
    const missing = ['States', 'StartAt'].filter((field) => !(field in nested));
    if (missing.length > 0) this.problems.required(missing, at);
    for (const field of Object.keys(nested)) {
      if (!allowed.has(field)) this.problems.unsupported(field, at);
    }
    this.checkString(nested, 'Comment', at);
    this.checkStates(nested, at, { ...context, language: context.machineLanguage, standalone: false }, false);
  }

  private checkMap(state: JsonRecord, at: JsonPointer, language: QueryLanguage, context: StateContext): void {
    if ('ItemProcessor' in state && 'Iterator' in state)
      this.problems.onlyOneOf(['ItemProcessor', 'Iterator'], at);
    if (!('ItemProcessor' in state) && !('Iterator' in state)) this.problems.required(['ItemProcessor'], at);
    if ('ItemSelector' in state && 'Parameters' in state)
      this.problems.onlyOneOf(['ItemSelector', 'Parameters'], at);

    const processorField = 'ItemProcessor' in state ? 'ItemProcessor' : 'Iterator';
    const processor = state[processorField];
    const processorAt = [...at, processorField];
    const mode = this.checkProcessorConfig(processor, processorAt);
    const distributed = mode.mode === 'DISTRIBUTED';

    // AWS accepts ToleratedFailureCount/Percentage on an inline JSONata Map (and ignores them).
    const inlineTolerated =
      language === 'JSONata' ? [] : ['ToleratedFailurePercentage', 'ToleratedFailureCount'];
    for (const field of [
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
      ...inlineTolerated,
      'ToleratedFailurePercentagePath',
      'ToleratedFailureCountPath',
    ]) {
      // Guessed: AWS refuses the other distributed-only fields on an inline Map as unsupported fields.
      if (field in state && !distributed) this.problems.unsupported(field, at);
    }
    for (const field of ['ItemReader', 'ItemBatcher', 'ResultWriter']) {
      if (field in state && !isRecord(state[field])) this.problems.expectedType('OBJECT', [...at, field]);
    }
    this.checkMapNumber(state, 'MaxConcurrency', at, language, 0, Number.MAX_SAFE_INTEGER);
    this.checkMapNumber(state, 'ToleratedFailurePercentage', at, language, 0, 100);
    this.checkMapNumber(state, 'ToleratedFailureCount', at, language, 0, Number.MAX_SAFE_INTEGER);
    if ('Label' in state && typeof state.Label !== 'string')
      this.problems.expectedType('STRING', [...at, 'Label']);

    if (distributed && context.executionType === 'EXPRESS' && mode.executionType === 'STANDARD') {
      // Guessed wording; an Express workflow cannot start Standard child workflow executions.
      this.problems.schema('Express state machine does not support STANDARD child workflow executions', [
        ...processorAt,
        'ProcessorConfig',
        'ExecutionType',
      ]);
    }
    const childType: StateMachineType = distributed
      ? (mode.executionType ?? 'STANDARD')
      : context.executionType;
    // A legacy Iterator takes a ProcessorConfig too: AWS accepts one and runs the Map in its Mode.
    if (processor !== undefined)
      this.checkNestedMachine(processor, processorAt, PROCESSOR_FIELDS, {
        ...context,
        executionType: childType,
      });
  }

  private checkProcessorConfig(
    processor: unknown,
    at: JsonPointer,
  ): { mode: 'INLINE' | 'DISTRIBUTED'; executionType?: StateMachineType } {
    if (!isRecord(processor) || !('ProcessorConfig' in processor)) return { mode: 'INLINE' };
    const config = processor.ProcessorConfig;
    const configAt = [...at, 'ProcessorConfig'];
    if (!isRecord(config)) {
      this.problems.expectedType('OBJECT', configAt);
      return { mode: 'INLINE' };
    }
    for (const field of Object.keys(config)) {
      if (field !== 'Mode' && field !== 'ExecutionType') this.problems.unsupported(field, configAt);
    }
    let mode: 'INLINE' | 'DISTRIBUTED' = 'INLINE';
    if ('Mode' in config) {
      if (config.Mode === 'INLINE' || config.Mode === 'DISTRIBUTED') mode = config.Mode;
      else this.problems.oneOfValues(['INLINE', 'DISTRIBUTED'], [...configAt, 'Mode']);
    }
    let executionType: StateMachineType | undefined;
    if ('ExecutionType' in config) {
      if (mode === 'INLINE') this.problems.unsupported('ExecutionType', configAt);
      else if (config.ExecutionType === 'STANDARD' || config.ExecutionType === 'EXPRESS')
        executionType = config.ExecutionType;
      else this.problems.oneOfValues(['STANDARD', 'EXPRESS'], [...configAt, 'ExecutionType']);
    } else if (mode === 'DISTRIBUTED') {
      this.problems.required(['ExecutionType'], configAt);
    }
    return executionType === undefined ? { mode } : { mode, executionType };
  }

  private checkMapNumber(
    state: JsonRecord,
    field: string,
    at: JsonPointer,
    language: QueryLanguage,
    min: number,
    max: number,
  ): void {
    const pathField = `${field}Path`;
    if (field in state && pathField in state) this.problems.onlyOneOf([field, pathField], at);
    if (!(field in state)) return;
    const value = state[field];
    if (language === 'JSONata' && isJsonataTemplate(value)) return;
    if (field === 'ToleratedFailurePercentage') this.checkNumber(value, [...at, field], min, max);
    else this.checkInteger(value, [...at, field], min, max);
  }

  checkRetry(retry: unknown, at: JsonPointer): void {
    if (!Array.isArray(retry)) {
      this.problems.expectedType('ARRAY', at);
      return;
    }
    retry.forEach((retrier, index) => {
      const retrierAt = [...at, index];
      if (!isRecord(retrier)) {
        this.problems.expectedType('OBJECT', retrierAt);
        return;
      }
      for (const field of Object.keys(retrier)) {
        if (!RETRIER_FIELDS.has(field)) this.problems.unsupported(field, retrierAt);
      }
      this.checkErrorEquals(retrier, retrierAt, index === retry.length - 1);
      if ('IntervalSeconds' in retrier)
        this.checkInteger(
          retrier.IntervalSeconds,
          [...retrierAt, 'IntervalSeconds'],
          1,
          LIMITS.intervalSeconds,
        );
      if ('MaxAttempts' in retrier)
        this.checkInteger(retrier.MaxAttempts, [...retrierAt, 'MaxAttempts'], 0, LIMITS.maxAttempts);
      if ('BackoffRate' in retrier)
        this.checkNumber(retrier.BackoffRate, [...retrierAt, 'BackoffRate'], 1, Number.MAX_VALUE);
      if ('MaxDelaySeconds' in retrier) {
        this.checkInteger(
          retrier.MaxDelaySeconds,
          [...retrierAt, 'MaxDelaySeconds'],
          1,
          LIMITS.maxDelaySeconds,
        );
      }
      if (
        'JitterStrategy' in retrier &&
        retrier.JitterStrategy !== 'FULL' &&
        retrier.JitterStrategy !== 'NONE'
      ) {
        this.problems.oneOfValues(['FULL', 'NONE'], [...retrierAt, 'JitterStrategy']);
      }
      this.checkString(retrier, 'Comment', retrierAt);
    });
  }

  private checkCatch(catchers: unknown, at: JsonPointer, language: QueryLanguage): void {
    if (!Array.isArray(catchers)) {
      this.problems.expectedType('ARRAY', at);
      return;
    }
    const other: QueryLanguage = language === 'JSONPath' ? 'JSONata' : 'JSONPath';
    catchers.forEach((catcher, index) => {
      const catcherAt = [...at, index];
      if (!isRecord(catcher)) {
        this.problems.expectedType('OBJECT', catcherAt);
        return;
      }
      for (const field of Object.keys(catcher)) {
        if (CATCHER_FIELDS[language].has(field)) continue;
        if (CATCHER_FIELDS[other].has(field)) {
          this.problems.schema(
            `The QueryLanguage is set to '${language}', but field '${field}' is only supported for the '${other}' QueryLanguage`,
            catcherAt,
          );
        } else {
          this.problems.unsupported(field, catcherAt);
        }
      }
      this.checkErrorEquals(catcher, catcherAt, index === catchers.length - 1);
      if (!('Next' in catcher)) this.problems.required(['Next'], catcherAt);
      else if (typeof catcher.Next !== 'string') this.problems.expectedType('STRING', [...catcherAt, 'Next']);
      if (language === 'JSONPath' && 'ResultPath' in catcher && catcher.ResultPath !== null) {
        this.checkPath(catcher.ResultPath, 'ResultPath', [...catcherAt, 'ResultPath'], true);
      }
      if (language === 'JSONata' && 'Output' in catcher)
        this.checkJsonataValue(catcher.Output, [...catcherAt, 'Output'], 'Output');
      if ('Assign' in catcher) this.checkAssign(catcher.Assign, [...catcherAt, 'Assign'], language);
      this.checkString(catcher, 'Comment', catcherAt);
    });
  }

  private checkErrorEquals(entry: JsonRecord, at: JsonPointer, last: boolean): void {
    if (!('ErrorEquals' in entry)) {
      this.problems.required(['ErrorEquals'], at);
      return;
    }
    const errors = entry.ErrorEquals;
    const errorsAt = [...at, 'ErrorEquals'];
    if (!Array.isArray(errors)) {
      this.problems.expectedType('ARRAY', errorsAt);
      return;
    }
    if (errors.length === 0) this.problems.schema('Value cannot be empty', errorsAt);
    errors.forEach((error, index) => {
      if (typeof error !== 'string') this.problems.expectedType('STRING', [...errorsAt, index]);
    });
    if (errors.includes('States.ALL') && (errors.length > 1 || !last)) {
      this.problems.schema('States.ALL must appear alone and at end of list', errorsAt);
    }
  }

  private checkQueryLanguageValue(value: unknown, at: JsonPointer): void {
    if (typeof value !== 'string') this.problems.expectedType('STRING', at);
    else if (!(QUERY_LANGUAGES as readonly string[]).includes(value))
      this.problems.oneOfValues(QUERY_LANGUAGES, at);
  }

  private checkString(owner: JsonRecord, field: string, at: JsonPointer): void {
    if (field in owner && typeof owner[field] !== 'string')
      this.problems.expectedType('STRING', [...at, field]);
  }

  private checkInteger(value: unknown, at: JsonPointer, min: number, max: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.problems.expectedType('INTEGER', at);
      return;
    }
    this.checkRange(value, at, min, max);
  }

  private checkNumber(value: unknown, at: JsonPointer, min: number, max: number): void {
    if (typeof value !== 'number') {
      this.problems.expectedType('NUMBER', at);
      return;
    }
    this.checkRange(value, at, min, max);
  }

  private checkRange(value: number, at: JsonPointer, min: number, max: number): void {
    // Guessed wording for both bounds; the bounds themselves are AWS's documented ones.
    if (value < min) this.problems.schema(`Value should be greater than or equal to ${min}`, at);
    else if (value > max) this.problems.schema(`Value should be less than or equal to ${max}`, at);
  }
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A state's query language: exactly `JSONPath` asks for JSONPath; any other value present means JSONata
 * (measured by others on AWS, which reports the bad spelling separately).
 */
function resolveLanguage(declared: unknown, inherited: QueryLanguage): QueryLanguage {
  if (declared === undefined) return inherited;
  return declared === 'JSONPath' ? 'JSONPath' : 'JSONata';
}

function isTerminal(state: unknown): boolean {
  return isRecord(state) && (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true);
}

/** Every state name a state can move to, with the field that names it and where that field is. */
function transitionsOf(
  state: JsonRecord,
  at: JsonPointer,
): [target: string, field: string, at: JsonPointer][] {
  const targets: [string, string, JsonPointer][] = [];
  if (typeof state.Next === 'string') targets.push([state.Next, 'Next', [...at, 'Next']]);
  if (typeof state.Default === 'string' && state.Type === 'Choice')
    targets.push([state.Default, 'Default', [...at, 'Default']]);
  for (const field of ['Choices', 'Catch'] as const) {
    const entries = state[field];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, index) => {
      if (isRecord(entry) && typeof entry.Next === 'string')
        targets.push([entry.Next, 'Next', [...at, field, index, 'Next']]);
    });
  }
  return targets;
}

function reachableStates(states: JsonRecord, startAt: string | undefined): Set<string> {
  const reachable = new Set<string>();
  if (startAt === undefined || !Object.hasOwn(states, startAt)) return reachable;
  const pending = [startAt];
  reachable.add(startAt);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const state = states[name];
    if (!isRecord(state)) continue;
    for (const [target] of transitionsOf(state, [])) {
      if (Object.hasOwn(states, target) && !reachable.has(target)) {
        reachable.add(target);
        pending.push(target);
      }
    }
  }
  return reachable;
}

function sameLocation(a: JsonPointer, b: JsonPointer): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index]);
}
