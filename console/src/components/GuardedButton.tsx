import { useId, type ButtonHTMLAttributes, type MouseEvent } from 'react';

/**
 * A button that may be unavailable to this user: with a reason it is marked disabled
 * (aria-disabled, so it stays focusable and screen readers read the reason), shows the reason on
 * hover, and does nothing when pressed.
 */
export function GuardedButton({ disabledReason, onClick, className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { disabledReason?: string | null }) {
  const id = useId();
  const blocked = Boolean(disabledReason);
  const click = (e: MouseEvent<HTMLButtonElement>) => {
    if (blocked) {
      e.preventDefault();
      return;
    }
    onClick?.(e);
  };
  return (
    <>
      <button
        type="button"
        {...rest}
        className={[className, blocked ? 'is-disabled' : ''].filter(Boolean).join(' ') || undefined}
        aria-disabled={blocked || undefined}
        title={disabledReason ?? rest.title}
        aria-describedby={blocked ? id : undefined}
        onClick={click}
      />
      {blocked ? (
        <span id={id} className="visually-hidden">
          {disabledReason}
        </span>
      ) : null}
    </>
  );
}
