import { useState, type FormEvent } from 'react';
import { patch } from '../../api/client';
import type { Domain } from '../../api/types';
import { ErrorMessage } from '../ErrorMessage';
import { TextField } from '../Field';
import { FieldErrors } from '../FieldErrors';
import { GuardedButton } from '../GuardedButton';
import { useAction } from '../useLoad';
import { ProviderSummary } from './ProviderSummary';

/** OIDC: issuer, client id and secret (the secret is write-only: never shown again). */
export function OidcSettings({ domain, base, denial, onChanged }: { domain: Domain; base: string; denial: string | null; onChanged(): void }) {
  const action = useAction();
  const [form, setForm] = useState({ oidc_issuer: domain.oidc_issuer ?? '', oidc_client_id: domain.oidc_client_id ?? '', oidc_client_secret: '' });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await patch(base, {
        oidc_issuer: form.oidc_issuer || null,
        oidc_client_id: form.oidc_client_id || null,
        ...(form.oidc_client_secret ? { oidc_client_secret: form.oidc_client_secret } : {}),
      });
      setForm({ ...form, oidc_client_secret: '' });
      onChanged();
    }, 'OIDC settings saved.');
  };

  if (denial) return <ProviderSummary name="OIDC" configured={domain.has_oidc} denial={denial} />;

  return (
    <FieldErrors error={action.error}>
      <form className="subsection" onSubmit={submit} aria-label={`OIDC settings of ${domain.domain}`}>
        <h3>OIDC {domain.has_oidc ? <span className="badge ok">configured</span> : null}</h3>
        <fieldset disabled={Boolean(denial)} title={denial ?? undefined} className="plain">
          <TextField
            label="Issuer"
            name="oidc_issuer"
            type="url"
            placeholder="https://login.example.com"
            value={form.oidc_issuer}
            onChange={(e) => setForm({ ...form, oidc_issuer: e.target.value })}
          />
          <TextField
            label="Client ID"
            name="oidc_client_id"
            value={form.oidc_client_id}
            onChange={(e) => setForm({ ...form, oidc_client_id: e.target.value })}
          />
          <TextField
            label="Client secret"
            type="password"
            autoComplete="off"
            value={form.oidc_client_secret}
            onChange={(e) => setForm({ ...form, oidc_client_secret: e.target.value })}
            hint={domain.has_oidc_client_secret ? 'A secret is set; leave empty to keep it.' : 'Not set.'}
          />
        </fieldset>
        <GuardedButton type="submit" disabledReason={denial}>
          Save OIDC settings
        </GuardedButton>
        <ErrorMessage error={action.error} />
        <p role="status" className="status">
          {action.message}
        </p>
      </form>
    </FieldErrors>
  );
}
