/** Who is signed in, and in which organization: loaded from `/api/users/@me/` and the organization. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiError, get, patch } from './api/client';
import type { Me, Organization } from './api/types';

export interface Session {
  me: Me;
  organization: Organization | null;
  /** The signed-in user's level in the current organization. */
  level: number;
  reload(): Promise<void>;
  switchOrganization(id: string): Promise<void>;
  /** An organization requires 2FA and this person has no second factor yet: only set-up is open. */
  secondFactorRequired?: boolean;
}

interface SessionState {
  status: 'loading' | 'anonymous' | 'signed-in' | 'error';
  session: Session | null;
  /** Whether the instance has its owner yet (PostHog's preflight `initiated`); a new one opens on the create-owner page. */
  initiated: boolean;
  error: string | null;
  reload(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Omit<SessionState, 'reload'>>({ status: 'loading', session: null, error: null, initiated: true });

  const reload = useCallback(async () => {
    try {
      const me = await get<Me>('/api/users/@me/');
      let secondFactorRequired = false;
      const organization = me.organization
        ? await get<Organization>(`/api/organizations/${me.organization.id}/`).catch((err: unknown) => {
            if (!(err instanceof ApiError && err.code === 'two_factor_setup_required')) throw err;
            secondFactorRequired = true;
            return null;
          })
        : null;
      setState({
        status: 'signed-in',
        error: null,
        initiated: true,
        session: {
          me,
          organization,
          level: organization?.membership_level ?? 0,
          secondFactorRequired,
          reload,
          async switchOrganization(id: string) {
            await patch<Me>('/api/users/@me/', { set_current_organization: id });
            await reload();
          },
        },
      });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        const { initiated } = await get<{ initiated: boolean }>('/api/preflight/').catch(() => ({ initiated: true }));
        setState({ status: 'anonymous', session: null, error: null, initiated });
      } else setState({ status: 'error', session: null, error: err instanceof Error ? err.message : String(err), initiated: true });
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  return <SessionContext.Provider value={{ ...state, reload }}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState outside SessionProvider');
  return state;
}

/** The signed-in session; pages under the layout only render once there is one. */
export function useSession(): Session {
  const { session } = useSessionState();
  if (!session) throw new Error('useSession without a signed-in user');
  return session;
}
