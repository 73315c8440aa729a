import { useState } from 'react';
import { del, post } from '../../api/client';
import type { Domain, ScimToken } from '../../api/types';
import { VERIFICATION_REQUIRED } from '../../rules';
import { ErrorMessage } from '../ErrorMessage';
import { GuardedButton } from '../GuardedButton';
import { SecretOnce } from '../SecretOnce';
import { useAction } from '../useLoad';

/** SCIM provisioning: a bearer token for the IdP, shown once; a new one replaces the old. */
export function ScimSettings({ domain, base, denial, onChanged }: { domain: Domain; base: string; denial: string | null; onChanged(): void }) {
  const action = useAction();
  const [token, setToken] = useState<ScimToken | null>(null);
  const why = denial ?? (domain.is_verified ? null : VERIFICATION_REQUIRED);

  const issue = () =>
    void action.run(async () => {
      setToken(await post<ScimToken>(`${base}scim/token/`));
      onChanged();
    }, 'SCIM token issued.');
  const revoke = () =>
    void action.run(async () => {
      await del(`${base}scim/token/`);
      setToken(null);
      onChanged();
    }, 'SCIM turned off.');

  return (
    <div className="subsection">
      <h3>SCIM provisioning {domain.scim_enabled ? <span className="badge ok">on</span> : null}</h3>
      {domain.scim_base_url || token ? (
        <p>
          SCIM base URL: <code>{token?.scim_base_url ?? domain.scim_base_url}</code>
        </p>
      ) : null}
      {token ? <SecretOnce label="SCIM bearer token" value={token.scim_bearer_token} onDone={() => setToken(null)} /> : null}
      <div className="actions">
        <GuardedButton disabledReason={why} onClick={issue}>
          {domain.scim_enabled ? 'Replace SCIM token' : 'Turn on SCIM'}
        </GuardedButton>
        {domain.scim_enabled ? (
          <GuardedButton className="danger" disabledReason={denial} onClick={revoke}>
            Turn off SCIM
          </GuardedButton>
        ) : null}
      </div>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
    </div>
  );
}
