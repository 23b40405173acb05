/**
 * The small Jinja subset dbt models use: `{{ ref('x') }}`, `{{ source('a', 'b') }}`, `{{ this }}`,
 * `{{ config(...) }}`, `{% if is_incremental() %} ... {% else %} ... {% endif %}` and `{# #}`
 * comments. Anything else is refused with the file and line, never passed through.
 */
import { ConfigurationError } from '@causeway/core';
import type { ModelContext } from '../model-definition.ts';
import { parseExpression, type TemplateCall, type TemplateValue } from './template-expression.ts';

type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'ref'; model: string }
  | { kind: 'source'; source: string; table: string }
  | { kind: 'this' }
  | { kind: 'if'; negated: boolean; whenTrue: TemplateNode[]; whenFalse: TemplateNode[] };

/** A parsed file: its `config(...)` values and a renderer for a model context. */
export interface ParsedTemplate {
  readonly config: Readonly<Record<string, TemplateValue>>;
  /** The line of the first `{{ this }}` or `{% if is_incremental() %}` (only models may use them), or null. */
  readonly modelOnlyLine: number | null;
  render(ctx: Partial<ModelContext> & Pick<ModelContext, 'ref' | 'source'>): string;
}

interface Tag {
  type: '{{' | '{%';
  body: string;
  line: number;
}

/** Parses a template; throws ConfigurationError `file:line: ...` at the first unsupported construct. */
export function parseTemplate(text: string, file: string): ParsedTemplate {
  const config: Record<string, TemplateValue> = {};
  const fail = (line: number, message: string): never => {
    throw new ConfigurationError(`${file}:${line}: ${message}`, { file, line });
  };
  const root: TemplateNode[] = [];
  let modelOnlyLine: number | null = null;
  const open: { node: Extract<TemplateNode, { kind: 'if' }>; inElse: boolean; line: number }[] = [];
  const append = (node: TemplateNode) => {
    const top = open.at(-1);
    if (top === undefined) root.push(node);
    else (top.inElse ? top.node.whenFalse : top.node.whenTrue).push(node);
  };
  for (const piece of splitTags(text, fail)) {
    if (typeof piece === 'string') {
      append({ kind: 'text', text: piece });
      continue;
    }
    const node = piece.type === '{{' ? expressionNode(piece, config, fail) : null;
    if (node !== null) append(node);
    if (piece.type === '{%') statement(piece, { open, append, fail });
    if (node?.kind === 'this' || (piece.type === '{%' && piece.body.startsWith('if')))
      modelOnlyLine ??= piece.line;
  }
  const unclosed = open.at(-1);
  if (unclosed !== undefined) fail(unclosed.line, '{% if %} has no {% endif %}');
  return { config, modelOnlyLine, render: (ctx) => renderNodes(root, ctx) };
}

/** Splits text into literal strings and tags, applying `{{-`/`-}}` whitespace control. */
function splitTags(text: string, fail: (line: number, message: string) => never): (string | Tag)[] {
  const pieces: (string | Tag)[] = [];
  let position = 0;
  let trimNext = false;
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  for (const opening of text.matchAll(/\{[{%#]/g)) {
    if (opening.index < position) continue;
    const closer = { '{{': '}}', '{%': '%}', '{#': '#}' }[opening[0]]!;
    const end = text.indexOf(closer, opening.index + 2);
    if (end === -1) fail(lineAt(opening.index), `${opening[0]} is never closed with ${closer}`);
    let literal = text.slice(position, opening.index);
    if (trimNext) literal = literal.trimStart();
    let body = text.slice(opening.index + 2, end);
    if (body.startsWith('-')) literal = literal.trimEnd();
    trimNext = body.endsWith('-');
    body = body.replace(/^-/, '').replace(/-$/, '').trim();
    pieces.push(literal);
    if (opening[0] !== '{#')
      pieces.push({ type: opening[0] as Tag['type'], body, line: lineAt(opening.index) });
    position = end + 2;
  }
  pieces.push(trimNext ? text.slice(position).trimStart() : text.slice(position));
  return pieces;
}

const supported =
  "supported are ref('model'), source('source', 'table'), this, config(...), and {% if is_incremental() %}";

function expressionNode(
  tag: Tag,
  config: Record<string, TemplateValue>,
  fail: (line: number, message: string) => never,
): TemplateNode | null {
  const calls = readExpression(tag, fail);
  const [call] = calls;
  if (calls.length !== 1 || call === undefined)
    return fail(tag.line, `unsupported Jinja "{{ ${tag.body} }}": ${supported}`);
  const strings = call.positional.filter((value): value is string => typeof value === 'string');
  const hasOnlyStrings = strings.length === call.positional.length && Object.keys(call.keywords).length === 0;
  if (call.name === 'this' && !call.isCall) return { kind: 'this' };
  if (call.name === 'ref' && call.isCall && hasOnlyStrings && strings.length === 1) {
    return { kind: 'ref', model: strings[0]! };
  }
  if (call.name === 'source' && call.isCall && hasOnlyStrings && strings.length === 2) {
    return { kind: 'source', source: strings[0]!, table: strings[1]! };
  }
  if (call.name === 'config' && call.isCall && call.positional.length === 0) {
    Object.assign(config, call.keywords);
    return null;
  }
  return fail(tag.line, `unsupported Jinja "{{ ${tag.body} }}": ${supported}`);
}

function statement(
  tag: Tag,
  parser: {
    open: { node: Extract<TemplateNode, { kind: 'if' }>; inElse: boolean; line: number }[];
    append: (node: TemplateNode) => void;
    fail: (line: number, message: string) => never;
  },
): void {
  const { open, fail } = parser;
  const names = readExpression(tag, fail).map((call) => (call.isCall ? `${call.name}()` : call.name));
  const words = names.join(' ');
  if (words === 'if is_incremental()' || words === 'if not is_incremental()') {
    const node = { kind: 'if' as const, negated: names[1] === 'not', whenTrue: [], whenFalse: [] };
    parser.append(node);
    open.push({ node, inElse: false, line: tag.line });
  } else if (words === 'else' && open.length > 0 && !open.at(-1)!.inElse) {
    open.at(-1)!.inElse = true;
  } else if (words === 'endif' && open.length > 0) {
    open.pop();
  } else {
    fail(tag.line, `unsupported Jinja "{% ${tag.body} %}": ${supported}, {% else %} and {% endif %}`);
  }
}

function readExpression(tag: Tag, fail: (line: number, message: string) => never): TemplateCall[] {
  try {
    return parseExpression(tag.body);
  } catch (error) {
    return fail(tag.line, `cannot read "${tag.body}": ${(error as Error).message}`);
  }
}

type RenderContext = Partial<ModelContext> & Pick<ModelContext, 'ref' | 'source'>;

function renderNodes(nodes: readonly TemplateNode[], ctx: RenderContext): string {
  return nodes.map((node) => renderNode(node, ctx)).join('');
}

function renderNode(node: TemplateNode, ctx: RenderContext): string {
  switch (node.kind) {
    case 'text':
      return node.text;
    case 'ref':
      return ctx.ref(node.model);
    case 'source':
      return ctx.source(node.source, node.table);
    case 'this':
      if (ctx.this === undefined) throw new ConfigurationError('{{ this }} is only available in a model');
      return ctx.this;
    case 'if':
      return renderNodes(Boolean(ctx.isIncremental) !== node.negated ? node.whenTrue : node.whenFalse, ctx);
  }
}
