import { useLayoutEffect, useState } from 'react';
import { useShownAtField } from './FieldErrors';

/** The API's own error message (`detail`), unless a field of the form shows it (FieldErrors). */
export function ErrorMessage({ error }: { error: unknown }) {
  const shownAtField = useShownAtField(error);
  const [hidden, setHidden] = useState(false);
  // After the fields rendered (before paint): they claim the errors that name them.
  useLayoutEffect(() => setHidden(shownAtField()));
  if (!error || hidden) return null;
  const detail = error instanceof Error ? error.message : String(error);
  return (
    <p className="error" role="alert">
      {detail}
    </p>
  );
}
