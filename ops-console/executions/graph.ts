/**
 * A state machine's graph, laid out by ELK (elkjs) from its ASL: a node per state (a Parallel's branches and a
 * Map's item processor as nodes holding their own states), edges for Next, each Choice rule, Default and Catch
 * (labelled with the errors it catches), and Start and End. The layout is plain positions, absolute from the
 * top left; the pages draw it as SVG.
 *
 * @example
 * const layout = await layoutDefinition(definitionText);
 * layout.nodes.find((node) => node.stateName === 'Vend'); // { x, y, width, height, ... }
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ELK, ELKConstructorArguments, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import {
  type ChoiceRule,
  parseDefinition,
  type StateDefinition,
  type StatesDefinition,
} from './definition.ts';
import { END, START } from './history.ts';

// elkjs is CommonJS whose module.exports is the constructor; its types declare an ES default export,
// which NodeNext reads as `{ default }`.
const require = createRequire(import.meta.url);
const Elk = require('elkjs/lib/elk.bundled.js') as new (args?: ELKConstructorArguments) => ELK;

export type GraphNodeKind = 'start' | 'end' | 'state' | 'branch';
export type GraphEdgeKind = 'start' | 'next' | 'choice' | 'default' | 'catch' | 'end';

export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  /** The state it draws; null for Start, End and a Parallel's branch. */
  readonly stateName: string | null;
  readonly stateType: string | null;
  readonly label: string;
  /** A second line: the task's resource, the Fail state's error, the Wait's time. */
  readonly detail: string | null;
  /** Parallel and Map states, and branches, hold other nodes. */
  readonly compound: boolean;
  /** The compound node it is drawn inside, if any. */
  readonly parentId: string | null;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface GraphPoint {
  readonly x: number;
  readonly y: number;
}

export interface GraphEdge {
  readonly id: string;
  readonly kind: GraphEdgeKind;
  /** State names, or `(start)` / `(end)`: the pairs of an execution's transitions. */
  readonly fromState: string;
  readonly toState: string;
  readonly label: string | null;
  /** The full label when `label` was shortened to fit. */
  readonly title: string | null;
  readonly points: GraphPoint[];
  readonly labelBox: {
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
  } | null;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
}

/** Sizes the pages draw with: the SVG uses the same numbers. */
export const GRAPH_METRICS = {
  stateHeight: 62,
  terminalWidth: 72,
  terminalHeight: 28,
  minStateWidth: 150,
  maxStateWidth: 320,
  /** Average advance of a character at the node name's size, generous so names fit. */
  nameCharWidth: 8.4,
  smallCharWidth: 6.4,
  labelHeight: 16,
  compoundHeaderHeight: 30,
  padding: 14,
} as const;

const MAX_LABEL_CHARS = 34;

/** Lays out a definition (the ASL as text, as DescribeStateMachine gives it); the same text is laid out once. */
export async function layoutDefinition(definition: string): Promise<GraphLayout> {
  const key = createHash('sha256').update(definition).digest('hex');
  const cached = layouts.get(key);
  if (cached !== undefined) {
    layouts.delete(key);
    layouts.set(key, cached);
    return cached;
  }
  const pending = layOut(parseDefinition(definition));
  layouts.set(key, pending);
  if (layouts.size > MAX_CACHED_LAYOUTS) layouts.delete(layouts.keys().next().value!);
  pending.catch(() => layouts.delete(key));
  return pending;
}

const MAX_CACHED_LAYOUTS = 50;
const layouts = new Map<string, Promise<GraphLayout>>();
let elk: ELK | undefined;

interface EdgeMeta {
  readonly kind: GraphEdgeKind;
  readonly fromState: string;
  readonly toState: string;
  readonly label: string | null;
  readonly title: string | null;
}

interface NodeMeta {
  readonly kind: GraphNodeKind;
  readonly stateName: string | null;
  readonly stateType: string | null;
  readonly label: string;
  readonly detail: string | null;
  readonly compound: boolean;
}

