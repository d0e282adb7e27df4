import Type from 'typebox';
import type { BoardInput, BoardView } from '../../../../services/board-service.js';
import { actorOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { Board, BoardBody, BoardList, BoardParams } from './schemas.js';

function encode(b: BoardView) {
  return { ...b, createdAt: new Date(b.createdAt).toISOString(), updatedAt: new Date(b.updatedAt).toISOString() };
}

/** Dashboard boards (`/boards`): every rule is the BoardService's. */
export const boardRoutes: ApiPlugin = async (app, { services }) => {
  const boards = services.boards;
  const id = (request: { params: unknown }) => (request.params as { id: string }).id;

  app.get(
    '/boards',
    {
      schema: {
        summary: 'List boards',
        description:
          'Boards the caller owns or that are shared with one of their groups, by name; each shows only tags the caller may read.',
        tags: ['boards'],
        response: { 200: BoardList, ...problems(401) },
      },
    },
    async (request) => ({ items: (await boards.list(actorOf(request))).map(encode) }),
  );

  app.post(
    '/boards',
    {
      schema: {
        summary: 'Create a board',
        description:
          'Every tag must be readable by the caller. Budgets: 100 boards per user, 50 widgets, 20 tags per widget, 20 groups, 64 KiB.',
        tags: ['boards'],
        body: BoardBody,
        response: { 201: Board, ...problems(400, 401, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => reply.code(201).send(encode(await boards.create(actorOf(request), request.body as BoardInput))),
  );

  app.get(
    '/boards/:id',
    {
      schema: { summary: 'Read a board', tags: ['boards'], params: BoardParams, response: { 200: Board, ...problems(401, 404) } },
    },
    async (request) => encode(await boards.get(actorOf(request), id(request))),
  );

  app.put(
    '/boards/:id',
    {
      schema: {
        summary: 'Replace a board',
        description: 'Owner only; a board shared with the caller answers 403, one they cannot see 404.',
        tags: ['boards'],
        params: BoardParams,
        body: BoardBody,
        response: { 200: Board, ...problems(400, 401, 403, 404, 413) },
      },
    },
    async (request) => encode(await boards.update(actorOf(request), id(request), request.body as BoardInput)),
  );

  app.delete(
    '/boards/:id',
    {
      schema: {
        summary: 'Delete a board',
        description: 'Owner, or an administrator (`users:admin`).',
        tags: ['boards'],
        params: BoardParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await boards.delete(actorOf(request), id(request));
      return reply.code(204).send();
    },
  );
};
