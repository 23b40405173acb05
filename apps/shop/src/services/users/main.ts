/**
 * The users service. DELETE forgets a user everywhere: `users.UserForgotten` tells the other
 * services to drop what they keep about the user, and the user's key is destroyed, so the name
 * and email in the events (and any replay of them) can no longer be read.
 */
import { randomUUID } from 'node:crypto';
import { createCommandHandler, loadAggregate, NotFoundError } from '@causeway/core';
import { z } from 'zod';
import { consistencyHeader, consistencyTokenOf } from '../../platform/consistency-token.ts';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { runService } from '../../platform/service-runtime.ts';
import {
  type UserCommand,
  type UserEvent,
  type UserState,
  userDecider,
  userStream,
  usersRegistry,
} from './users-domain.ts';

const registerBody = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.string().trim().email().max(320),
});
const idParams = z.object({ id: pathId });

await runService({
  name: 'users',
  registry: usersRegistry,
  async setup({ app, eventStore }) {
    const users = createCommandHandler<UserState, UserCommand, UserEvent>({
      eventStore,
      decider: userDecider,
    });

    app.post('/users', async (request, reply) => {
      const body = parseInput(registerBody, request.body);
      const userId = randomUUID();
      const result = await users.handle(
        userStream(userId),
        { kind: 'register', userId, ...body },
        { publishTo: 'users.events' },
      );
      return reply
        .status(201)
        .header(consistencyHeader, consistencyTokenOf(result.events))
        .send({ id: userId });
    });
    app.get('/users/:id', async (request) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const { state } = await loadAggregate(eventStore, userStream(id), {
        decider: userDecider as never,
        tx: null,
      });
      const user = state as UserState;
      if (user.status !== 'active') throw new NotFoundError('User', id);
      return { id: user.id, name: user.name, email: user.email };
    });
    app.delete('/users/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const result = await users.handle(
        userStream(id),
        { kind: 'forget', userId: id },
        { publishTo: 'users.events' },
      );
      await eventStore.forgetSubject(id);
      if (result.events.length > 0) reply.header(consistencyHeader, consistencyTokenOf(result.events));
      return reply.status(202).send({ id, status: 'forgotten' });
    });
  },
});
