import { createMemoryCache } from '@causeway/core';
import { describeCacheConformance } from './index.ts';

describeCacheConformance('in-process LRU', async () => createMemoryCache(), { shared: false });
