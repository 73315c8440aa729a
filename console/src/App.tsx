import { useEffect, type ComponentType } from 'react';
import { Layout } from './components/Layout';
import { ActivityLog } from './pages/ActivityLog';
import { AcceptInvite } from './pages/AcceptInvite';
import { ApiKeys } from './pages/ApiKeys';
import { KeyInventory } from './pages/KeyInventory';
import { Approvals } from './pages/Approvals';
import { AccessReviews } from './pages/AccessReviews';
import { AccessRequests } from './pages/AccessRequests';
import { AccessRequestBadge } from './components/AccessRequestBadge';
import { Members } from './pages/Members';
import { OrganizationSettings } from './pages/OrganizationSettings';
import { Projects } from './pages/Projects';
import { RolesAccess } from './pages/RolesAccess';
import { ServiceAccounts } from './pages/ServiceAccounts';
import { Setup } from './pages/Setup';
import { SignIn } from './pages/SignIn';
import { Sso } from './pages/Sso';
import { SignInSecurity } from './pages/SignInSecurity';
import { SecondFactorRequired } from './components/security/SecondFactorRequired';
import { navigate, usePath } from './router';
import { useSessionState } from './session';

export interface PageEntry {
  path: string;
  label: string;
  Page: ComponentType;
  /** Shown after the link (a count of what waits there). */
  Badge?: ComponentType;
}

export const PAGES: readonly PageEntry[] = [
  { path: '/members', label: 'Members', Page: Members },
  { path: '/projects', label: 'Projects', Page: Projects },
  { path: '/roles', label: 'Roles & access', Page: RolesAccess },
  { path: '/keys', label: 'Personal API keys', Page: ApiKeys },
  { path: '/service-accounts', label: 'Service accounts', Page: ServiceAccounts },
  { path: '/key-inventory', label: 'Key inventory', Page: KeyInventory },
  { path: '/sso', label: 'Single sign-on', Page: Sso },
  { path: '/activity', label: 'Activity log', Page: ActivityLog },
  { path: '/approvals', label: 'Approvals', Page: Approvals },
  { path: '/access-reviews', label: 'Access reviews', Page: AccessReviews },
  { path: '/access-requests', label: 'Access requests', Page: AccessRequests, Badge: AccessRequestBadge },
  { path: '/organization', label: 'Organization settings', Page: OrganizationSettings },
  { path: '/security', label: 'Sign-in security', Page: SignInSecurity },
];

const HOME = '/members';

export function App() {
  const path = usePath();
  const { status, error, initiated, session } = useSessionState();
  const page = PAGES.find((p) => path === p.path || path.startsWith(`${p.path}/`));
  // An invite link: the accept page, signed in or not.
  const inviteId = /^\/signup\/([^/]+)\/?$/.exec(path)?.[1];

  useEffect(() => {
    if (inviteId) return;
    if (status === 'signed-in' && !page) navigate(HOME, true);
    // A new instance opens on the page that creates its owner; otherwise signed-out people sign in.
    if (status === 'anonymous' && !initiated && path !== '/setup') navigate('/setup', true);
    else if (status === 'anonymous' && path !== '/setup' && path !== '/signin') navigate(`/signin`, true);
  }, [status, page, path, initiated, inviteId]);

  if (status === 'loading')
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  if (status === 'error') {
    return (
      <main className="center">
        <h1>Warden</h1>
        <p role="alert">{error}</p>
      </main>
    );
  }
  if (inviteId) return <AcceptInvite inviteId={decodeURIComponent(inviteId)} />;
  if (status === 'anonymous') return path === '/setup' ? <Setup /> : <SignIn />;
  if (session?.secondFactorRequired) return <SecondFactorRequired />;
  if (!page) return null;
  return (
    <Layout pages={PAGES} current={page}>
      <page.Page />
    </Layout>
  );
}
