import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeMessagingConformance,
  describeSubscribedProjectionConformance,
} from '@causeway/testing/messaging-conformance';
import { createEmbeddedTransport } from './index.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-embedded-messaging-'));
let count = 0;

describeMessagingConformance('the embedded transport', async () =>
  createEmbeddedTransport({ filename: join(directory, `transport-${count++}.db`) }),
);

describeSubscribedProjectionConformance('the embedded transport', async () =>
  createEmbeddedTransport({ filename: join(directory, `transport-${count++}.db`) }),
);
