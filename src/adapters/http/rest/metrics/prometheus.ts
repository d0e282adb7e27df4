import type { Metric } from '../../../../services/metrics-service.js';

export type { Metric, MetricType } from '../../../../services/metrics-service.js';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Prometheus text exposition format 0.0.4: one HELP/TYPE header per metric, then its samples. */
export function renderMetrics(metrics: readonly Metric[]): string {
  const out: string[] = [];
  for (const m of metrics) {
    out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) {
      const labels =
        s.labels && Object.keys(s.labels).length > 0
          ? `{${Object.entries(s.labels)
              .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
              .join(',')}}`
          : '';
      out.push(`${m.name}${labels} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}
