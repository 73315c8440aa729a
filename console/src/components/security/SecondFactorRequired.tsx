import { useSession } from '../../session';
import { Passkeys } from './Passkeys';
import { TwoFactorSetup } from './TwoFactorSetup';

/** What a member sees while their organization requires 2FA and they have none: set-up, nothing else. */
export function SecondFactorRequired() {
  const { reload } = useSession();
  return (
    <main className="center auth">
      <h1>Set up two-factor authentication</h1>
      <p role="note" className="notice">
        Your organization requires a second factor. Set up an authenticator app or a passkey to continue.
      </p>
      <TwoFactorSetup />
      <Passkeys onChange={() => void reload()} />
      <button type="button" onClick={() => void reload()}>
        Continue
      </button>
    </main>
  );
}
