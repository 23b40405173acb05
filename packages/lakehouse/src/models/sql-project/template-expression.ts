/**
 * The expressions inside `{{ }}` and `{% %}` that the runner understands: calls with literal
 * arguments (`ref('x')`, `config(unique_key=['a', 'b'])`) and bare names (`this`, `not`, `else`).
 */

/** A literal argument value: a string, number, boolean or a list of them. */
export type TemplateValue = string | number | boolean | TemplateValue[];

/** `name` alone, or `name(args)` with positional and keyword arguments. */
export interface TemplateCall {
  name: string;
  isCall: boolean;
  positional: TemplateValue[];
  keywords: Record<string, TemplateValue>;
}

/** Parses `words`: a sequence of calls and names (e.g. `if not is_incremental()`); throws a message on anything else. */
export function parseExpression(source: string): TemplateCall[] {
  const tokens = tokenize(source);
  const calls: TemplateCall[] = [];
  let position = 0;
  while (position < tokens.length) {
    const name = tokens[position++]!;
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`unexpected "${name}"`);
    const call: TemplateCall = { name, isCall: false, positional: [], keywords: {} };
    if (tokens[position] === '(') position = parseArguments(tokens, position + 1, call);
    calls.push(call);
  }
  return calls;
}

function parseArguments(tokens: string[], start: number, call: TemplateCall): number {
  call.isCall = true;
  let position = start;
  while (tokens[position] !== ')') {
    if (position >= tokens.length) throw new Error(`${call.name}( is not closed`);
    if (/^[A-Za-z_]\w*$/.test(tokens[position]!) && tokens[position + 1] === '=') {
      const key = tokens[position]!;
      const [value, next] = parseValue(tokens, position + 2);
      call.keywords[key] = value;
      position = next;
    } else {
      const [value, next] = parseValue(tokens, position);
      call.positional.push(value);
      position = next;
    }
    if (tokens[position] === ',') position++;
    else if (tokens[position] !== ')') throw new Error(`expected "," or ")" in ${call.name}(...)`);
  }
  return position + 1;
}

function parseValue(tokens: string[], position: number): [TemplateValue, number] {
  const token = tokens[position];
  if (token === undefined) throw new Error('a value is missing');
  if (token === '[') {
    const list: TemplateValue[] = [];
    let next = position + 1;
    while (tokens[next] !== ']') {
      if (next >= tokens.length) throw new Error('a list [ is not closed');
      const [value, after] = parseValue(tokens, next);
      list.push(value);
      next = tokens[after] === ',' ? after + 1 : after;
    }
    return [list, next + 1];
  }
  if (/^'.*'$|^".*"$/s.test(token) && token.length >= 2) {
    return [token.slice(1, -1).replace(/\\(.)/g, '$1'), position + 1];
  }
  if (/^(true|True)$/.test(token)) return [true, position + 1];
  if (/^(false|False)$/.test(token)) return [false, position + 1];
  if (/^-?\d+(\.\d+)?$/.test(token)) return [Number(token), position + 1];
  throw new Error(`"${token}" is not a literal (use a quoted string, a number, true/false or a list)`);
}

function tokenize(source: string): string[] {
  // Sticky: each match starts where the last ended; `\S` takes any other character as a token.
  const pattern = /\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*|-?\d+(?:\.\d+)?|[()[\],=]|\S)/gy;
  const tokens: string[] = [];
  let match = pattern.exec(source);
  while (match !== null) {
    tokens.push(match[1]!);
    match = pattern.exec(source);
  }
  return tokens;
}
