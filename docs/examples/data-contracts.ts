import { breakingChanges, checkEventSchema, parseContract } from '@causeway/data-contracts';
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