async function layOut(definition: StatesDefinition): Promise<GraphLayout> {
  const nodeMeta = new Map<string, NodeMeta>();
  const edgeMeta = new Map<string, EdgeMeta>();
  let edgeCount = 0;

  const terminal = (id: string, kind: 'start' | 'end', label: string): ElkNode => {
    nodeMeta.set(id, { kind, stateName: null, stateType: null, label, detail: null, compound: false });
    return { id, width: GRAPH_METRICS.terminalWidth, height: GRAPH_METRICS.terminalHeight };
  };

  const edge = (from: string, to: string, meta: Omit<EdgeMeta, 'title'> & { title?: string | null }) => {
    const id = `e${edgeCount++}`;
    const label = meta.label === null ? null : shorten(meta.label, MAX_LABEL_CHARS);
    edgeMeta.set(id, { ...meta, label, title: label === meta.label ? null : meta.label });
    const elkEdge: ElkExtendedEdge = { id, sources: [from], targets: [to] };
    if (label !== null) {
      elkEdge.labels = [
        {
          text: label,
          width: Math.ceil(label.length * GRAPH_METRICS.smallCharWidth) + 8,
          height: GRAPH_METRICS.labelHeight,
        },
      ];
    }
    return elkEdge;
  };

  // Builds the nodes of one States object (the machine's, a branch's, a Map's) into `container`, and the edges
  // between them; returns the edges, which ELK takes in the container that holds both ends.
  const buildStates = (
    states: StatesDefinition,
    container: ElkNode,
    topLevel: boolean,
  ): ElkExtendedEdge[] => {
    const edges: ElkExtendedEdge[] = [];
    container.children ??= [];
    for (const [name, state] of Object.entries(states.States)) {
      const id = stateNodeId(name);
      const inner = state.Type === 'Parallel' ? state.Branches : innerOf(state);
      const detail = detailOf(state);
      const subtitle = [state.Type, detail].filter(Boolean).join(' · ');
      nodeMeta.set(id, {
        kind: 'state',
        stateName: name,
        stateType: state.Type,
        label: name,
        detail,
        compound: inner !== undefined,
      });
      if (state.Type === 'Parallel' && state.Branches !== undefined) {
        const node: ElkNode = { id, layoutOptions: COMPOUND_OPTIONS, children: [], edges: [] };
        state.Branches.forEach((branch, index) => {
          const branchId = `branch:${name}:${index}`;
          nodeMeta.set(branchId, {
            kind: 'branch',
            stateName: null,
            stateType: null,
            label: `Branch ${index + 1}`,
            detail: null,
            compound: true,
          });
          const branchNode: ElkNode = {
            id: branchId,
            layoutOptions: COMPOUND_OPTIONS,
            children: [],
            edges: [],
          };
          branchNode.edges = buildStates(branch, branchNode, false);
          node.children!.push(branchNode);
        });
        container.children.push(node);
      } else if (state.Type === 'Map' && innerOf(state) !== undefined) {
        const node: ElkNode = { id, layoutOptions: COMPOUND_OPTIONS, children: [], edges: [] };
        node.edges = buildStates(innerOf(state)!, node, false);
        container.children.push(node);
      } else {
        container.children.push({ id, width: stateWidth(name, subtitle), height: GRAPH_METRICS.stateHeight });
      }

      for (const [index, rule] of (state.Choices ?? []).entries()) {
        if (typeof rule.Next !== 'string') continue;
        edges.push(
          edge(id, stateNodeId(rule.Next), {
            kind: 'choice',
            fromState: name,
            toState: rule.Next,
            label: describeChoiceRule(rule) || `Rule ${index + 1}`,
          }),
        );
      }
      if (typeof state.Default === 'string') {
        edges.push(
          edge(id, stateNodeId(state.Default), {
            kind: 'default',
            fromState: name,
            toState: state.Default,
            label: 'Default',
          }),
        );
      }
      if (typeof state.Next === 'string') {
        edges.push(
          edge(id, stateNodeId(state.Next), {
            kind: 'next',
            fromState: name,
            toState: state.Next,
            label: null,
          }),
        );
      }
      for (const catcher of state.Catch ?? []) {
        if (typeof catcher.Next !== 'string') continue;
        edges.push(
          edge(id, stateNodeId(catcher.Next), {
            kind: 'catch',
            fromState: name,
            toState: catcher.Next,
            label: `Catch ${(catcher.ErrorEquals ?? []).join(', ')}`,
          }),
        );
      }
      const ends = state.End === true || state.Type === 'Succeed' || state.Type === 'Fail';
      if (topLevel && ends) {
        edges.push(edge(id, END_NODE, { kind: 'end', fromState: name, toState: END, label: null }));
      }
    }
    return edges;
  };

  const root: ElkNode = {
    id: 'root',
    layoutOptions: ROOT_OPTIONS,
    children: [terminal(START_NODE, 'start', 'Start')],
  };
  const edges = buildStates(definition, root, true);
  root.children!.push(terminal(END_NODE, 'end', 'End'));
  edges.unshift(
    edge(START_NODE, stateNodeId(definition.StartAt), {
      kind: 'start',
      fromState: START,
      toState: definition.StartAt,
      label: null,
    }),
  );
  root.edges = edges;

  elk ??= new Elk();
  const laidOut = await elk.layout(root);
  return flatten(laidOut, nodeMeta, edgeMeta);
}

