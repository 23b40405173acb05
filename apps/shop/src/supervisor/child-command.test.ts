import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCompiled, nodeArgumentsFor, siblingScript } from './child-command.ts';
import { scriptOf } from './shop-services.ts';

describe('the command a child runs', () => {
  it('runs a .ts entry point with tsx and the source condition, a .js one with plain node', () => {
    expect(nodeArgumentsFor('/shop/src/services/orders/main.ts')).toEqual([
      '--import',
      'tsx',
      '--conditions=@causeway/source',
      '/shop/src/services/orders/main.ts',
    ]);
    expect(nodeArgumentsFor('/shop/dist/services/orders/main.js')).toEqual([
      '/shop/dist/services/orders/main.js',
    ]);
  });

  it('picks the compiled sibling when the supervisor itself runs from dist/', () => {
    const built = 'file:///shop/apps/shop/dist/supervisor/shop-services.js';
    expect(isCompiled(built)).toBe(true);
    expect(scriptOf('orders', built)).toBe('/shop/apps/shop/dist/services/orders/main.js');
    expect(scriptOf('gateway', built)).toBe('/shop/apps/shop/dist/gateway/main.js');
  });

  it('picks the TypeScript source when the supervisor runs from src/', () => {
    const source = 'file:///shop/apps/shop/src/supervisor/shop-services.ts';
    expect(isCompiled(source)).toBe(false);
    expect(scriptOf('orders', source)).toBe('/shop/apps/shop/src/services/orders/main.ts');
    expect(siblingScript('../gateway/main.ts', source)).toBe('/shop/apps/shop/src/gateway/main.ts');
  });

  it('finds every real entry point of this checkout', () => {
    for (const service of ['users', 'orders', 'query', 'gateway'] as const) {
      expect(existsSync(scriptOf(service)), scriptOf(service)).toBe(true);
    }
  });
});
