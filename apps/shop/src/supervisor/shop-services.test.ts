import { describe, expect, it } from 'vitest';
import { loadConfig, serviceNames } from '../config.ts';
import { instanceOfThisProcess } from '../platform/service-runtime.ts';
import { shopServiceEntries } from './shop-services.ts';

describe("the shop's processes as the supervisor runs them", () => {
  it('runs one process per service, instance 0, by default', () => {
    const entries = shopServiceEntries(loadConfig([], { PORT: '3000' }), {});
    expect(entries.map((entry) => entry.name)).toEqual([...serviceNames]);
    expect(entries.every((entry) => entry.env.SHOP_INSTANCE === '0')).toBe(true);
  });

  it('runs each instance with its name, its port and SHOP_INSTANCE, and the configuration every process shares', () => {
    const config = loadConfig([], { PORT: '3000', SHOP_INSTANCES: 'orders=3' });
    const entries = shopServiceEntries(config, { PATH: '/bin', SHOP_INSTANCE: '7' });
    const orders = entries.filter((entry) => entry.name.startsWith('orders'));
    expect(orders.map((entry) => [entry.name, entry.healthUrl, instanceOfThisProcess(entry.env)])).toEqual([
      ['orders', 'http://127.0.0.1:3004/admin/health', 0],
      ['orders-2', 'http://127.0.0.1:3013/admin/health', 1],
      ['orders-3', 'http://127.0.0.1:3022/admin/health', 2],
    ]);
    for (const entry of orders) {
      expect(entry.script).toBe(orders[0]!.script);
      expect(loadConfig([], entry.env)).toEqual(config);
      expect(entry.env.PATH).toBe('/bin');
    }
    expect(entries).toHaveLength(11);
  });
});
