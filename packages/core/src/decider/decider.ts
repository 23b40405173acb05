/** A domain event as a decider sees it: type and data (the envelope is the store's business). */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/**
 * Functional event sourcing: `decide` turns a command and the current state into new events;
 * `evolve` folds an event into state. Both are pure; the command handler does the I/O.
 */
export interface Decider<State, Command, Event extends DomainEvent> {
  decide(command: Command, state: State): Event | readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}
