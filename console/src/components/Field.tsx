import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';
import { useFieldError } from './FieldErrors';

/** The ids an input is described by: its hint and the error shown under it. */
const describedBy = (id: string, hint: unknown, error: string | null, extra?: string) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : '', extra ?? ''].filter(Boolean).join(' ') || undefined;

/** The API's error for this field (FieldErrors), under it. */
function FieldError({ id, error }: { id: string; error: string | null }) {
  return error ? (
    <small id={`${id}-error`} className="field-error" role="alert">
      {error}
    </small>
  ) : null;
}

/** A labelled input; `name` is the API's field, whose error (if any) it shows. */
export function TextField({ label, hint, ...input }: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode }) {
  const id = useId();
  const error = useFieldError(input.name);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={describedBy(id, hint, error)} aria-invalid={error ? true : undefined} {...input} />
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      <FieldError id={id} error={error} />
    </div>
  );
}

/** A labelled select; a reason makes it disabled, shown on hover and read by screen readers. */
export function SelectField({
  label,
  disabledReason,
  children,
  hideLabel,
  ...select
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; disabledReason?: string | null; hideLabel?: boolean }) {
  const id = useId();
  const error = useFieldError(select.name);
  return (
    <div className={hideLabel ? 'field field-inline' : 'field'}>
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <select
        id={id}
        {...select}
        disabled={Boolean(disabledReason) || select.disabled}
        title={disabledReason ?? select.title}
        aria-describedby={describedBy(id, null, error, disabledReason ? `${id}-why` : undefined)}
        aria-invalid={error ? true : undefined}
      >
        {children}
      </select>
      {disabledReason ? (
        <span id={`${id}-why`} className="visually-hidden">
          {disabledReason}
        </span>
      ) : null}
      <FieldError id={id} error={error} />
    </div>
  );
}

export function CheckboxField({ label, hint, ...input }: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode }) {
  const id = useId();
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}
