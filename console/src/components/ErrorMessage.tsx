import { ApiError } from '../api/client';

/** The API's own error message (`detail`), and the field it concerns (`attr`). */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const detail = error instanceof Error ? error.message : String(error);
  const attr = error instanceof ApiError ? error.attr : null;
  return (
    <p className="error" role="alert">
      {detail}
      {attr ? <span className="error-attr"> (field: {attr})</span> : null}
    </p>
  );
}
