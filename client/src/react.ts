import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import type { TagwayClient } from './http.js';
import type { LiveClient, LiveStatus, LiveValue } from './live.js';
import type { AlarmFilter, AlarmOccurrence, HistoryParams, HistoryResult } from './types.js';

interface Tagway {
  client: TagwayClient;
  live: LiveClient;
}

const Context = createContext<Tagway | undefined>(undefined);

/** Makes a client and its live connection available to the hooks below. */
export function TagwayProvider(props: { client: TagwayClient; live: LiveClient; children?: ReactNode }) {
  const value = useMemo(() => ({ client: props.client, live: props.live }), [props.client, props.live]);
  return createElement(Context.Provider, { value }, props.children);
}

export function useTagway(): Tagway {
  const t = useContext(Context);
  if (!t) throw new Error('Tagway hooks need a <TagwayProvider client={…} live={…}> above them');
  return t;
}

/** The live connection's state: 'open', or why values may be stale. */
export function useLiveStatus(): LiveStatus {
  const { live } = useTagway();
  return useSyncExternalStore(
    (cb) => live.onStatus(cb),
    () => live.status,
  );
}

/** One tag's live value (`stale` while disconnected); undefined until the first value arrives. */
export function useTag(name: string | undefined): LiveValue | undefined {
  const values = useTags(name ? [name] : []);
  return name ? values.get(name) : undefined;
}

/**
 * Live values of tag names and globs (the API's `*` and `**`), as a map by tag name. Re-renders at most once per
 * animation frame however fast values arrive.
 */
export function useTags(tags: readonly string[], options: { minIntervalMs?: number } = {}): ReadonlyMap<string, LiveValue> {
  const { live } = useTagway();
  const key = tags.join('\u0000');
  const [values, setValues] = useState<ReadonlyMap<string, LiveValue>>(() => new Map());
  const pending = useRef(new Map<string, LiveValue>());
  useEffect(() => {
    if (tags.length === 0) return;
    setValues(new Map());
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const batch = pending.current;
      if (batch.size === 0) return;
      pending.current = new Map();
      setValues((old) => {
        const next = new Map(old);
        for (const [k, v] of batch) next.set(k, v);
        return next;
      });
    };
    const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
    const off = live.subscribeTags(
      [...tags],
      (items) => {
        for (const v of items) pending.current.set(v.name, v);
        if (scheduled) return;
        scheduled = true;
        if (raf) raf(flush);
        else setTimeout(flush, 16);
      },
      options.minIntervalMs ? { minIntervalMs: options.minIntervalMs } : {},
    );
    return () => {
      off();
      pending.current = new Map();
    };
  }, [live, key, options.minIntervalMs]);
  return values;
}

export interface AlarmsState {
  items: AlarmOccurrence[];
  loading: boolean;
  error: Error | undefined;
  reload: () => void;
}

/** The current alarms matching a filter (newest first), kept up to date by live alarm events. */
export function useAlarms(filter: AlarmFilter = {}): AlarmsState {
  const { client, live } = useTagway();
  const key = JSON.stringify(filter);
  const [state, setState] = useState<Omit<AlarmsState, 'reload'>>({ items: [], loading: true, error: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      client.currentAlarms(JSON.parse(key) as AlarmFilter).then(
        (r) => alive && setState({ items: r.items, loading: false, error: undefined }),
        (err: Error) => alive && setState((s) => ({ ...s, loading: false, error: err })),
      );
    };
    // An event changes an occurrence's state; the server's view of the current list is the truth, fetched once per burst.
    const soon = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        load();
      }, 150);
    };
    load();
    const { lang: _lang, ...liveFilter } = JSON.parse(key) as AlarmFilter;
    const off = live.subscribeAlarms(liveFilter, soon, soon);
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
      off();
    };
  }, [client, live, key, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export interface HistoryState {
  data: HistoryResult | undefined;
  loading: boolean;
  error: Error | undefined;
}

/** One tag's history (raw or aggregated, as the parameters say); refetched when they change. */
export function useHistory(name: string | undefined, params: HistoryParams): HistoryState {
  const { client } = useTagway();
  const key = JSON.stringify(params);
  const [state, setState] = useState<HistoryState>({ data: undefined, loading: true, error: undefined });
  useEffect(() => {
    if (!name) return;
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    client.history(name, JSON.parse(key) as HistoryParams).then(
      (data) => alive && setState({ data, loading: false, error: undefined }),
      (error: Error) => alive && setState({ data: undefined, loading: false, error }),
    );
    return () => {
      alive = false;
    };
  }, [client, name, key]);
  return state;
}
