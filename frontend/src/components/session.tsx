// Who is signed in (GET /me, once), and a counter that screens bump after changing the tree so that
// the navigation tree fetches what it shows again.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, getMe, type Me } from "../api";
import { ErrorState, Loading } from "./States";
import { en } from "../i18n/en";

interface Session {
  me: Me;
  treeVersion: number;
  treeChanged: () => void;
}

const SessionContext = createContext<Session | null>(null);

/** Send the browser to Django's sign-in page, coming back here afterwards. */
export function goToSignIn(next: string = window.location.pathname + window.location.search): void {
  window.location.assign(`/accounts/login/?next=${encodeURIComponent(next)}`);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [treeVersion, setTreeVersion] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    getMe(controller.signal)
      .then(setMe)
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        if (e instanceof ApiError && e.needsSignIn) goToSignIn();
        else setError(e);
      });
    return () => controller.abort();
  }, [attempt]);

  const treeChanged = useCallback(() => setTreeVersion((v) => v + 1), []);
  const value = useMemo(() => (me ? { me, treeVersion, treeChanged } : null), [me, treeVersion, treeChanged]);

  if (error) return <ErrorState error={error} onRetry={() => (setError(null), setAttempt((a) => a + 1))} />;
  if (!value) return <Loading label={en.app.loading} />;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession() outside <SessionProvider>");
  return session;
}
