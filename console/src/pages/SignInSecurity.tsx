import { useState } from 'react';
import { Passkeys } from '../components/security/Passkeys';
import { Sessions } from '../components/security/Sessions';
import { TwoFactorSetup } from '../components/security/TwoFactorSetup';

/** The person's own sign-in security: authenticator app, passkeys, sessions. */
export function SignInSecurity() {
  // A second-factor change ends the other sessions: the list is read again.
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((n) => n + 1);
  return (
    <>
      <h1>Sign-in security</h1>
      <TwoFactorSetup onChange={changed} />
      <Passkeys onChange={changed} />
      <Sessions key={changes} />
    </>
  );
}
