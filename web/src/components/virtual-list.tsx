import { useEffect, useRef, useState, type ReactNode } from 'react';

/** Renders only the rows in view (plus a few), so thousands of live rows cost what a screenful costs. */
export function VirtualList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  render: (item: T, index: number) => ReactNode;
  className?: string;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight || 600);
    measure();
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(measure) : undefined;
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);
  const { items, rowHeight } = props;
  const first = Math.max(0, Math.floor(top / rowHeight) - 5);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + 5);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) rows.push(props.render(items[i]!, i));
  return (
    <div
      ref={ref}
      className={`vlist ${props.className ?? ''}`}
      onScroll={(e) => setTop(e.currentTarget.scrollTop)}
      role="rowgroup"
      aria-label={props.label}
    >
      <div style={{ height: items.length * rowHeight, position: 'relative' }}>
        <div style={{ transform: `translateY(${first * rowHeight}px)` }}>{rows}</div>
      </div>
    </div>
  );
}
