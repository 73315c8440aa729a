import { useCallback, useEffect, useState } from 'react';

/** Loads data for a page; `reload` after a change. Errors are kept for <ErrorMessage>. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload(): Promise<void> } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await run());
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

/**
 * Runs a user's action: remembers its error (shown by the page) and a short success message. Both
 * go as soon as the person types or picks something again, so no message outlives what it was about.
 */
export function useAction() {
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!error && !message) return;
    const clear = () => {
      setError(null);
      setMessage(null);
    };
    // On the document, bubbling: after React's own handler at the root has read the new value (a
    // re-render before it would put a controlled input's old value back).
    document.addEventListener('input', clear, { once: true });
    return () => document.removeEventListener('input', clear);
  }, [error, message]);
  const run = useCallback(async (action: () => Promise<unknown>, success?: string) => {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await action();
      if (success) setMessage(success);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, message, busy, run, setError };
}
