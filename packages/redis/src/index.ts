/** @causeway/redis: the Cache port on Redis (ioredis is a peer dependency: bring your client). */
export { createRedisCache, type RedisCacheOptions } from './redis-cache.ts';
