import { useState, type FormEvent } from 'react';
import { post } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { TextField } from '../components/Field';
import { FieldErrors } from '../components/FieldErrors';
import { useAction } from '../components/useLoad';
import { Link } from '../router';
import { useSessionState } from '../session';

/**
 * First run: the first account of an instance creates its first organization and owns it
 * (POST /api/signup/). On an instance that already has users the API refuses, and says why.
 */
export function Setup() {
  const { reload } = useSessionState();
  const [form, setForm] = useState({ first_name: '', email: '', password: '', organization_name: '' });
  const action = useAction();
  const set = (name: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Signed in first, then to the members page: never through the sign-in page on the way.
    if (await action.run(() => post('/api/signup/', form))) await reload();
  };

  return (
    <main className="center auth">
      <h1>Set up Warden</h1>
      <p>Create the first account. It owns the first organization and can invite everyone else.</p>
      <FieldErrors error={action.error}>
        <form onSubmit={(e) => void submit(e)} className="card">
          <TextField label="Your name" name="first_name" autoComplete="given-name" required value={form.first_name} onChange={set('first_name')} />
          <TextField label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={set('email')} />
          <TextField
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={set('password')}
            hint="At least 8 characters."
          />
          <TextField label="Organization name" name="organization_name" required value={form.organization_name} onChange={set('organization_name')} />
          <ErrorMessage error={action.error} />
          <button type="submit" disabled={action.busy}>
            Create owner account
          </button>
        </form>
      </FieldErrors>
      <p>
        Already set up? <Link to="/signin">Log in</Link>
      </p>
    </main>
  );
}
