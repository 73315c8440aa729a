/**
 * SCIM filters (RFC 7644 §3.4.2.2) and attribute paths (§3.5.2): a small recursive-descent parser
 * for `attrPath op value`, `attrPath pr`, `and`, `or`, `not (…)`, parentheses and value paths
 * (`emails[type eq "work"]`), plus an evaluator over plain JSON resources (used by PATCH paths with
 * filters). List queries translate the same tree to SQL (src/scim/filter-sql.ts).
 */
import { scimBadRequest } from './errors.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Scalar = string | number | boolean | null;

/** `name` or `name.sub`; extension attributes are named by their schema URN with `sub` the attribute. */
export interface AttrPath {
  name: string;
  sub?: string;
}

export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  | { op: 'pr'; attr: AttrPath }
  | { op: CompareOp; attr: AttrPath; value: Scalar }
  | { op: 'valuePath'; attr: AttrPath; filter: Filter };

/** A PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`. */
export interface PatchPath {
  attr: AttrPath;
  filter?: Filter;
  /** The sub-attribute after a value filter (`emails[type eq "work"].value`). */
  sub?: string;
}

const MAX_LENGTH = 2000;
const MAX_DEPTH = 16;
const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

type Token = { t: 'word'; v: string } | { t: 'string'; v: string } | { t: 'number'; v: number } | { t: '(' | ')' | '[' | ']' | '.' };

// `urn:` in any case (RFC 8141), as attrPathOf compares schemas.
const WORD = /^(?:urn:[A-Za-z0-9:._-]+|[A-Za-z$][A-Za-z0-9_$-]*)/i;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;

