import type { ApiKey } from '../api/types';
import { GuardedButton } from './GuardedButton';

const when = (iso: string | null, never = 'never') => (iso ? new Date(iso).toLocaleString() : never);

/** Keys with their scopes, last use and expiry; roll and delete. */
export function KeyTable({
  keys,
  onRoll,
  onDelete,
  disabledReason,
  caption,
}: {
  keys: ApiKey[];
  onRoll(k: ApiKey): void;
  onDelete(k: ApiKey): void;
  disabledReason?: string | null;
  caption: string;
}) {
  if (keys.length === 0) return <p>No keys yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col">Key</th>
            <th scope="col">Scopes</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const expired = k.expires_at !== null && new Date(k.expires_at).getTime() < Date.now();
            return (
              <tr key={k.id}>
                <td>{k.label}</td>
                <td>
                  <code>{k.mask_value}</code>
                </td>
                <td className="scopes">{k.scopes.join(', ')}</td>
                <td>{when(k.last_used_at)}</td>
                <td>
                  {when(k.expires_at)}
                  {expired ? <span className="badge warn">expired</span> : null}
                </td>
                <td className="actions">
                  <GuardedButton className="secondary" disabledReason={disabledReason} onClick={() => onRoll(k)} aria-label={`Roll ${k.label}`}>
                    Roll
                  </GuardedButton>
                  <GuardedButton className="danger" disabledReason={disabledReason} onClick={() => onDelete(k)} aria-label={`Delete ${k.label}`}>
                    Delete
                  </GuardedButton>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
