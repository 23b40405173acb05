/** The shop end to end on embedded defaults: SQLite files and the embedded transport. */
import { describeShopRows } from './shop-rows.ts';

describeShopRows('the shop on embedded defaults (SQLite files, the embedded transport)', {
  env: () => ({}),
  scansDatabaseFiles: true,
});
