import { ExpressionError } from './errors';

/**
 * A parser for expr-lang's grammar (https://expr-lang.org/docs/language-definition), the
 * language Kargo evaluates `${{ }}` with: a tokenizer and a Pratt (precedence-climbing)
 * parser into the syntax tree below, which expressions.ts interprets. It is hand-written
 * because expr-lang's grammar has what JavaScript parsers do not read: predicates with `#`
 * and the `.field` shorthand, `{ ... }` closures beside map literals, word operators
 * (`not in`, `matches`, `startsWith`), the pipe `|`, ranges `..` and `let`.
 */

export type Node =
  | { type: 'Literal'; value: unknown }
  | { type: 'Identifier'; name: string }
  /** `#` (the predicate's element), `#index`, `#acc` */
  | { type: 'Pointer'; name: string }
  | { type: 'Member'; object: Node; property: Node; computed: boolean; optional: boolean; text: string }
  | { type: 'Slice'; object: Node; from?: Node; to?: Node }
  | { type: 'Call'; callee: string; args: Node[] }
  /** `semverParse(v).IncMinor()`: one of VALUE_METHODS, on a value that has it (values.ts methodsOf). */
  | { type: 'MethodCall'; object: Node; method: string; args: Node[]; text: string }
  | { type: 'Unary'; operator: string; argument: Node }
  | { type: 'Binary'; operator: string; left: Node; right: Node }
  | { type: 'Conditional'; test: Node; consequent: Node; alternate: Node }
  | { type: 'Array'; elements: Node[] }
  | { type: 'Map'; entries: { key: Node; value: Node }[] }
  | { type: 'Closure'; body: Node }
  | { type: 'Let'; name: string; value: Node; body: Node };

/** Built-in functions whose argument at this index is a predicate, evaluated per element. */
export const PREDICATE_ARGUMENT: Readonly<Record<string, number>> = {
  all: 1,
  any: 1,
  none: 1,
  one: 1,
  filter: 1,
  map: 1,
  find: 1,
  findIndex: 1,
  findLast: 1,
  findLastIndex: 1,
  count: 1,
  sum: 1,
  groupBy: 1,
  sortBy: 1,
  reduce: 1,
};

/**
 * The only names that may be called as methods (`x.Name()`): those of the version
 * semverParse() returns, as Kargo's (Go) version value has them. Any other `.x()` is a
 * syntax error, so no expression reaches a JavaScript method.
 */
export const VALUE_METHODS: ReadonlySet<string> = new Set([
  'Major',
  'Minor',
  'Patch',
  'Prerelease',
  'Metadata',
  'Original',
  'String',
  'IncMajor',
  'IncMinor',
  'IncPatch',
]);

/** The longest expression parsed, in characters. */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** How deeply expressions may nest (brackets, calls, operators). */
const MAX_DEPTH = 100;

type TokenKind = 'number' | 'string' | 'name' | 'op' | 'pointer' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  value?: unknown;
  pos: number;
}

const OPERATORS = [
  '?.',
  '??',
  '..',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '<',
  '>',
  '!',
  '?',
  ':',
  '.',
  ',',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '|',
  '=',
  ';',
];

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', '\\': '\\', '"': '"', "'": "'", '`': '`', '/': '/' };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string, at: number): never => {
    throw new ExpressionError(`${what} at character ${at}`);
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('Unclosed comment', i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? '') && src[i - 1] !== '.')) {
      let text: string;
      const hex = /^0[xX][0-9a-fA-F_]+/.exec(src.slice(i));
      if (hex) {
        text = hex[0];
      } else {
        // `1..3` is a range: a `.` followed by another is not a decimal point
        const m = /^[0-9_]*(\.(?!\.)[0-9_]*)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
        text = m[0];
      }
      i += text.length;
      const value = Number(text.replace(/_/g, ''));
      if (Number.isNaN(value)) fail(`Invalid number ${text}`, start);
      tokens.push({ kind: 'number', text, value, pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) fail('Unclosed quote after ""', start);
        const ch = src[i];
        if (ch === c) break;
        if (ch === '\\') {
          const e = src[i + 1];
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          if (e === undefined || !(e in ESCAPES)) fail(`Unknown escape \\${e ?? ''}`, i);
          value += ESCAPES[e];
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: src.slice(start, i), value, pos: start });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail('Unclosed quote after ""', start);
      tokens.push({ kind: 'string', text: src.slice(start, end + 1), value: src.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (c === '#') {
      const m = /^#[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      const text = m ? m[0] : '#';
      tokens.push({ kind: 'pointer', text, value: text.slice(1), pos: start });
      i += text.length;
      continue;
    }
    const name = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i));
    if (name) {
      tokens.push({ kind: 'name', text: name[0], pos: start });
      i += name[0].length;
      continue;
    }
    const at = i;
    const op = OPERATORS.find(o => src.startsWith(o, at));
    if (!op) fail(`Unexpected "${c}"`, start);
    tokens.push({ kind: 'op', text: op!, pos: start });
    i += op!.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: src.length });
  return tokens;
}