function tokenize(text: string, what: 'filter' | 'path'): Token[] {
  const fail = (detail: string) => (what === 'filter' ? scimBadRequest('invalidFilter', detail) : scimBadRequest('invalidPath', detail));
  if (text.length > MAX_LENGTH) throw fail(`The ${what} is too long.`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']' || c === '.') {
      tokens.push({ t: c });
      i++;
    } else if (c === '"') {
      // A JSON string: find its end, honouring escapes, and let JSON.parse decode it.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw fail(`Unterminated string in the ${what}.`);
      try {
        tokens.push({ t: 'string', v: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        throw fail(`Invalid string in the ${what}.`);
      }
      i = j + 1;
    } else {
      const rest = text.slice(i);
      const number = /^[-\d]/.test(c) ? NUMBER.exec(rest) : null;
      if (number) {
        tokens.push({ t: 'number', v: Number(number[0]) });
        i += number[0].length;
        continue;
      }
      const word = WORD.exec(rest);
      if (!word) throw fail(`Unexpected character "${c}" in the ${what}.`);
      // A URN names its attribute after the last colon; a trailing dot belongs to a sub-attribute.
      tokens.push({ t: 'word', v: word[0] });
      i += word[0].length;
    }
  }
  return tokens;
}

const CORE_SCHEMAS = [USER_SCHEMA, GROUP_SCHEMA].map((s) => s.toLowerCase());

/** `userName`, `name.givenName`, or a URN-qualified name (core schemas stripped, extensions kept whole). */
function attrPathOf(word: string, fail: (d: string) => Error): AttrPath {
  let rest = word;
  if (word.toLowerCase().startsWith('urn:')) {
    const colon = word.lastIndexOf(':');
    const schema = word.slice(0, colon);
    const attribute = word.slice(colon + 1);
    if (!attribute) throw fail(`"${word}" names no attribute.`);
    if (!CORE_SCHEMAS.includes(schema.toLowerCase())) {
      return { name: schema, sub: attribute };
    }
    rest = attribute;
  }
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z$][A-Za-z0-9_$-]*$/.test(p))) throw fail(`"${word}" is not an attribute path.`);
  return parts.length === 2 ? { name: parts[0]!, sub: parts[1]! } : { name: parts[0]! };
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly fail: (detail: string) => Error,
  ) {}

  get done(): boolean {
    return this.pos >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  next(): Token {
    const token = this.tokens[this.pos++];
    if (!token) throw this.fail('The expression ends too early.');
    return token;
  }

  expect(t: Token['t']): void {
    const token = this.next();
    if (token.t !== t) throw this.fail(`Expected "${t}".`);
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token?.t === 'word' && token.v.toLowerCase() === word;
  }

  /** A word that may continue with `.sub` (the tokenizer splits `name.givenName` only around URNs). */
  attrPath(): AttrPath {
    const token = this.next();
    if (token.t !== 'word') throw this.fail('Expected an attribute name.');
    let word = token.v;
    while (this.peek()?.t === '.' && this.tokens[this.pos + 1]?.t === 'word' && !word.includes('[')) {
      this.pos++;
      word += `.${(this.next() as { v: string }).v}`;
    }
    return attrPathOf(word, this.fail);
  }

  expression(): Filter {
    if (++this.depth > MAX_DEPTH) throw this.fail('The filter is nested too deeply.');
    let left = this.term();
    while (this.isKeyword('or')) {
      this.pos++;
      left = { op: 'or', left, right: this.term() };
    }
    this.depth--;
    return left;
  }

  private term(): Filter {
    let left = this.factor();
    while (this.isKeyword('and')) {
      this.pos++;
      left = { op: 'and', left, right: this.factor() };
    }
    return left;
  }

  private factor(): Filter {
    if (this.isKeyword('not')) {
      this.pos++;
      this.expect('(');
      const filter = this.expression();
      this.expect(')');
      return { op: 'not', filter };
    }
    if (this.peek()?.t === '(') {
      this.pos++;
      const filter = this.expression();
      this.expect(')');
      return filter;
    }
    const attr = this.attrPath();
    if (this.peek()?.t === '[') {
      this.pos++;
      const filter = this.expression();
      this.expect(']');
      return { op: 'valuePath', attr, filter };
    }
    const opToken = this.next();
    const op = opToken.t === 'word' ? opToken.v.toLowerCase() : '';
    if (op === 'pr') return { op: 'pr', attr };
    if (!COMPARE_OPS.has(op)) throw this.fail(`Unknown operator "${opToken.t === 'word' ? opToken.v : opToken.t}".`);
    return { op: op as CompareOp, attr, value: this.value() };
  }

  private value(): Scalar {
    const token = this.next();
    if (token.t === 'string' || token.t === 'number') return token.v;
    if (token.t === 'word') {
      const word = token.v.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw this.fail('Expected a value: a string in double quotes, a number, true, false or null.');
  }
}

export function parseFilter(text: string): Filter {
  const fail = (detail: string) => scimBadRequest('invalidFilter', detail);
  const tokens = tokenize(text, 'filter');
  if (tokens.length === 0) throw fail('The filter is empty.');
  const parser = new Parser(tokens, fail);
  const filter = parser.expression();
  if (!parser.done) throw fail('Unexpected text after the filter.');
  return filter;
}

export function parsePath(text: string): PatchPath {
  const fail = (detail: string) => scimBadRequest('invalidPath', detail);
  const tokens = tokenize(text, 'path');
  if (tokens.length === 0) throw fail('The path is empty.');
  const parser = new Parser(tokens, fail);
  const attr = parser.attrPath();
  let path: PatchPath = { attr };
  if (!parser.done && parser.peek()?.t === '[') {
    if (attr.sub !== undefined && !attr.name.toLowerCase().startsWith('urn:')) throw fail('A value filter follows an attribute, not a sub-attribute.');
    parser.next();
    const filter = parser.expression();
    parser.expect(']');
    path = { attr, filter };
    if (!parser.done) {
      parser.expect('.');
      const sub = parser.next();
      if (sub.t !== 'word' || !/^[A-Za-z$][A-Za-z0-9_$-]*$/.test(sub.v)) throw fail('Expected a sub-attribute after the filter.');
      path.sub = sub.v;
    }
  }
  if (!parser.done) throw fail('Unexpected text after the path.');
  return path;
}

// ---- Evaluation over JSON resources ------------------------------------------------------------

/** The value of a key, whatever its case (SCIM attribute names are case-insensitive). */
export function getAttribute(object: unknown, name: string): unknown {
  if (!object || typeof object !== 'object' || Array.isArray(object)) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** Attributes compared case-sensitively (RFC 7643: externalId is caseExact; ids are UUIDs, in any case). */
const CASE_EXACT = new Set(['externalid']);

function compare(op: CompareOp, actual: unknown, expected: Scalar, caseExact: boolean): boolean {
  if (actual === undefined || actual === null) return op === 'ne' ? expected !== null : op === 'eq' && expected === null;
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq':
        return a === e;
      case 'ne':
        return a !== e;
      case 'co':
        return a.includes(e);
      case 'sw':
        return a.startsWith(e);
      case 'ew':
        return a.endsWith(e);
      case 'gt':
        return a > e;
      case 'ge':
        return a >= e;
      case 'lt':
        return a < e;
      case 'le':
        return a <= e;
    }
  }
  if (typeof actual === 'boolean' && typeof expected === 'string' && /^(true|false)$/i.test(expected)) {
    return compare(op, actual, expected.toLowerCase() === 'true', caseExact);
  }
  if (op === 'eq') return actual === expected;
  if (op === 'ne') return actual !== expected;
  if (typeof actual === 'number' && typeof expected === 'number') {
    return op === 'gt' ? actual > expected : op === 'ge' ? actual >= expected : op === 'lt' ? actual < expected : op === 'le' ? actual <= expected : false;
  }
  return false;
}

/** Values an attribute path reaches: a multi-valued attribute gives each element (or its `value`). */
function valuesAt(resource: unknown, attr: AttrPath): unknown[] {
  const top = getAttribute(resource, attr.name);
  const items = Array.isArray(top) ? top : [top];
  return items.map((item) => {
    if (attr.sub !== undefined) return getAttribute(item, attr.sub);
    return Array.isArray(top) && item && typeof item === 'object' ? getAttribute(item, 'value') : item;
  });
}

export function matches(filter: Filter, resource: unknown): boolean {
  switch (filter.op) {
    case 'and':
      return matches(filter.left, resource) && matches(filter.right, resource);
    case 'or':
      return matches(filter.left, resource) || matches(filter.right, resource);
    case 'not':
      return !matches(filter.filter, resource);
    case 'pr':
      return valuesAt(resource, filter.attr).some((v) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0));
    case 'valuePath': {
      const items = getAttribute(resource, filter.attr.name);
      return Array.isArray(items) && items.some((item) => matches(filter.filter, item));
    }
    default: {
      const caseExact = CASE_EXACT.has((filter.attr.sub ?? filter.attr.name).toLowerCase());
      const op = filter.op;
      const values = valuesAt(resource, filter.attr);
      return op === 'ne' ? values.every((v) => compare(op, v, filter.value, caseExact)) : values.some((v) => compare(op, v, filter.value, caseExact));
    }
  }
}
