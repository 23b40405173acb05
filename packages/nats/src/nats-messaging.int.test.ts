import { describeWithService, serviceUrl } from '@causeway/testing';
import {
  describeMessagingConformance,
  describeSubscribedProjectionConformance,
} from '@causeway/testing/messaging-conformance';
import { afterAll } from 'vitest';
import { createNatsTransport } from './index.ts';
import { deleteStreams, uniqueStreamPrefix } from './nats-test-streams.ts';

describeWithService('nats', 'messaging through NATS JetStream', () => {
  const streamPrefix = uniqueStreamPrefix();
  afterAll(() => deleteStreams(serviceUrl('nats'), streamPrefix));
  describeMessagingConformance('NATS JetStream', async () =>
    createNatsTransport({ servers: serviceUrl('nats'), streamPrefix }),
  );
  describeSubscribedProjectionConformance('NATS JetStream', async () =>
    createNatsTransport({ servers: serviceUrl('nats'), streamPrefix }),
  );
});
