import { principalOf } from '../authenticate.js';
import type { ApiPlugin } from '../plugin.js';
import { problems } from '../schemas.js';
import { CurrentUser, currentUser } from './user-info.js';

export const userRoutes: ApiPlugin = async (app) => {
  app.get(
    '/users/current',
    {
      schema: { summary: 'The logged-in user', tags: ['users'], response: { 200: CurrentUser, ...problems(401) } },
    },
    async (request) => currentUser(principalOf(request)),
  );
};
