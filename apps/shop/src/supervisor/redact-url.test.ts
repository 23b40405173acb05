import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.ts';

describe('redactUrl', () => {
  it('hides the password and keeps the user, host, port and path', () => {
    expect(redactUrl('postgres://shop:s3cr%40t@db.local:5432/shop')).toBe(
      'postgres://shop:***@db.local:5432/shop',
    );
    expect(redactUrl('redis://:only-a-password@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
  });

  it('leaves a URL without a password, and text that is no URL, as they are', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/')).toBe('postgres://postgres@127.0.0.1:5432/');
    expect(redactUrl('nats://127.0.0.1:4222,nats://127.0.0.1:4223')).toBe(
      'nats://127.0.0.1:4222,nats://127.0.0.1:4223',
    );
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
