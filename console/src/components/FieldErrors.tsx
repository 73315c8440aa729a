import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { ApiError } from '../api/client';

/**
 * Puts an API error next to the field it names: inside a <FieldErrors error={…}> scope, a field
 * whose `name` is the error's `attr` shows the message under itself (and is marked invalid), and the
 * scope's <ErrorMessage> leaves that error to it. An error naming no field of the form stays in the
 * <ErrorMessage>.
 */
interface Scope {
  error: unknown;
  /** Fields that showed the error (filled as they render, read by ErrorMessage after layout). */
  claimed: Set<string>;
}

const FieldErrorContext = createContext<Scope | null>(null);

export function FieldErrors({ error, children }: { error: unknown; children: ReactNode }) {
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const scope = useMemo(() => ({ error, claimed: new Set<string>() }), [error]);
  return <FieldErrorContext.Provider value={scope}>{children}</FieldErrorContext.Provider>;
}

/** The message for the field `name`, if the scope's error names it (and marks it shown there). */
export function useFieldError(name: string | undefined): string | null {
  const scope = useContext(FieldErrorContext);
  if (!scope || !name || !(scope.error instanceof ApiError) || scope.error.attr !== name) return null;
  scope.claimed.add(name);
  return scope.error.detail;
}

/** Whether a field in the scope already shows this error. */
export function useShownAtField(error: unknown): () => boolean {
  const scope = useContext(FieldErrorContext);
  return () => Boolean(scope && scope.error === error && error instanceof ApiError && error.attr && scope.claimed.has(error.attr));
}
