import { useState, type FormEvent } from 'react';
import { all, del, get, patch, post } from '../api/client';
import type { ApiKey, ServiceAccount } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { SelectField, TextField } from '../components/Field';
import { GuardedButton } from '../components/GuardedButton';
import { KeyForm, type KeyDraft } from '../components/KeyForm';
import type { NetworksChange } from '../components/KeyNetworksEditor';
import { KeyTable } from '../components/KeyTable';
import { SecretOnce } from '../components/SecretOnce';
import { useAction, useLoad } from '../components/useLoad';
import { INSUFFICIENT_ORG_LEVEL, LEVEL_NAMES, OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** Service accounts: organization-owned principals and their keys (admins manage them). */
export function ServiceAccounts() {
  const { organization, level } = useSession();
  const base = `/api/organizations/${organization?.id}/service_accounts/`;
  const accounts = useLoad(() => all<ServiceAccount>(base), [base]);
  const action = useAction();
  const [form, setForm] = useState({ name: '', level: OrganizationLevel.MEMBER as number });
  const [open, setOpen] = useState<string | null>(null);
  const denial = level < OrganizationLevel.ADMIN ? INSUFFICIENT_ORG_LEVEL : null;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    let created: ServiceAccount | null = null;
    if (await action.run(async () => (created = await post<ServiceAccount>(base, form)), `Service account ${form.name} created.`)) {
      setForm({ name: '', level: OrganizationLevel.MEMBER });
      await accounts.reload();
      setOpen((created as ServiceAccount | null)?.id ?? null);
    }
  };

  const remove = (a: ServiceAccount) =>
    void action.run(async () => {
      await del(`${base}${a.id}/`);
      await accounts.reload();
    }, `Service account ${a.name} deleted.`);

  return (
    <>
      <h1>Service accounts</h1>
      <p>Service accounts belong to the organization: their keys keep working when the admin who made them leaves, and they cannot log in.</p>
      <ErrorMessage error={action.error ?? accounts.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <form onSubmit={(e) => void create(e)} className="card inline-form" aria-labelledby="new-account-heading">
        <h2 id="new-account-heading">New service account</h2>
        <TextField
          label="Name"
          required
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          disabled={Boolean(denial)}
          title={denial ?? undefined}
        />
        <SelectField label="Level" value={form.level} disabledReason={denial} onChange={(e) => setForm({ ...form, level: Number(e.target.value) })}>
          {[OrganizationLevel.MEMBER, OrganizationLevel.ADMIN].map((l) => (
            <option key={l} value={l}>
              {LEVEL_NAMES[l]}
            </option>
          ))}
        </SelectField>
        <GuardedButton type="submit" disabledReason={denial}>
          Create service account
        </GuardedButton>
      </form>
      {accounts.data && accounts.data.length === 0 ? <p>No service accounts yet.</p> : null}
      <ul className="account-list">
        {(accounts.data ?? []).map((a) => (
          <li key={a.id} className="card">
            <div className="role-head">
              <h2>
                {a.name} <span className="badge">{LEVEL_NAMES[a.level] ?? a.level}</span>
              </h2>
              <div className="actions">
                <button type="button" className="secondary" aria-expanded={open === a.id} onClick={() => setOpen(open === a.id ? null : a.id)}>
                  {open === a.id ? 'Hide keys' : 'Keys'}
                </button>
                <GuardedButton className="danger" disabledReason={denial} onClick={() => remove(a)} aria-label={`Delete service account ${a.name}`}>
                  Delete
                </GuardedButton>
              </div>
            </div>
            {open === a.id ? <AccountKeys account={a} base={`${base}${a.id}/keys/`} denial={denial} /> : null}
          </li>
        ))}
      </ul>
    </>
  );
}

function AccountKeys({ account, base, denial }: { account: ServiceAccount; base: string; denial: string | null }) {
  const keys = useLoad(() => get<ApiKey[]>(base), [base]);
  const action = useAction();
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);

  const create = (draft: KeyDraft) =>
    action.run(async () => {
      const key = await post<ApiKey>(base, draft);
      setSecret({ label: `Key “${key.label}” of ${account.name}`, value: key.value ?? '' });
      await keys.reload();
    }, 'Key created.');
  const roll = (k: ApiKey) =>
    void action.run(async () => {
      const rolled = await post<ApiKey>(`${base}${k.id}/roll/`);
      setSecret({ label: `New value of “${rolled.label}”`, value: rolled.value ?? '' });
      await keys.reload();
    }, `Key ${k.label} rolled.`);
  const saveNetworks = (k: ApiKey, change: NetworksChange) =>
    action.run(async () => {
      await patch<ApiKey>(`${base}${k.id}/`, change);
      await keys.reload();
    }, `Networks of ${k.label} saved.`);

  const remove = (k: ApiKey) =>
    void action.run(async () => {
      await del(`${base}${k.id}/`);
      await keys.reload();
    }, `Key ${k.label} deleted.`);

  return (
    <div className="account-keys">
      <ErrorMessage error={action.error ?? keys.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {secret ? <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}
      <KeyTable
        keys={keys.data ?? []}
        onRoll={roll}
        onDelete={remove}
        onSaveNetworks={saveNetworks}
        disabledReason={denial}
        caption={`Keys of ${account.name}`}
      />
      <h3>New key for {account.name}</h3>
      <KeyForm onCreate={create} disabledReason={denial} submitLabel={`Create key for ${account.name}`} />
    </div>
  );
}
