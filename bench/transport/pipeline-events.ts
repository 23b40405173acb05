import { createEventRegistry, defineEvent } from '@causeway/core';
import { z } from 'zod';

/** The event every pipeline run sends: a sequence number (to time it end to end) and ~80 bytes. */
export const transferSent = defineEvent({
  type: 'bench.TransferSent',
  schema: z.object({ seq: z.number().int().nonnegative(), note: z.string() }),
});

export const pipelineRegistry = createEventRegistry([transferSent]);

export const transferNote = 'sent by the causeway transport bench, about eighty bytes long';