/** Binary operators: binding power, and whether they group to the right. */
const BINARY: Record<string, { power: number; right?: boolean }> = {
  or: { power: 10 },
  '||': { power: 10 },
  and: { power: 15 },
  '&&': { power: 15 },
  '==': { power: 20 },
  '!=': { power: 20 },
  '<': { power: 20 },
  '>': { power: 20 },
  '<=': { power: 20 },
  '>=': { power: 20 },
  in: { power: 20 },
  matches: { power: 20 },
  contains: { power: 20 },
  startsWith: { power: 20 },
  endsWith: { power: 20 },
  '..': { power: 25 },
  '+': { power: 30 },
  '-': { power: 30 },
  '*': { power: 60 },
  '/': { power: 60 },
  '%': { power: 60 },
  '**': { power: 100, right: true },
  '^': { power: 100, right: true },
  '??': { power: 500 },
};
/** Operators that `not` may precede: `a not in b`. */
const NEGATABLE = new Set(['in', 'matches', 'contains', 'startsWith', 'endsWith']);
const UNARY_POWER: Record<string, number> = { not: 50, '!': 50, '-': 90, '+': 90 };
const KEYWORDS = new Set(['true', 'false', 'nil', 'null', 'not', 'and', 'or', 'in', 'matches', 'contains', 'startsWith', 'endsWith', 'let']);

class Parser {
  private i = 0;
  private depth = 0;
  /** How many predicates enclose the current position (`#` and `.field` need one). */
  private predicates = 0;
  private readonly tokens: Token[];

  constructor(src: string) {
    this.tokens = tokenize(src);
  }

  parse(): Node {
    if (this.peek().kind === 'eof') throw new ExpressionError('must not be empty');
    const node = this.expression();
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(`Unexpected "${t.text}": an expression must be a single expression`, t);
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private is(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return (t.kind === 'op' || t.kind === 'name') && t.text === text;
  }

  private fail(message: string, t: Token = this.peek()): never {
    throw new ExpressionError(`${message} at character ${t.pos}`);
  }

  private expect(text: string, after: string): Token {
    if (!this.is(text)) this.fail(`Expected "${text}" ${after}`);
    return this.next();
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`Nested more than ${MAX_DEPTH} levels deep`);
  }

  /** A whole expression: `let`, then the binary operators, the ternary and pipes. */
  private expression(): Node {
    this.enter();
    try {
      if (this.is('let') && this.peek(1).kind === 'name') {
        this.next();
        const name = this.next().text;
        if (KEYWORDS.has(name)) this.fail(`"${name}" cannot be a variable's name`);
        this.expect('=', `after let ${name}`);
        const value = this.expression();
        this.expect(';', `after the value of let ${name}`);
        return { type: 'Let', name, value, body: this.expression() };
      }
      let node = this.binary(0);
      for (;;) {
        if (this.is('?')) {
          this.next();
          if (this.is(':')) {
            // `a ?: b`: a unless it is nil or false
            this.next();
            node = { type: 'Binary', operator: '?:', left: node, right: this.binary(0) };
            continue;
          }
          const consequent = this.expression();
          this.expect(':', 'in a conditional (a ? b : c)');
          const alternate = this.expression();
          node = { type: 'Conditional', test: node, consequent, alternate };
          continue;
        }
        if (this.is('|') && !this.is('|', 1)) {
          // `x | f(y)` is `f(x, y)`
          this.next();
          const name = this.peek();
          if (name.kind !== 'name' || !this.is('(', 1)) this.fail('Expected a function call after "|"');
          this.next();
          node = this.call(name.text, [node]);
          continue;
        }
        return node;
      }
    } finally {
      this.depth--;
    }
  }

