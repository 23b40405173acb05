/** Users: name and email are personal data, encrypted under a key per user (crypto-shredding). */
import { createEventRegistry, type Decider, defineEvent, NotFoundError } from '@causeway/core';
import { z } from 'zod';
import { BusinessRuleError } from '../../platform/problem.ts';

export const userRegistered = defineEvent({
  type: 'users.UserRegistered',
  schema: z.object({ userId: z.string(), name: z.string(), email: z.string() }),
  personal: { subject: (data) => data.userId, fields: ['name', 'email'] },
});
export const userForgotten = defineEvent({
  type: 'users.UserForgotten',
  schema: z.object({ userId: z.string() }),
});
export const usersRegistry = createEventRegistry([userRegistered, userForgotten]);

export type UserEvent =
  | { type: 'users.UserRegistered'; data: z.infer<typeof userRegistered.schema> }
  | { type: 'users.UserForgotten'; data: { userId: string } };
export type UserCommand =
  | { kind: 'register'; userId: string; name: string; email: string }
  | { kind: 'forget'; userId: string };
export type UserState =
  | { status: 'none' }
  | { status: 'active'; id: string; name: string; email: string }
  | { status: 'forgotten'; id: string };

export const userStream = (userId: string) => `user-${userId}`;

export const userDecider: Decider<UserState, UserCommand, UserEvent> = {
  initialState: () => ({ status: 'none' }),
  decide(command, state) {
    if (command.kind === 'register') {
      if (state.status !== 'none')
        throw new BusinessRuleError('user-exists', `User ${command.userId} exists already`);
      return [
        {
          type: 'users.UserRegistered',
          data: { userId: command.userId, name: command.name, email: command.email },
        },
      ];
    }
    if (state.status === 'none') throw new NotFoundError('User', command.userId);
    // Forgetting again is allowed (the key destruction may not have happened the first time).
    return state.status === 'forgotten'
      ? []
      : [{ type: 'users.UserForgotten', data: { userId: command.userId } }];
  },
  evolve(_state, event) {
    if (event.type === 'users.UserRegistered') {
      return { status: 'active', id: event.data.userId, name: event.data.name, email: event.data.email };
    }
    return { status: 'forgotten', id: event.data.userId };
  },
};
