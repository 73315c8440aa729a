import { useState, type FormEvent } from 'react';
import { all, get, post } from '../api/client';
import type { Domain } from '../api/types';
import { CopyField } from '../components/CopyField';
import { ErrorMessage } from '../components/ErrorMessage';
import { TextField } from '../components/Field';
import { GuardedButton } from '../components/GuardedButton';
import { DomainCard } from '../components/sso/DomainCard';
import { useAction, useLoad } from '../components/useLoad';
import { INSUFFICIENT_ORG_LEVEL, OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** Single sign-on: the organization's domains, each with verification, SAML, OIDC, enforcement, JIT, group mapping and SCIM. */
export function Sso() {
  const { organization, level } = useSession();
  const base = `/api/organizations/${organization?.id}/domains/`;
  const domains = useLoad(() => all<Domain>(base), [base]);
  const action = useAction();
  const [name, setName] = useState('');
  const denial = level < OrganizationLevel.ADMIN ? INSUFFICIENT_ORG_LEVEL : null;
  // Where identity providers reach Warden (WARDEN_PUBLIC_URL), as the server builds its SAML and OIDC URLs.
  const preflight = useLoad(() => get<{ site_url: string }>('/api/preflight/'), []);
  const site = (preflight.data?.site_url || location.origin).replace(/\/+$/, '');

  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => post(base, { domain: name }), `Domain ${name} added.`)) {
      setName('');
      await domains.reload();
    }
  };

  return (
    <>
      <h1>Single sign-on</h1>
      <p>SSO hangs off your email domains. Verify a domain, configure SAML or OIDC on it, then enforce SSO and provision people just in time.</p>
      <section className="card" aria-labelledby="sp-heading">
        <h2 id="sp-heading">For your identity provider</h2>
        <p className="hint">Warden is one service provider for the whole instance; give your IdP these values.</p>
        <CopyField label="SAML SP entity ID (audience)" value={`${site}/api/saml/metadata/`} />
        <CopyField label="SAML ACS URL (recipient, destination)" value={`${site}/complete/saml/`} />
        <CopyField label="OIDC redirect URI" value={`${site}/complete/oidc/`} />
        <p>
          Or import its metadata:{' '}
          <a href="/api/saml/metadata/" download="warden-sp-metadata.xml">
            download SP metadata
          </a>
          .
        </p>
      </section>
      <ErrorMessage error={action.error ?? domains.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <form onSubmit={(e) => void add(e)} className="card inline-form" aria-labelledby="add-domain-heading">
        <h2 id="add-domain-heading">Add a domain</h2>
        <TextField
          label="Domain"
          placeholder="example.com"
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          disabled={Boolean(denial)}
          title={denial ?? undefined}
        />
        <GuardedButton type="submit" disabledReason={denial}>
          Add domain
        </GuardedButton>
      </form>
      {domains.data && domains.data.length === 0 ? <p>No domains yet.</p> : null}
      {(domains.data ?? []).map((d) => (
        <DomainCard key={d.id} domain={d} base={`${base}${d.id}/`} denial={denial} onChanged={() => void domains.reload()} />
      ))}
    </>
  );
}
