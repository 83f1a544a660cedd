import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.ts';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  /** Loads again now (after an action). */
  readonly reload: () => Promise<void>;
}

/**
 * Loads `load()` now and every `intervalMs` while the component is mounted (and the tab is
 * visible). `key` restarts it when what it loads changes.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, key: string): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (cause) {
      if (mine !== generation.current) return;
      setError(cause instanceof ApiError ? cause : new ApiError(0, 'CONSOLE', String(cause)));
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the restart trigger on purpose.
  useEffect(() => {
    setData(undefined);
    void reload();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, intervalMs);
    return () => {
      clearInterval(timer);
      generation.current++;
    };
  }, [key, intervalMs, reload]);

  return { data, error, reload };
}
