/**
 * Problems with an access-matrix file: each names the file, line and column (when the document
 * came as text) and the path of the offending key. All problems of a file are reported at once;
 * nothing is changed while there is one.
 */
import { DomainError } from '../domain/errors.js';
import type { Origin } from './model.js';

export interface MatrixProblem extends Origin {
  message: string;
}

export function formatProblem(problem: MatrixProblem, fileName: string): string {
  const where = problem.line !== undefined ? `${fileName}:${problem.line}:${problem.column ?? 1}` : fileName;
  return `${where}: ${problem.message}${problem.path ? ` (at ${problem.path})` : ''}`;
}

/** A 400 in PostHog's shape; `detail` has one line per problem, `FILE:LINE:COLUMN: message (at path)`. */
export class MatrixError extends DomainError {
  constructor(
    readonly problems: readonly MatrixProblem[],
    readonly fileName: string,
  ) {
    super('validation', problems.map((p) => formatProblem(p, fileName)).join('\n'), 'invalid_matrix', 'document');
    this.name = 'MatrixError';
  }
}

/** Collects problems while a file is read; throws them together at the end. */
export class Problems {
  readonly list: MatrixProblem[] = [];
  constructor(readonly fileName: string) {}
  add(origin: Origin, message: string): void {
    this.list.push({ ...origin, message });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new MatrixError(this.list, this.fileName);
  }
}
