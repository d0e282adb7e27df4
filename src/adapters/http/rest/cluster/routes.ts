import Type from 'typebox';
import type { ClusterService } from '../../../../services/cluster-service.js';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';

const ClusterNode = Type.Object({
  id: Type.String(),
  address: Type.String(),
  state: Type.Enum(['up', 'down', 'left']),
  lastSeen: Type.String({ format: 'date-time' }),
  connections: Type.Array(Type.String()),
});

/** `GET /cluster`: served only by a cluster member (the composition adds it with the cluster link). */
export function clusterRoutes(service: ClusterService): ApiPlugin {
  return async (app) => {
    app.get(
      '/cluster',
      {
        schema: {
          summary: 'Cluster members and the connections each runs',
          description: "Needs 'tags:read' like /connections; a scoped reader sees the members without their connections.",
          tags: ['connections'],
          response: { 200: Type.Object({ nodes: Type.Array(ClusterNode) }), ...problems(401, 403) },
        },
      },
      async (request) => ({ nodes: await service.nodes(actorOf(request)) }),
    );
  };
}
