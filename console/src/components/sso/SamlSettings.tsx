import { useState, type ChangeEvent, type FormEvent } from 'react';
import { patch } from '../../api/client';
import type { Domain } from '../../api/types';
import { ErrorMessage } from '../ErrorMessage';
import { TextField } from '../Field';
import { GuardedButton } from '../GuardedButton';
import { useAction } from '../useLoad';
import { ProviderSummary } from './ProviderSummary';

/** SAML: the IdP's entity id, SSO URL and certificates, typed in or read from its metadata XML. */
export function SamlSettings({ domain, base, denial, onChanged }: { domain: Domain; base: string; denial: string | null; onChanged(): void }) {
  const action = useAction();
  const [form, setForm] = useState({
    saml_entity_id: domain.saml_entity_id ?? '',
    saml_acs_url: domain.saml_acs_url ?? '',
    saml_x509_cert: domain.saml_x509_cert ?? '',
  });
  const [metadataUrl, setMetadataUrl] = useState(domain.saml_metadata_url ?? '');
  const certId = `${domain.id}-cert`;

  const save = async (body: Record<string, unknown>, message: string) => {
    await action.run(async () => {
      const saved = await patch<Domain>(base, body);
      setForm({ saml_entity_id: saved.saml_entity_id ?? '', saml_acs_url: saved.saml_acs_url ?? '', saml_x509_cert: saved.saml_x509_cert ?? '' });
      onChanged();
    }, message);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(
      { saml_entity_id: form.saml_entity_id || null, saml_acs_url: form.saml_acs_url || null, saml_x509_cert: form.saml_x509_cert || null },
      'SAML settings saved.',
    );
  };

  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    const xml = await file.text();
    await save({ saml_metadata_xml: xml }, `IdP metadata from ${file.name} applied.`);
  };

  if (denial) return <ProviderSummary name="SAML" configured={domain.has_saml} denial={denial} />;

  return (
    <div className="subsection">
      <h3>SAML {domain.has_saml ? <span className="badge ok">configured</span> : null}</h3>
      <fieldset disabled={Boolean(denial)} title={denial ?? undefined} className="plain">
        <div className="field">
          <label htmlFor={`${domain.id}-metadata`}>Upload IdP metadata (XML)</label>
          <input id={`${domain.id}-metadata`} type="file" accept=".xml,application/xml,text/xml" onChange={(e) => void upload(e)} />
        </div>
        <form
          className="inline-form"
          aria-label="IdP metadata URL"
          onSubmit={(e) => {
            e.preventDefault();
            void save({ saml_metadata_url: metadataUrl || null }, 'IdP metadata fetched and applied.');
          }}
        >
          <TextField label="…or its metadata URL" type="url" value={metadataUrl} onChange={(e) => setMetadataUrl(e.target.value)} />
          <button type="submit" className="secondary">
            Fetch metadata
          </button>
        </form>
        <form onSubmit={submit} aria-label={`SAML settings of ${domain.domain}`}>
          <TextField label="IdP entity ID" value={form.saml_entity_id} onChange={(e) => setForm({ ...form, saml_entity_id: e.target.value })} />
          <TextField label="IdP SSO URL" type="url" value={form.saml_acs_url} onChange={(e) => setForm({ ...form, saml_acs_url: e.target.value })} />
          <div className="field">
            <label htmlFor={certId}>IdP X.509 certificate(s)</label>
            <textarea
              id={certId}
              rows={4}
              className="mono"
              value={form.saml_x509_cert}
              onChange={(e) => setForm({ ...form, saml_x509_cert: e.target.value })}
            />
          </div>
          <GuardedButton type="submit" disabledReason={denial}>
            Save SAML settings
          </GuardedButton>
        </form>
      </fieldset>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
    </div>
  );
}
