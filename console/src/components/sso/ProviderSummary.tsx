/**
 * What someone who may not change a domain's identity provider sees of it: whether it is set up,
 * and why its settings are not shown (the API keeps them for admins), instead of empty disabled
 * fields under a "configured" badge.
 */
export function ProviderSummary({ name, configured, denial }: { name: string; configured: boolean; denial: string }) {
  return (
    <div className="subsection" aria-label={`${name} of this domain`} role="group">
      <h3>{name}</h3>
      <p>
        {configured ? `${name} is set up for this domain.` : `${name} is not set up for this domain.`}{' '}
        <span className="hint">Its settings are shown to organization admins. ({denial})</span>
      </p>
    </div>
  );
}
