import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

/** A labelled input. */
export function TextField({ label, hint, ...input }: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
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
        aria-describedby={disabledReason ? `${id}-why` : undefined}
      >
        {children}
      </select>
      {disabledReason ? (
        <span id={`${id}-why`} className="visually-hidden">
          {disabledReason}
        </span>
      ) : null}
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
