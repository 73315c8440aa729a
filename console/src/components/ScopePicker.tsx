import { useId, useMemo, useState } from 'react';
import { ALL_SCOPES, SCOPE_OBJECTS, SCOPE_PRESETS, scopesOutsidePolicy } from '../rules';

type Access = 'none' | 'read' | 'write';

function accessOf(scopes: readonly string[], object: string): Access {
  if (scopes.includes(`${object}:write`)) return 'write';
  if (scopes.includes(`${object}:read`)) return 'read';
  return 'none';
}

/**
 * Scopes grouped by object (the server's catalogue, src/access/scopes.ts), each none/read/write,
 * with presets for the source document's three keys and `*`. Scopes outside the organization's key
 * policy are disabled with the reason.
 */
export function ScopePicker({
  value,
  onChange,
  allowed,
  legend = 'Scopes',
}: {
  value: string[];
  onChange(scopes: string[]): void;
  allowed?: readonly string[] | null;
  legend?: string;
}) {
  const id = useId();
  const [filter, setFilter] = useState('');
  const all = value.includes(ALL_SCOPES);
  const objects = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const chosen = SCOPE_OBJECTS.filter((o) => accessOf(value, o) !== 'none');
    const rest = SCOPE_OBJECTS.filter((o) => accessOf(value, o) === 'none' && (!f || o.includes(f)));
    return f ? [...chosen.filter((o) => o.includes(f)), ...rest] : [...chosen, ...rest];
  }, [filter, value]);
  const outside = (scope: string) => (allowed ? scopesOutsidePolicy([scope], allowed).length > 0 : false);
  const policyReason = "Outside your organization's key policy.";

  const set = (object: string, access: Access) => {
    const next = value.filter((s) => s !== ALL_SCOPES && !s.startsWith(`${object}:`));
    if (access !== 'none') next.push(`${object}:${access}`);
    onChange(next);
  };

  return (
    <fieldset className="scope-picker">
      <legend>{legend}</legend>
      <div className="preset-row" role="group" aria-label="Presets">
        {SCOPE_PRESETS.map((p) => {
          const blocked = p.scopes.some(outside);
          return (
            <button
              key={p.name}
              type="button"
              className="secondary"
              aria-pressed={p.scopes.length === value.length && p.scopes.every((s) => value.includes(s))}
              disabled={blocked}
              title={blocked ? policyReason : p.scopes.join(', ')}
              onClick={() => onChange([...p.scopes])}
            >
              {p.label}
            </button>
          );
        })}
        <label className="inline-check">
          <input
            type="checkbox"
            checked={all}
            disabled={outside(ALL_SCOPES)}
            title={outside(ALL_SCOPES) ? policyReason : undefined}
            onChange={(e) => onChange(e.target.checked ? [ALL_SCOPES] : [])}
          />
          All access (*)
        </label>
      </div>
      <p className="hint" aria-live="polite">
        {all ? 'This key can do everything its user can.' : value.length === 0 ? 'No scopes chosen.' : `Chosen: ${value.join(', ')}`}
      </p>
      {!all ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-filter`}>Find an object</label>
            <input id={`${id}-filter`} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="feature_flag, insight, …" />
          </div>
          <div className="scope-table" role="group" aria-label="Scopes by object">
            <table>
              <thead>
                <tr>
                  <th scope="col">Object</th>
                  <th scope="col">None</th>
                  <th scope="col">Read</th>
                  <th scope="col">Write</th>
                </tr>
              </thead>
              <tbody>
                {objects.map((object) => {
                  const current = accessOf(value, object);
                  return (
                    <tr key={object}>
                      <th scope="row">{object}</th>
                      {(['none', 'read', 'write'] as const).map((access) => {
                        const blocked = access !== 'none' && outside(`${object}:${access}`);
                        return (
                          <td key={access}>
                            <input
                              type="radio"
                              name={`${id}-${object}`}
                              aria-label={`${object}: ${access}`}
                              checked={current === access}
                              disabled={blocked}
                              title={blocked ? policyReason : undefined}
                              onChange={() => set(object, access)}
                            />
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </fieldset>
  );
}
