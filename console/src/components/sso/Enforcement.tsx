import { useEffect, useState } from 'react';
import { patch } from '../../api/client';
import type { Domain } from '../../api/types';
import { VERIFICATION_REQUIRED } from '../../rules';
import { ErrorMessage } from '../ErrorMessage';
import { CheckboxField, SelectField } from '../Field';
import { useAction } from '../useLoad';

/** SSO enforcement and JIT provisioning: verified domains only (PostHog's rule and message). */
export function Enforcement({ domain, base, denial, onChanged }: { domain: Domain; base: string; denial: string | null; onChanged(): void }) {
  const action = useAction();
  const why = denial ?? (domain.is_verified ? null : VERIFICATION_REQUIRED);
  // Shown at once, put back if the API refuses.
  const [jit, setJit] = useState(domain.jit_provisioning_enabled);
  useEffect(() => setJit(domain.jit_provisioning_enabled), [domain.jit_provisioning_enabled]);
  const save = async (body: Record<string, unknown>, message: string) => {
    const ok = await action.run(async () => {
      await patch(base, body);
      onChanged();
    }, message);
    if (!ok) setJit(domain.jit_provisioning_enabled);
  };

  return (
    <div className="subsection">
      <h3>Enforcement and provisioning</h3>
      <SelectField
        label="Require single sign-on"
        value={domain.sso_enforcement}
        disabledReason={why}
        onChange={(e) =>
          void save(
            { sso_enforcement: e.target.value },
            e.target.value ? `Only ${e.target.value.toUpperCase()} sign-in now works for ${domain.domain}.` : 'SSO is no longer enforced.',
          )
        }
      >
        <option value="">No: passwords allowed</option>
        <option value="saml" disabled={!domain.has_saml} title={domain.has_saml ? undefined : 'Configure SAML for this domain before enforcing it.'}>
          SAML only
        </option>
        <option value="oidc" disabled={!domain.has_oidc} title={domain.has_oidc ? undefined : 'Configure OIDC for this domain before enforcing it.'}>
          OIDC only
        </option>
      </SelectField>
      <CheckboxField
        label="Create accounts on first SSO login (JIT provisioning)"
        checked={jit}
        disabled={Boolean(why)}
        title={why ?? undefined}
        onChange={(e) => {
          setJit(e.target.checked);
          void save({ jit_provisioning_enabled: e.target.checked }, e.target.checked ? 'JIT provisioning on.' : 'JIT provisioning off.');
        }}
      />
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
    </div>
  );
}
