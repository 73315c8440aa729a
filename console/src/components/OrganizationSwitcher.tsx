import { useId, useState } from 'react';
import { useSession } from '../session';
import { ErrorMessage } from './ErrorMessage';

/** Switches the current organization (PATCH /api/users/@me/ set_current_organization). */
export function OrganizationSwitcher() {
  const { me, organization, switchOrganization } = useSession();
  const id = useId();
  const [error, setError] = useState<unknown>(null);
  if (me.organizations.length === 0) return <span className="org-none">No organization</span>;
  return (
    <div className="org-switcher">
      <label htmlFor={id}>Organization</label>
      <select
        id={id}
        value={organization?.id ?? ''}
        onChange={(e) => {
          setError(null);
          switchOrganization(e.target.value).catch(setError);
        }}
      >
        {me.organizations.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
      <ErrorMessage error={error} />
    </div>
  );
}