  private binary(minPower: number): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      let op = t.kind === 'op' || t.kind === 'name' ? t.text : '';
      let negate = false;
      if (op === 'not' && this.peek(1).kind === 'name' && NEGATABLE.has(this.peek(1).text)) {
        negate = true;
        op = this.peek(1).text;
      }
      const info = BINARY[op];
      if (!info || info.power <= minPower) return left;
      this.next();
      if (negate) this.next();
      if (this.peek().kind === 'eof') this.fail(`Expected expression after ${negate ? `not ${op}` : op}`);
      this.enter();
      const right = this.binary(info.right ? info.power - 1 : info.power);
      this.depth--;
      left = { type: 'Binary', operator: op, left, right };
      if (negate) left = { type: 'Unary', operator: 'not', argument: left };
    }
  }

  private unary(): Node {
    const t = this.peek();
    const power = t.kind === 'op' || t.kind === 'name' ? UNARY_POWER[t.text] : undefined;
    if (power !== undefined) {
      this.next();
      if (this.peek().kind === 'eof') this.fail(`Expected expression after ${t.text}`);
      this.enter();
      const argument = this.binary(power);
      this.depth--;
      return { type: 'Unary', operator: t.text, argument };
    }
    return this.postfix(this.primary());
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
      case 'string':
        return { type: 'Literal', value: t.value };
      case 'pointer':
        if (this.predicates === 0) {
          this.fail(`${t.text} can only be used inside a predicate, such as filter(list, # > 1)`, t);
        }
        return { type: 'Pointer', name: String(t.value) };
      case 'name':
        if (t.text === 'true' || t.text === 'false') return { type: 'Literal', value: t.text === 'true' };
        if (t.text === 'nil' || t.text === 'null') return { type: 'Literal', value: null };
        if (KEYWORDS.has(t.text)) this.fail(`Unexpected "${t.text}"`, t);
        if (this.is('(')) return this.call(t.text, []);
        return { type: 'Identifier', name: t.text };
      case 'eof':
        return this.fail('Expected expression', t);
      default:
        break;
    }
    switch (t.text) {
      case '(': {
        const inner = this.expression();
        this.expect(')', 'to close "("');
        return inner;
      }
      case '[': {
        const elements = this.list(']');
        return { type: 'Array', elements };
      }
      case '{':
        return this.map();
      case '.': {
        // `.field` in a predicate is `#.field`
        const name = this.next();
        if (name.kind !== 'name') this.fail('Expected a field name after "."', name);
        if (this.predicates === 0) {
          this.fail(`.${name.text} can only be used inside a predicate, such as filter(list, .${name.text} == "x")`, t);
        }
        return {
          type: 'Member',
          object: { type: 'Pointer', name: '' },
          property: { type: 'Literal', value: name.text },
          computed: false,
          optional: false,
          text: `.${name.text}`,
        };
      }
      default:
        return this.fail(`Unexpected "${t.text}"`, t);
    }
  }

  /** Comma-separated expressions up to `close` (a trailing comma is allowed). */
  private list(close: string): Node[] {
    const items: Node[] = [];
    while (!this.is(close)) {
      items.push(this.expression());
      if (!this.is(close)) this.expect(',', `or "${close}" in a list`);
    }
    this.next();
    return items;
  }

  private map(): Node {
    const entries: { key: Node; value: Node }[] = [];
    while (!this.is('}')) {
      const k = this.next();
      let key: Node;
      if (k.kind === 'name' || k.kind === 'string' || k.kind === 'number') {
        key = { type: 'Literal', value: k.kind === 'name' ? k.text : String(k.value) };
      } else if (k.kind === 'op' && k.text === '(') {
        key = this.expression();
        this.expect(')', 'to close a computed key');
      } else {
        this.fail('Expected a key (a name, a string or a number) in a map', k);
      }
      this.expect(':', 'after a key in a map');
      entries.push({ key: key!, value: this.expression() });
      if (!this.is('}')) this.expect(',', 'or "}" in a map');
    }
    this.next();
    return { type: 'Map', entries };
  }

  private call(callee: string, piped: Node[]): Node {
    this.expect('(', `after ${callee}`);
    const args = [...piped];
    const predicateAt = Object.prototype.hasOwnProperty.call(PREDICATE_ARGUMENT, callee)
      ? PREDICATE_ARGUMENT[callee]
      : -1;
    while (!this.is(')')) {
      if (args.length === predicateAt) {
        args.push(this.predicate());
      } else {
        args.push(this.expression());
      }
      if (!this.is(')')) this.expect(',', `or ")" in the arguments of ${callee}`);
    }
    this.next();
    return { type: 'Call', callee, args };
  }

  private methodCall(object: Node, method: string, text: string): Node {
    this.expect('(', `after ${method}`);
    const args: Node[] = [];
    while (!this.is(')')) {
      args.push(this.expression());
      if (!this.is(')')) this.expect(',', `or ")" in the arguments of ${method}`);
    }
    this.next();
    return { type: 'MethodCall', object, method, args, text };
  }

  /** A predicate: `{ ... }` or a bare expression, where `#` and `.field` are the element. */
  private predicate(): Node {
    this.predicates++;
    try {
      if (this.is('{')) {
        this.next();
        const body = this.expression();
        this.expect('}', 'to close a predicate');
        return { type: 'Closure', body };
      }
      return { type: 'Closure', body: this.expression() };
    } finally {
      this.predicates--;
    }
  }

  private postfix(operand: Node): Node {
    let node = operand;
    for (;;) {
      const t = this.peek();
      if (this.is('.') || this.is('?.')) {
        this.next();
        const optional = t.text === '?.';
        if (optional && this.is('[')) {
          this.next();
          const property = this.expression();
          this.expect(']', 'to close "["');
          node = { type: 'Member', object: node, property, computed: true, optional, text: `${describe(node)}?.[...]` };
          continue;
        }
        const name = this.next();
        if (name.kind !== 'name') this.fail(`Expected a field name after "${t.text}"`, name);
        if (this.is('(')) {
          if (optional || !VALUE_METHODS.has(name.text)) this.fail('only named functions can be called', name);
          node = this.methodCall(node, name.text, `${describe(node)}.${name.text}()`);
          continue;
        }
        node = {
          type: 'Member',
          object: node,
          property: { type: 'Literal', value: name.text },
          computed: false,
          optional,
          text: `${describe(node)}${t.text}${name.text}`,
        };
        continue;
      }
      if (this.is('[')) {
        this.next();
        if (this.is(':')) {
          this.next();
          const to = this.is(']') ? undefined : this.expression();
          this.expect(']', 'to close a slice');
          node = { type: 'Slice', object: node, to };
          continue;
        }
        const property = this.expression();
        if (this.is(':')) {
          this.next();
          const to = this.is(']') ? undefined : this.expression();
          this.expect(']', 'to close a slice');
          node = { type: 'Slice', object: node, from: property, to };
          continue;
        }
        this.expect(']', 'to close "["');
        node = { type: 'Member', object: node, property, computed: true, optional: false, text: `${describe(node)}[...]` };
        continue;
      }
      if (this.is('(')) this.fail('only named functions can be called');
      return node;
    }
  }
}

/** How messages name a value's source: `vars.repo`, `outputs[...]`. */
function describe(node: Node): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'Member') return node.text;
  if (node.type === 'Pointer') return `#${node.name}`;
  if (node.type === 'Call') return `${node.callee}(...)`;
  if (node.type === 'MethodCall') return node.text;
  return node.type;
}

/** Parses one expression (the text inside `${{ }}`); ExpressionError says what is wrong and where. */
export function parse(text: string): Node {
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(`is ${text.length} characters long; an expression may have at most ${MAX_EXPRESSION_LENGTH}`);
  }
  return new Parser(text).parse();
}
