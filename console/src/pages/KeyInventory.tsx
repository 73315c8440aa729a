import { del, get } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { GuardedButton } from '../components/GuardedButton';
import { KeyNetworks } from '../components/KeyTable';
import { useAction, useLoad } from '../components/useLoad';
import { INSUFFICIENT_ORG_LEVEL, LEVEL_NAMES, OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** One key of the inventory (GET /api/organizations/:id/personal_api_keys/). */
interface InventoryKey {
  id: string;
  label: string;
  mask_value: string;
  scopes: string[];
  scoped_teams: number[];
  scoped_organizations: string[];
  allowed_ips: string[] | null;
  rate_limit_per_minute: number | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  owner: { uuid: string; email: string; first_name: string; is_service_account: boolean; level: number };
  can_revoke: boolean;
}

/** src/access/grant-ceiling.ts target_above_own_level */
const ABOVE_YOUR_LEVEL = 'You can only edit others with level lower or equal to you.';

const when = (iso: string | null, never = 'never') => (iso ? new Date(iso).toLocaleString() : never);

/** The organization's key inventory: every member's keys that reach it; admins revoke them. */
export function KeyInventory() {
  const { organization, level } = useSession();
  const base = `/api/organizations/${organization?.id}/personal_api_keys/`;
  const isAdmin = level >= OrganizationLevel.ADMIN;
  const keys = useLoad(async () => (isAdmin ? (await get<{ results: InventoryKey[] }>(base)).results : []), [base, isAdmin]);
  const action = useAction();
  const projectName = (id: number) => organization?.teams.find((t) => t.id === id)?.name ?? `project ${id}`;

  const revoke = (k: InventoryKey) =>
    void action.run(async () => {
      await del(`${base}${k.id}/`);
      await keys.reload();
    }, `Key ${k.label} of ${k.owner.email} revoked: it no longer works.`);

  return (
    <>
      <h1>Key inventory</h1>
      <p>Every personal API key of this organization's members and service accounts that can reach it. Revoking a key stops it at once, on every node.</p>
      {!isAdmin ? <p role="alert">{INSUFFICIENT_ORG_LEVEL}</p> : null}
      <ErrorMessage error={action.error ?? keys.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {isAdmin && keys.data && keys.data.length === 0 ? <p>No keys.</p> : null}
      {keys.data && keys.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Personal API keys of the organization</caption>
            <thead>
              <tr>
                <th scope="col">Owner</th>
                <th scope="col">Label</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Confined to</th>
                <th scope="col">Networks</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td>
                    {k.owner.is_service_account ? `${k.owner.first_name} (service account)` : k.owner.email}
                    <span className="badge">{LEVEL_NAMES[k.owner.level] ?? k.owner.level}</span>
                  </td>
                  <td>{k.label}</td>
                  <td>
                    <code>{k.mask_value}</code>
                  </td>
                  <td className="scopes">{k.scopes.join(', ')}</td>
                  <td>
                    {[
                      ...k.scoped_teams.map(projectName),
                      ...k.scoped_organizations.map((o) => (o === organization?.id ? 'this organization' : `organization ${o}`)),
                    ].join(', ') || 'not confined'}
                  </td>
                  <td className="networks">
                    <KeyNetworks allowedIps={k.allowed_ips} rate={k.rate_limit_per_minute} />
                  </td>
                  <td>{when(k.created_at)}</td>
                  <td>{when(k.last_used_at)}</td>
                  <td>{when(k.expires_at)}</td>
                  <td className="actions">
                    <GuardedButton
                      className="danger"
                      disabledReason={k.can_revoke ? null : ABOVE_YOUR_LEVEL}
                      onClick={() => revoke(k)}
                      aria-label={`Revoke ${k.label} of ${k.owner.email}`}
                    >
                      Revoke
                    </GuardedButton>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
