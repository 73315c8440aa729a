import { useState, type FormEvent } from 'react';
import type { ApiKey } from '../api/types';
import { TextField } from './Field';
import { parseRanges } from './KeyForm';

export interface NetworksChange {
  allowed_ips: string[] | null;
  rate_limit_per_minute: number | null;
}

/** Changes a key's allowed address ranges and rate limit (PATCH on the key; docs/key-networks.md). */
export function KeyNetworksEditor({ apiKey, onSave, onCancel }: { apiKey: ApiKey; onSave(change: NetworksChange): Promise<boolean>; onCancel(): void }) {
  const [ranges, setRanges] = useState((apiKey.allowed_ips ?? []).join(', '));
  const [rate, setRate] = useState(apiKey.rate_limit_per_minute?.toString() ?? '');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await onSave({ allowed_ips: parseRanges(ranges), rate_limit_per_minute: rate.trim() ? Number(rate) : null });
    if (ok) onCancel();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="key-networks" aria-label={`Networks of ${apiKey.label}`}>
      <TextField
        label="Allowed address ranges"
        name="allowed_ips"
        placeholder="203.0.113.0/24, 2001:db8::/32"
        value={ranges}
        onChange={(e) => setRanges(e.target.value)}
        hint="CIDR or single addresses, separated by commas. Empty: anywhere."
      />
      <TextField
        label="Rate limit (requests per minute)"
        name="rate_limit_per_minute"
        type="number"
        min={1}
        max={1000000}
        value={rate}
        onChange={(e) => setRate(e.target.value)}
        hint="Empty: no limit."
      />
      <div className="actions">
        <button type="submit">Save networks</button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