const START_NODE = 'start';
const END_NODE = 'end';

/** Node ids are prefixed so that no state name can be taken for Start, End or a branch. */
function stateNodeId(name: string): string {
  return `state:${name}`;
}

const ROOT_OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  // The definition's own order is the author's: the happy path is written first, so it stays on the left.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.layered.spacing.nodeNodeBetweenLayers': '32',
  'elk.layered.spacing.edgeNodeBetweenLayers': '18',
  'elk.spacing.nodeNode': '30',
  'elk.spacing.edgeNode': '18',
  'elk.spacing.edgeEdge': '12',
  'elk.spacing.edgeLabel': '4',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
};

const COMPOUND_OPTIONS = {
  'elk.padding': `[top=${GRAPH_METRICS.compoundHeaderHeight + 8},left=${GRAPH_METRICS.padding},bottom=${GRAPH_METRICS.padding},right=${GRAPH_METRICS.padding}]`,
};

function innerOf(state: StateDefinition): StatesDefinition | undefined {
  return state.ItemProcessor ?? state.Iterator;
}

/** Wide enough for the name and the `Task · resource` line, within bounds; the status line may be cut. */
function stateWidth(name: string, subtitle: string): number {
  const text = Math.max(
    shorten(name, 36).length * GRAPH_METRICS.nameCharWidth,
    shorten(subtitle, 44).length * GRAPH_METRICS.smallCharWidth,
  );
  return Math.round(
    Math.min(
      GRAPH_METRICS.maxStateWidth,
      Math.max(GRAPH_METRICS.minStateWidth, text + 2 * GRAPH_METRICS.padding),
    ),
  );
}

/** The second line of a node: what the state does, shortly. */
export function detailOf(state: StateDefinition): string | null {
  switch (state.Type) {
    case 'Task':
      return resourceName(state.Resource);
    case 'Fail':
      return state.Error ?? (state.ErrorPath !== undefined ? `error from ${state.ErrorPath}` : null);
    case 'Wait':
      if (state.Seconds !== undefined) return `${state.Seconds} s`;
      return state.Timestamp ?? state.SecondsPath ?? state.TimestampPath ?? null;
    default:
      return null;
  }
}

/** `arn:aws:states:::sqs:sendMessage.waitForTaskToken` → `sqs:sendMessage.waitForTaskToken`; a function ARN → its name. */
function resourceName(resource: string | undefined): string | null {
  if (resource === undefined) return null;
  const integration = /^arn:[^:]+:states:::(.+)$/.exec(resource);
  if (integration !== null) return integration[1] ?? resource;
  const fn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(resource);
  if (fn !== null) return `lambda:${fn[1]}`;
  const activity = /^arn:[^:]+:states:[^:]*:[^:]*:activity:(.+)$/.exec(resource);
  if (activity !== null) return `activity:${activity[1]}`;
  return resource;
}

const COMPARISONS: Record<string, string> = {
  StringEquals: '==',
  StringLessThan: '<',
  StringGreaterThan: '>',
  StringLessThanEquals: '<=',
  StringGreaterThanEquals: '>=',
  StringMatches: 'matches',
  NumericEquals: '==',
  NumericLessThan: '<',
  NumericGreaterThan: '>',
  NumericLessThanEquals: '<=',
  NumericGreaterThanEquals: '>=',
  BooleanEquals: '==',
  TimestampEquals: '==',
  TimestampLessThan: '<',
  TimestampGreaterThan: '>',
  TimestampLessThanEquals: '<=',
  TimestampGreaterThanEquals: '>=',
};

