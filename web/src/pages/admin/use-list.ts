import { useCallback, useEffect, useState } from 'react';

/** A list the API answers as `{ items }`, loaded on mount and again on `reload()`; a refusal's detail as `error`. */
export function useList<T>(load: () => Promise<{ items: T[] }>): { items: T[]; reload: () => void; error: string | undefined } {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  // `load` is a bound client method (stable); `tick` is what asks for a reload.
  useEffect(() => {
    let live = true;
    load().then(
      (r) => {
        if (!live) return;
        setItems(r.items);
        setError(undefined);
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [tick]);
  const reload = useCallback(() => setTick((x) => x + 1), []);
  return { items, reload, error };
}
