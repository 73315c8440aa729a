import { patch } from '../../api/client';
import type { Organization } from '../../api/types';
import { ErrorMessage } from '../ErrorMessage';
import { CheckboxField } from '../Field';
import { useAction } from '../useLoad';

type WithTwoFactor = Organization & { enforce_2fa?: boolean | null; members_without_2fa?: number | null };

/** The organization's 2FA enforcement switch, with how many members have no second factor yet. */
export function TwoFactorEnforcement({ organization, readOnly, reload }: { organization: Organization; readOnly: string | null; reload: () => Promise<void> }) {
  const org = organization as WithTwoFactor;
  const action = useAction();
  const missing = org.members_without_2fa ?? 0;
  const toggle = (on: boolean) =>
    void action.run(
      async () => {
        await patch(`/api/organizations/${org.id}/`, { enforce_2fa: on });
        await reload();
      },
      on ? 'Two-factor authentication is now required.' : 'Two-factor authentication is no longer required.',
    );
  return (
    <section className="card" aria-labelledby="enforce-2fa-heading">
      <h2 id="enforce-2fa-heading">Two-factor authentication</h2>
      <fieldset disabled={Boolean(readOnly) || action.busy} title={readOnly ?? undefined} className="plain">
        <CheckboxField
          label="Require two-factor authentication"
          checked={org.enforce_2fa === true}
          onChange={(e) => toggle(e.target.checked)}
          hint="Members who sign in with a password must set up an authenticator app or a passkey before anything else. API keys and SSO sign-ins are not affected."
        />
      </fieldset>
      <p>{missing === 0 ? 'Every member has a second factor.' : `${missing} ${missing === 1 ? 'member has' : 'members have'} no second factor yet.`}</p>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
    </section>
  );
}
