import { startAuthentication } from '@simplewebauthn/browser';
import { useState, type FormEvent } from 'react';
import { post } from '../../api/client';
import { ErrorMessage } from '../ErrorMessage';
import { TextField } from '../Field';
import { useAction } from '../useLoad';

type Options = Parameters<typeof startAuthentication>[0]['optionsJSON'];

/** Signs in with a passkey: the second step of a password login, or on its own (no password). */
export async function signInWithPasskey(secondFactor = false): Promise<void> {
  const optionsJSON = await post<Options>('/api/login/passkey/options/', { second_factor: secondFactor });
  const response = await startAuthentication({ optionsJSON });
  await post('/api/login/passkey/', { response });
}

/** The second step after the password: a code from the authenticator app, a backup code, or a passkey. */
export function SecondFactorStep({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [token, setToken] = useState('');
  const step = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await step.run(() => post('/api/login/token/', { token }))) await onSignedIn();
  };
  const passkey = async () => {
    if (await step.run(() => signInWithPasskey(true))) await onSignedIn();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="card" aria-labelledby="second-factor">
      <h2 id="second-factor">Second factor</h2>
      <TextField
        label="Authentication code"
        inputMode="numeric"
        autoComplete="one-time-code"
        required
        value={token}
        onChange={(e) => setToken(e.target.value)}
        hint="From your authenticator app, or one of your backup codes."
      />
      <ErrorMessage error={step.error} />
      <button type="submit" disabled={step.busy}>
        Verify
      </button>{' '}
      <button type="button" onClick={() => void passkey()} disabled={step.busy}>
        Use a passkey
      </button>
    </form>
  );
}

/** Sign in with a passkey only (no password). */
export function PasskeySignIn({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const action = useAction();
  return (
    <section className="card" aria-labelledby="passkey-login">
      <h2 id="passkey-login">With a passkey</h2>
      <ErrorMessage error={action.error} />
      <button
        type="button"
        disabled={action.busy}
        onClick={() => void action.run(() => signInWithPasskey(false)).then((ok) => (ok ? onSignedIn() : undefined))}
      >
        Sign in with a passkey
      </button>
    </section>
  );
}
