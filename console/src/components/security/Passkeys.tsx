import { startRegistration } from '@simplewebauthn/browser';
import { useState, type FormEvent } from 'react';
import { del, get, patch, post } from '../../api/client';
import { ErrorMessage } from '../ErrorMessage';
import { TextField } from '../Field';
import { useAction, useLoad } from '../useLoad';

interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : 'never');

/** Passkeys: add one with this device's authenticator, rename, remove. */
export function Passkeys({ onChange }: { onChange?: () => void }) {
  const list = useLoad(() => get<{ results: Passkey[] }>('/api/users/@me/passkeys/'), []);
  const action = useAction();
  const [name, setName] = useState('');
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await action.run(async () => {
      const optionsJSON = await post<Parameters<typeof startRegistration>[0]['optionsJSON']>('/api/users/@me/passkeys/register_options/');
      const response = await startRegistration({ optionsJSON });
      await post('/api/users/@me/passkeys/', { name, response });
    }, `Passkey ${name} added.`);
    if (ok) {
      setName('');
      await list.reload();
      onChange?.();
    }
  };
  const rename = async (e: FormEvent) => {
    e.preventDefault();
    if (!renaming) return;
    if (await action.run(() => patch(`/api/users/@me/passkeys/${renaming.id}/`, { name: renaming.name }), `Passkey renamed to ${renaming.name}.`)) {
      setRenaming(null);
      await list.reload();
    }
  };
  const remove = (p: Passkey) =>
    void action.run(async () => {
      await del(`/api/users/@me/passkeys/${p.id}/`);
      await list.reload();
    }, `Passkey ${p.name} removed.`);

  return (
    <section className="card" aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      <p>A passkey signs you in without a password, or serves as your second factor after it.</p>
      <ErrorMessage error={action.error ?? list.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <table>
        <caption className="visually-hidden">Your passkeys</caption>
        <thead>
          <tr>
            <th>Name</th>
            <th>Added</th>
            <th>Last used</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.results ?? []).map((p) => (
            <tr key={p.id}>
              <td>{p.name}</td>
              <td>{when(p.created_at)}</td>
              <td>{when(p.last_used_at)}</td>
              <td>
                <button type="button" onClick={() => setRenaming({ id: p.id, name: p.name })}>
                  Rename {p.name}
                </button>{' '}
                <button type="button" className="danger" onClick={() => remove(p)}>
                  Remove {p.name}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {renaming ? (
        <form onSubmit={(e) => void rename(e)} aria-label="Rename passkey">
          <TextField label="New name" required value={renaming.name} onChange={(e) => setRenaming({ ...renaming, name: e.target.value })} />
          <button type="submit" disabled={action.busy}>
            Save name
          </button>
        </form>
      ) : null}
      <form onSubmit={(e) => void add(e)} aria-label="Add a passkey">
        <TextField label="Passkey name" required value={name} onChange={(e) => setName(e.target.value)} hint="For example: work laptop." />
        <button type="submit" disabled={action.busy}>
          Add a passkey
        </button>
      </form>
    </section>
  );
}