/** Each type test, when true and when false. */
const TYPE_TESTS: Record<string, readonly [string, string]> = {
  IsNull: ['is null', 'is not null'],
  IsPresent: ['is present', 'is not present'],
  IsNumeric: ['is numeric', 'is not numeric'],
  IsString: ['is a string', 'is not a string'],
  IsBoolean: ['is a boolean', 'is not a boolean'],
  IsTimestamp: ['is a timestamp', 'is not a timestamp'],
};

/** A Choice rule as one short line: `$.charge.outcome == "charged"`, `not($.a is present)`, a JSONata condition. */
export function describeChoiceRule(rule: ChoiceRule): string {
  if (typeof rule.Condition === 'string') return rule.Condition.replace(/^\{%\s*|\s*%\}$/g, '');
  if (rule.And !== undefined) return rule.And.map(describeChoiceRule).join(' and ');
  if (rule.Or !== undefined) return rule.Or.map(describeChoiceRule).join(' or ');
  if (rule.Not !== undefined) return `not (${describeChoiceRule(rule.Not)})`;
  const variable = typeof rule.Variable === 'string' ? rule.Variable : '?';
  for (const [key, value] of Object.entries(rule)) {
    const path = key.endsWith('Path');
    const operator = COMPARISONS[path ? key.slice(0, -'Path'.length) : key];
    if (operator !== undefined)
      return `${variable} ${operator} ${path ? String(value) : JSON.stringify(value)}`;
    const test = TYPE_TESTS[key];
    if (test !== undefined) return `${variable} ${value === false ? test[1] : test[0]}`;
  }
  return '';
}

export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** ELK gives positions relative to each node's parent and each edge's container: these are made absolute. */
function flatten(
  root: ElkNode,
  nodeMeta: Map<string, NodeMeta>,
  edgeMeta: Map<string, EdgeMeta>,
): GraphLayout {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const origins = new Map<string, GraphPoint>([[root.id, { x: 0, y: 0 }]]);

  const visitNode = (node: ElkNode, parent: ElkNode, offset: GraphPoint) => {
    const x = offset.x + (node.x ?? 0);
    const y = offset.y + (node.y ?? 0);
    origins.set(node.id, { x, y });
    const meta = nodeMeta.get(node.id);
    if (meta !== undefined) {
      nodes.push({
        id: node.id,
        ...meta,
        parentId: parent.id === root.id ? null : parent.id,
        x: round(x),
        y: round(y),
        width: round(node.width ?? 0),
        height: round(node.height ?? 0),
      });
    }
    for (const child of node.children ?? []) visitNode(child, node, { x, y });
  };
  for (const child of root.children ?? []) visitNode(child, root, { x: 0, y: 0 });

  const visitEdges = (node: ElkNode) => {
    for (const elkEdge of node.edges ?? []) {
      const meta = edgeMeta.get(elkEdge.id);
      if (meta === undefined) continue;
      const origin = origins.get(elkEdge.container ?? node.id) ?? origins.get(node.id) ?? { x: 0, y: 0 };
      const points: GraphPoint[] = [];
      for (const section of elkEdge.sections ?? []) {
        for (const point of [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]) {
          points.push({ x: round(origin.x + point.x), y: round(origin.y + point.y) });
        }
      }
      const label = elkEdge.labels?.[0];
      edges.push({
        id: elkEdge.id,
        ...meta,
        points,
        labelBox:
          label === undefined
            ? null
            : {
                x: round(origin.x + (label.x ?? 0)),
                y: round(origin.y + (label.y ?? 0)),
                width: round(label.width ?? 0),
                height: round(label.height ?? 0),
              },
      });
    }
    for (const child of node.children ?? []) visitEdges(child);
  };
  visitEdges(root);

  // Compound nodes first, so that what they hold is drawn over them.
  nodes.sort((a, b) => depthOf(a, nodes) - depthOf(b, nodes));
  return { width: round(root.width ?? 0), height: round(root.height ?? 0), nodes, edges };
}

function depthOf(node: GraphNode, nodes: readonly GraphNode[]): number {
  let depth = 0;
  for (let parentId = node.parentId; parentId !== null; depth++) {
    parentId = nodes.find((candidate) => candidate.id === parentId)?.parentId ?? null;
  }
  return depth;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
