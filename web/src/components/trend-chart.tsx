import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HistoryResult } from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';

const NICE_MS = [
  1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];
const COLORS = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00897b'];

/**
 * How to ask for a range: raw samples up to an hour, buckets beyond (about 600 per tag, at a round interval), so a
 * 30-day range of 1 s data asks for ~720 averages instead of 2.6 million points.
 */
export function historyPlan(rangeMs: number): { aggregate?: 'avg'; interval?: string; limit: number } {
  if (rangeMs <= 3_600_000) return { limit: 10_000 };
  const want = rangeMs / 600;
  const ms = NICE_MS.find((n) => n >= want) ?? 86_400_000;
  return {
    aggregate: 'avg',
    interval:
      ms % 86_400_000 === 0
        ? `${ms / 86_400_000}d`
        : ms % 3_600_000 === 0
          ? `${ms / 3_600_000}h`
          : ms % 60_000 === 0
            ? `${ms / 60_000}m`
            : `${ms / 1000}s`,
    limit: 10_000,
  };
}

export interface TrendChartProps {
  tags: string[];
  rangeMs: number;
  /** End of the range (epoch ms); default now, with a live tail for short ranges. */
  end?: number | undefined;
  height?: number;
  onData?: (data: Array<{ name: string; items: HistoryResult['items'] }>) => void;
}

/** A uPlot chart of tag histories. Drag to zoom, double-click to reset. */
export function TrendChart({ tags, rangeMs, end, height = 300, onData }: TrendChartProps) {
  const { client } = useTagway();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  const key = tags.join('\u0000');
  // The live tail: short ranges ending now are fetched again every few seconds.
  useEffect(() => {
    if (end !== undefined || rangeMs > 3_600_000) return;
    const timer = setInterval(() => setTick((x) => x + 1), 5_000);
    return () => clearInterval(timer);
  }, [end, rangeMs]);
  useEffect(() => {
    let alive = true;
    const to = end ?? Date.now();
    const from = to - rangeMs;
    const plan = historyPlan(rangeMs);
    Promise.all(
      tags.map((name) =>
        client
          .history(name, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...plan })
          .then((r) => ({ name, items: r.items })),
      ),
    ).then(
      (series) => {
        if (!alive || !box.current) return;
        setError(undefined);
        onData?.(series);
        const times = [...new Set(series.flatMap((s) => s.items.map((i) => Date.parse(i.timestamp))))].sort((a, b) => a - b);
        const index = new Map(times.map((t, i) => [t, i]));
        const data: uPlot.AlignedData = [
          times.map((t) => t / 1000),
          ...series.map((s) => {
            const col: (number | null)[] = new Array(times.length).fill(null);
            for (const it of s.items) {
              const v = it.value;
              col[index.get(Date.parse(it.timestamp))!] =
                typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : v === null ? null : Number(v);
            }
            return col;
          }),
        ];
        const width = box.current.clientWidth || 600;
        if (plot.current && plot.current.series.length === tags.length + 1) {
          plot.current.setData(data);
          return;
        }
        plot.current?.destroy();
        plot.current = new uPlot(
          {
            width,
            height,
            series: [{}, ...tags.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
            axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor' }],
            scales: { x: { time: true } },
            cursor: { drag: { x: true, y: false } },
          },
          data,
          box.current,
        );
      },
      (e: Error) => alive && setError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [client, key, rangeMs, end, tick, height]);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver !== 'function') return;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [height]);
  return (
    <figure className="trend">
      <div ref={box} role="img" aria-label={`Trend of ${tags.join(', ')}`} className="trend-box" />
      {error && <figcaption role="alert">{error}</figcaption>}
    </figure>
  );
}
