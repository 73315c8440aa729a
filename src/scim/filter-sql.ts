/**
 * A parsed SCIM filter as a parameterised SQL condition, over the columns a resource type maps its
 * attributes to. Attributes outside the map are refused (`invalidFilter`), never guessed.
 */
import { scimBadRequest } from './errors.js';
import type { AttrPath, Filter, Scalar } from './filter.js';

export interface Column {
  /** An SQL expression over the list query's tables. */
  expr: string;
  type: 'text' | 'boolean';
  /** Compared as written (externalId); otherwise case-insensitively. */
  caseExact?: boolean;
  /** For attributes of related rows: wraps the condition on `expr` (e.g. in an EXISTS). */
  wrap?: (condition: string) => string;
}

/** Lower-case attribute paths (`username`, `name.givenname`, `emails.value`) to columns. */
export type ColumnMap = Record<string, Column>;

const keyOf = (attr: AttrPath, prefix?: string) =>
  [prefix, attr.name, attr.sub]
    .filter((p) => p !== undefined)
    .join('.')
    .toLowerCase();

const likePattern = (value: string, op: 'co' | 'sw' | 'ew') => {
  const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
  return op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
};

export function filterToSql(filter: Filter, columns: ColumnMap, params: unknown[]): string {
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const column = (attr: AttrPath, prefix?: string): Column => {
    const key = keyOf(attr, prefix);
    const found = columns[key] ?? (attr.sub === undefined ? columns[`${key}.value`] : undefined);
    if (!found) throw scimBadRequest('invalidFilter', `Filtering on "${key}" is not supported.`);
    return found;
  };

  const walk = (f: Filter, prefix?: string): string => {
    switch (f.op) {
      case 'and':
      case 'or':
        return `(${walk(f.left, prefix)} ${f.op.toUpperCase()} ${walk(f.right, prefix)})`;
      case 'not':
        return `(NOT ${walk(f.filter, prefix)})`;
      case 'valuePath':
        if (prefix !== undefined || f.attr.sub !== undefined) throw scimBadRequest('invalidFilter', 'Value filters do not nest.');
        return walk(f.filter, f.attr.name);
      case 'pr': {
        const col = column(f.attr, prefix);
        const condition = col.type === 'text' ? `(${col.expr} IS NOT NULL AND ${col.expr} <> '')` : `(${col.expr} IS NOT NULL)`;
        return col.wrap ? col.wrap(condition) : condition;
      }
      default: {
        const col = column(f.attr, prefix);
        const condition = col.type === 'boolean' ? booleanCondition(col, f.op, f.value, bind) : textCondition(col, f.op, f.value, bind);
        return col.wrap ? col.wrap(condition) : condition;
      }
    }
  };
  return walk(filter);
}

function booleanCondition(col: Column, op: string, value: Scalar, bind: (v: unknown) => string): string {
  const bool = typeof value === 'string' && /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value;
  if (typeof bool !== 'boolean' || (op !== 'eq' && op !== 'ne')) {
    throw scimBadRequest('invalidFilter', 'A boolean attribute is compared with eq or ne and true or false.');
  }
  return op === 'eq' ? `(${col.expr} = ${bind(bool)})` : `(${col.expr} IS DISTINCT FROM ${bind(bool)})`;
}

function textCondition(col: Column, op: string, value: Scalar, bind: (v: unknown) => string): string {
  if (value === null) {
    if (op === 'eq') return `(${col.expr} IS NULL)`;
    if (op === 'ne') return `(${col.expr} IS NOT NULL)`;
    throw scimBadRequest('invalidFilter', `"${op}" does not compare with null.`);
  }
  if (typeof value !== 'string') throw scimBadRequest('invalidFilter', 'This attribute is compared with a string.');
  if (op === 'co' || op === 'sw' || op === 'ew') {
    const pattern = bind(likePattern(value, op));
    return col.caseExact ? `(${col.expr} LIKE ${pattern} ESCAPE '\\')` : `(lower(${col.expr}) LIKE lower(${pattern}) ESCAPE '\\')`;
  }
  const [lhs, rhs] = col.caseExact ? [col.expr, bind(value)] : [`lower(${col.expr})`, `lower(${bind(value)})`];
  switch (op) {
    case 'eq':
      return `(${lhs} = ${rhs})`;
    case 'ne':
      return `(${col.expr} IS NULL OR ${lhs} <> ${rhs})`;
    case 'gt':
      return `(${lhs} > ${rhs})`;
    case 'ge':
      return `(${lhs} >= ${rhs})`;
    case 'lt':
      return `(${lhs} < ${rhs})`;
    case 'le':
      return `(${lhs} <= ${rhs})`;
  }
  throw scimBadRequest('invalidFilter', `Unknown operator "${op}".`);
}
