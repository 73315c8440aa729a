import { del, post } from '../../api/client';
import type { Domain } from '../../api/types';
import { ErrorMessage } from '../ErrorMessage';
import { GuardedButton } from '../GuardedButton';
import { useAction } from '../useLoad';
import { Enforcement } from './Enforcement';
import { GroupMappings } from './GroupMappings';
import { OidcSettings } from './OidcSettings';
import { SamlSettings } from './SamlSettings';
import { ScimSettings } from './ScimSettings';

/** One domain: verification first, then its identity providers and policies. */
export function DomainCard({ domain, base, denial, onChanged }: { domain: Domain; base: string; denial: string | null; onChanged(): void }) {
  const action = useAction();
  const verify = () =>
    void action.run(async () => {
      const checked = await post<Domain>(`${base}verify/`);
      onChanged();
      if (!checked.is_verified) throw new Error(`The TXT record was not found yet. DNS changes can take a while; try again later.`);
    }, 'Domain verified.');
  const remove = () =>
    void action.run(async () => {
      await del(base);
      onChanged();
    });
  const headingId = `domain-${domain.id}`;

  return (
    <section className="card domain" aria-labelledby={headingId}>
      <div className="role-head">
        <h2 id={headingId}>
          {domain.domain} <span className={domain.is_verified ? 'badge ok' : 'badge warn'}>{domain.is_verified ? 'verified' : 'not verified'}</span>
        </h2>
        <GuardedButton className="danger" disabledReason={denial} onClick={remove} aria-label={`Remove domain ${domain.domain}`}>
          Remove
        </GuardedButton>
      </div>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {!domain.is_verified ? (
        <div className="instructions">
          <h3>Verify {domain.domain}</h3>
          {domain.verification_challenge ? (
            <ol>
              <li>
                At your DNS provider, add a <strong>TXT</strong> record named <code>_posthog-challenge.{domain.domain}</code>
              </li>
              <li>
                with the value <code className="challenge">{domain.verification_challenge}</code>
              </li>
              <li>then press Verify. Until the record is seen, the domain stays unverified.</li>
            </ol>
          ) : (
            <p>An organization admin sees the verification record.</p>
          )}
          <GuardedButton disabledReason={denial} onClick={verify} disabled={action.busy}>
            Verify
          </GuardedButton>
        </div>
      ) : null}
      <Enforcement domain={domain} base={base} denial={denial} onChanged={onChanged} />
      <SamlSettings domain={domain} base={base} denial={denial} onChanged={onChanged} />
      <OidcSettings domain={domain} base={base} denial={denial} onChanged={onChanged} />
      <GroupMappings domain={domain} base={base} denial={denial} />
      <ScimSettings domain={domain} base={base} denial={denial} onChanged={onChanged} />
    </section>
  );
}
