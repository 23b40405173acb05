import {
  breakingChanges,
  checkEventSchema,
  parseContract,
  qualityStatus,
  runQualityChecks,
} from '@causeway/data-contracts';
import { DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';

// #region contract
// A data contract in the Open Data Contract Standard v3.1 (usually a .odcs.yaml file beside the
// producer's code): validated against the standard's official JSON Schema when parsed.
const contract = parseContract(
  `
apiVersion: v3.1.0
kind: DataContract
id: shop-orders-events
version: 1.0.0
status: active
domain: orders
slaProperties:
  - { property: latency, value: 10, unit: s }
schema:
  - name: orders.OrderPlaced
    physicalType: event
    properties:
      - { name: orderId, logicalType: string, required: true }
      - { name: totalCents, logicalType: integer, required: true }
      - { name: email, logicalType: string, classification: pii }
`,
  'orders-events.odcs.yaml',
);
// The producer's event schema is checked against its port: a field missing, of another type, or
// optional where the contract requires it is named.
const orderPlaced = z.object({
  orderId: z.string(),
  totalCents: z.number().int(),
  email: z.email().optional(),
});
console.log(checkEventSchema(contract.schema![0]!, orderPlaced)); // []
// #endregion

// #region breaking
// A next version that drops a column and narrows a type breaks its consumers: CI compares each
// contract with its previous version in git and fails unless the major version went up.
const next = parseContract(
  `
apiVersion: v3.1.0
kind: DataContract
id: shop-orders-events
version: 1.1.0
status: active
schema:
  - name: orders.OrderPlaced
    properties:
      - { name: orderId, logicalType: string, required: true }
      - { name: totalCents, logicalType: integer, required: true, logicalTypeOptions: { maximum: 100000 } }
`,
  'orders-events.odcs.yaml (next)',
);
console.log(breakingChanges(contract, next).map((change) => change.message));
// [ 'port orders.OrderPlaced, column totalCents: type narrowed (maximum none to 100000)',
//   'port orders.OrderPlaced, column email: column removed' ]
// #endregion

const database = await DuckDBInstance.create(':memory:');
const connection = await database.connect();
await connection.run(
  `CREATE TABLE order_lines AS SELECT * FROM (VALUES ('o1', 2, 900), ('o2', 0, 0)) AS t(order_id, quantity, amount_cents)`,
);

// #region quality
// Quality rules live in the contract (ODCS `quality`: SQL, or the standard's metrics) and run
// where the data is: here DuckDB. Each result says pass, fail or error, with the number measured.
const lines = parseContract(
  `
apiVersion: v3.1.0
kind: DataContract
id: shop-order-lines
version: 1.0.0
status: active
schema:
  - name: order_lines
    physicalType: table
    quality:
      - { name: quantities are positive, type: sql, query: 'SELECT count(*) FROM \${object} WHERE quantity <= 0', mustBe: 0 }
      - { metric: rowCount, mustBeGreaterThan: 0 }
    properties:
      - name: order_id
        logicalType: string
        quality: [{ metric: duplicateValues, mustBe: 0 }]
`,
  'order-lines.odcs.yaml',
);
const results = await runQualityChecks(lines, {
  relation: (port) => port.name,
  scalar: async (sql) => (await connection.runAndReadAll(sql)).getRowsJS()[0]?.[0],
});
console.log(
  qualityStatus(results),
  results.map((result) => `${result.name}: ${result.status} (${result.value})`),
);
// fail [ 'quantities are positive: fail (1)', 'rowCount order_lines: pass (2)',
//        'duplicateValues order_id: pass (0)' ]
// #endregion
connection.closeSync();
database.closeSync();
