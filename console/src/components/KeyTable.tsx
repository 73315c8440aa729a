import { Fragment, useState } from 'react';
import type { ApiKey } from '../api/types';
import { GuardedButton } from './GuardedButton';
import { KeyNetworksEditor, type NetworksChange } from './KeyNetworksEditor';

const when = (iso: string | null, never = 'never') => (iso ? new Date(iso).toLocaleString() : never);

/** A key's address ranges (or "anywhere") and its rate limit, as the key tables show them. */
export function KeyNetworks({ allowedIps, rate }: { allowedIps: readonly string[] | null; rate: number | null }) {
  return (
    <>
      {allowedIps && allowedIps.length > 0 ? <span className="ranges">{allowedIps.join(', ')}</span> : <span className="muted">anywhere</span>}
      {rate !== null ? <span className="badge">{rate}/min</span> : null}
    </>
  );
}

/** Keys with their scopes, networks, last use and expiry; roll and delete. */
export function KeyTable({
  keys,
  onRoll,
  onDelete,
  onSaveNetworks,
  disabledReason,
  caption,
}: {
  keys: ApiKey[];
  onRoll(k: ApiKey): void;
  onDelete(k: ApiKey): void;
  /** Changes a key's ranges and rate; without it the table only shows them. */
  onSaveNetworks?(k: ApiKey, change: NetworksChange): Promise<boolean>;
  disabledReason?: string | null;
  caption: string;
}) {
  const [editing, setEditing] = useState<string | null>(null);
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
            <th scope="col">Networks</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const expired = k.expires_at !== null && new Date(k.expires_at).getTime() < Date.now();
            return (
              <Fragment key={k.id}>
                <tr>
                  <td>{k.label}</td>
                  <td>
                    <code>{k.mask_value}</code>
                  </td>
                  <td className="scopes">{k.scopes.join(', ')}</td>
                  <td className="networks">
                    <KeyNetworks allowedIps={k.allowed_ips} rate={k.rate_limit_per_minute} />
                  </td>
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
                    {onSaveNetworks ? (
                      <GuardedButton
                        className="secondary"
                        disabledReason={disabledReason}
                        onClick={() => setEditing(editing === k.id ? null : k.id)}
                        aria-expanded={editing === k.id}
                        aria-label={`Networks of ${k.label}`}
                      >
                        Networks
                      </GuardedButton>
                    ) : null}
                  </td>
                </tr>
                {onSaveNetworks && editing === k.id ? (
                  <tr>
                    <td colSpan={7}>
                      <KeyNetworksEditor apiKey={k} onSave={(change) => onSaveNetworks(k, change)} onCancel={() => setEditing(null)} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
