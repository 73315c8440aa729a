import { useEffect, useRef, type ReactNode } from 'react';
import { post } from '../api/client';
import type { PageEntry } from '../App';
import { Link } from '../router';
import { useSession, useSessionState } from '../session';
import { OrganizationSwitcher } from './OrganizationSwitcher';

/** The frame of every signed-in page: skip link, header with the organization switcher, navigation. */
export function Layout({ pages, current, children }: { pages: readonly PageEntry[]; current: PageEntry; children: ReactNode }) {
  const { me } = useSession();
  const { reload } = useSessionState();
  const main = useRef<HTMLElement>(null);

  // After navigating, focus the page's heading so screen readers announce the new page.
  useEffect(() => {
    document.title = `${current.label} · Warden`;
    const heading = main.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }, [current]);

  const logOut = async () => {
    await post('/api/logout/').catch(() => undefined);
    await reload();
  };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand" aria-hidden="true">
          Warden
        </span>
        <OrganizationSwitcher />
        <div className="me">
          <span className="me-email">{me.email}</span>
          <button type="button" className="secondary" onClick={() => void logOut()}>
            Log out
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Console">
        <ul>
          {pages.map((p) => (
            <li key={p.path}>
              <Link to={p.path} aria-current={p === current ? 'page' : undefined}>
                {p.label}
              </Link>
              {p.Badge ? <p.Badge /> : null}
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} className="content">
        {children}
      </main>
    </div>
  );
}
