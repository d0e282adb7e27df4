import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { renderMetrics } from './prometheus.js';

export type { MetricSource } from '../../../../services/metrics-service.js';

/**
 * `GET /metrics` in Prometheus text format, for monitoring the server itself (not plant values). Needs
 * `tags:read`, so a scraper authenticates like any client (an API client's JWT or Basic).
 */
export const metricsRoutes: ApiPlugin = async (app, { services }) => {
  {
    const service = services.metrics;
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Server metrics (Prometheus)',
          description:
            'Prometheus text exposition format 0.0.4: tags by quality, connection state and counters, alarms, historian, push, memory. ' +
            "A caller whose 'tags:read' is scoped gets the tag and connection figures over its scope only, and no server-wide figures.",
          tags: ['health'],
          produces: ['text/plain'],
          response: { ...problems(401, 403) },
        },
      },
      async (request, reply) =>
        reply
          .type('text/plain; version=0.0.4; charset=utf-8')
          .serializer(String)
          .send(renderMetrics(service.collect(actorOf(request)))),
    );
  }
};
