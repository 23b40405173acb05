import { v5 as uuidv5 } from 'uuid';

// A fixed namespace: the same (slot, position, index) is the same message id in every process.
const changeNamespace = 'a3c7e7f2-0b8e-4b5e-9d0a-6f1c2d3e4f50';

/** The message id of the index-th change at a position of a slot: stable across redeliveries. */
export function changeId(slot: string, position: string, index: number): string {
  return uuidv5(`${slot}/${position}/${index}`, changeNamespace);
}
