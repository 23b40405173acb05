import type { Decider, DomainEvent } from '@causeway/core';
import { expect } from 'vitest';

/**
 * Given/when/then for deciders: `deciderSpec(d).given(events).when(command).then(events)`.
 * Pure: no store, so domain rules are tested in microseconds.
 */
export function deciderSpec<State, Command, Event extends DomainEvent>(
  decider: Decider<State, Command, Event>,
) {
  return {
    given(events: readonly Event[]) {
      const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
      return {
        when(command: Command) {
          const run = () => {
            const decided = decider.decide(command, state);
            return Array.isArray(decided) ? decided : [decided as Event];
          };
          return {
            // biome-ignore lint/suspicious/noThenProperty: given/when/then is the vocabulary; never awaited.
            then(expected: readonly Event[]) {
              expect(run()).toEqual(expected);
            },
            thenThrows(matcher: (new (...args: never[]) => Error) | RegExp | string) {
              expect(run).toThrow(matcher as never);
            },
            thenState(expected: State) {
              expect(run().reduce((s, e) => decider.evolve(s, e), state)).toEqual(expected);
            },
          };
        },
      };
    },
  };
}
