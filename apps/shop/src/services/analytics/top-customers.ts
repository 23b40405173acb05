/**
 * `GET /analytics/customers?top=N`: the customers with the most revenue from confirmed orders, from
 * gold, under their pseudonymous key. Analytics keeps no name or email: the users service owns
 * them, so the email of each customer answered is asked of it (by the user id in the customer's
 * registration event). The columns the analytics contract classifies as personal (`customers`
 * port: the email) are masked unless the caller showed the admin token. A forgotten user has no
 * email for anyone.
 */
import { fileURLToPath } from 'node:url';
import { type ContractSchemaObject, loadContract, maskRows } from '@causeway/data-contracts';
import type { ServiceClient } from '../../platform/service-client.ts';
import type { AnalyticsPipeline } from './analytics-pipeline.ts';

export interface TopCustomer {
  customerKey: string;
  country: string;
  orders: number;
  revenueCents: number;
  email: string | null;
  /** Analytics has seen the user's UserForgotten: the row stays, pseudonymous, without an email. */
  forgotten: boolean;
}

interface CustomerRow {
  customer_sk: string;
  country: string | null;
  forgotten: boolean;
  orders: number;
  revenue_cents: number;
  user_id: string | null;
}

/** The answer's port in the analytics contract (beside this file in `src/` and, copied, in `dist/`). */
const customersPort: ContractSchemaObject = (() => {
  const contract = loadContract(
    fileURLToPath(new URL('./data-product/analytics-gold.odcs.yaml', import.meta.url)),
  );
  const port = contract.schema?.find((each) => each.name === 'customers');
  if (port === undefined) throw new Error('analytics-gold.odcs.yaml has no customers port');
  return port;
})();

export async function readTopCustomers(
  pipeline: AnalyticsPipeline,
  options: { top: number; reveal: boolean; call: ServiceClient },
): Promise<{ rows: TopCustomer[]; partial?: true }> {
  if (!(await pipeline.isBuilt('fct_order_line'))) return { rows: [] };
  const silver = pipeline.generation.schemaOf('silver');
  // The key is the one silver's customers model derives (models/silver/customers.sql).
  const customers = await pipeline.lakehouse.all<CustomerRow>(
    `WITH revenue AS (
       SELECT customer_sk, count(DISTINCT order_id) AS orders, sum(gross_amount_cents) AS revenue_cents
       FROM ${pipeline.gold('fct_order_line')}
       WHERE order_status = 'CONFIRMED' AND customer_sk <> '-1'
       GROUP BY customer_sk
       ORDER BY revenue_cents DESC, customer_sk
       LIMIT ${options.top}
     ),
     identities AS (
       SELECT DISTINCT sha256('causeway-customer:' || (data->>'userId')) AS customer_sk, data->>'userId' AS user_id
       FROM "${silver}".events
       WHERE event_type = 'users.UserRegistered' AND reject_reason IS NULL
     )
     SELECT r.customer_sk, c.country, coalesce(c.forgotten, false) AS forgotten, r.orders,
            r.revenue_cents, i.user_id
     FROM revenue r
     LEFT JOIN ${pipeline.gold('dim_customer')} c USING (customer_sk)
     LEFT JOIN identities i USING (customer_sk)
     ORDER BY r.revenue_cents DESC, r.customer_sk`,
  );
  let partial = false;
  const rows = await Promise.all(
    customers.map(async (customer): Promise<TopCustomer> => {
      const found =
        customer.forgotten || customer.user_id === null
          ? null
          : await emailOf(options.call, customer.user_id);
      if (found === 'unavailable') partial = true;
      const email = typeof found === 'string' ? found : null;
      return {
        customerKey: customer.customer_sk,
        country: customer.country ?? 'unknown',
        orders: Number(customer.orders),
        revenueCents: Number(customer.revenue_cents),
        email,
        forgotten: customer.forgotten,
      };
    }),
  );
  const shown = maskRows(rows, customersPort, { reveal: options.reveal });
  return partial ? { rows: shown, partial: true } : { rows: shown };
}

/** The user's email, null when the users service has no such user (forgotten), or 'unavailable'. */
async function emailOf(call: ServiceClient, userId: string): Promise<string | null | 'unavailable'> {
  try {
    const answer = await call('users', 'GET', `/users/${encodeURIComponent(userId)}`, { timeoutMs: 2_000 });
    if (answer.status === 404) return null;
    if (answer.status !== 200) return 'unavailable';
    const { email } = answer.body as { email?: unknown };
    return typeof email === 'string' ? email : null;
  } catch {
    return 'unavailable';
  }
}
