import { ValidationError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { breakingChanges, isMajorBump } from './breaking-changes.ts';
import { checkColumns, checkEventSchema } from './conformance.ts';
import type { DataContract } from './contract.ts';
import { draftContract } from './draft-contract.ts';
import { parseContract } from './load-contract.ts';
import { maskRows } from './masking.ts';

// biome-ignore lint/suspicious/noExplicitAny: a YAML document edited field by field, then validated
type Document = any;

/** orders.OrderPlaced as a contract: the port the tests below change one field at a time. */
function ordersContract(version = '1.0.0'): Record<string, unknown> {
  return {
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: 'shop-orders-events',
    version,
    status: 'active',
    name: 'Orders events',
    domain: 'orders',
    schema: [
      {
        id: 'order_placed',
        name: 'orders.OrderPlaced',
        physicalType: 'event',
        properties: [
          { id: 'order_id', name: 'orderId', logicalType: 'string', required: true, unique: true },
          { id: 'total', name: 'totalCents', logicalType: 'number', required: true },
          {
            id: 'country',
            name: 'shipToCountry',
            logicalType: 'string',
            logicalTypeOptions: { maxLength: 2 },
          },
          { id: 'note', name: 'note', logicalType: 'string' },
        ],
      },
    ],
  };
}

const parsed = (document: Record<string, unknown>) => parseContract(stringify(document), 'orders.odcs.yaml');

/** The contract with one change made to a copy of it. */
function changed(edit: (contract: Document) => void, version?: string): DataContract {
  const document = structuredClone(ordersContract(version));
  edit(document);
  return parsed(document);
}

describe('parseContract', () => {
  it('accepts a contract that follows ODCS v3.1.0, keeping every field', () => {
    const contract = parsed(ordersContract());
    expect(contract.id).toBe('shop-orders-events');
    expect(contract.schema?.[0]?.properties?.map((property) => property.name)).toEqual([
      'orderId',
      'totalCents',
      'shipToCountry',
      'note',
    ]);
  });

  it('refuses one that does not, pointing at each wrong field', () => {
    const broken = structuredClone(ordersContract()) as Document;
    broken.schema[0].properties[1].logicalType = 'integr';
    delete broken.status;
    let error: unknown;
    try {
      parsed(broken);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(
      /^Data contract orders.odcs.yaml does not follow ODCS v3.1.0/,
    );
    expect((error as ValidationError).issues).toEqual(
      expect.arrayContaining([
        { path: '/', message: "must have required property 'status'" },
        expect.objectContaining({ path: '/schema/0/properties/1/logicalType' }),
      ]),
    );
    expect(() => parseContract('kind: [', 'bad.yaml')).toThrow(/bad.yaml is not valid YAML/);
  });
});

describe('breakingChanges', () => {
  const before = parsed(ordersContract());

  it('finds none in the same contract, an optional column added, or a type widened', () => {
    expect(breakingChanges(before, before)).toEqual([]);
    const additive = changed((contract) => {
      contract.schema[0].properties.push({ name: 'coupon', logicalType: 'string' });
      contract.schema.push({ name: 'orders.OrderShipped', properties: [] });
    });
    expect(breakingChanges(before, additive)).toEqual([]);
    const integer = changed((contract) => {
      contract.schema[0].properties[1].logicalType = 'integer';
    });
    expect(breakingChanges(integer, before)).toEqual([]);
  });

  it('names the port, the column and the change for each kind of break', () => {
    const cases: Array<[string, (contract: Document) => void]> = [
      [
        'port orders.OrderPlaced, column note: column removed',
        (contract) => contract.schema[0].properties.splice(3, 1),
      ],
      [
        'port orders.OrderPlaced, column totalCents: column renamed (to amountCents)',
        (contract) => {
          contract.schema[0].properties[1].name = 'amountCents';
        },
      ],
      [
        'port orders.OrderPlaced, column totalCents: type narrowed (number to integer)',
        (contract) => {
          contract.schema[0].properties[1].logicalType = 'integer';
        },
      ],
      [
        'port orders.OrderPlaced, column orderId: type changed (string to number)',
        (contract) => {
          contract.schema[0].properties[0].logicalType = 'number';
        },
      ],
      [
        'port orders.OrderPlaced, column shipToCountry: type narrowed (maxLength 2 to 1)',
        (contract) => {
          contract.schema[0].properties[2].logicalTypeOptions.maxLength = 1;
        },
      ],
      [
        'port orders.OrderPlaced, column note: required added',
        (contract) => {
          contract.schema[0].properties[3].required = true;
        },
      ],
      [
        'port orders.OrderPlaced, column coupon: required added (a new required column)',
        (contract) =>
          contract.schema[0].properties.push({ name: 'coupon', logicalType: 'string', required: true }),
      ],
      ['port orders.OrderPlaced: port removed', (contract) => contract.schema.splice(0, 1)],
    ];
    for (const [message, edit] of cases) {
      expect(breakingChanges(before, changed(edit)).map((change) => change.message)).toEqual([message]);
    }
  });

  it('allows a break only with a new major version', () => {
    expect(
      isMajorBump(
        before,
        changed(() => {}, '1.1.0'),
      ),
    ).toBe(false);
    expect(
      isMajorBump(
        before,
        changed(() => {}, '2.0.0'),
      ),
    ).toBe(true);
  });
});

describe('checkEventSchema', () => {
  const port = parsed(ordersContract()).schema![0]!;

  it('passes an event schema that carries every column, of its type', () => {
    const schema = z.object({
      orderId: z.string(),
      totalCents: z.number().int(),
      shipToCountry: z.string().length(2).optional(),
      note: z.string().nullable().optional(),
    });
    expect(checkEventSchema(port, schema)).toEqual([]);
  });

  it('names each column missing, undescribed, of another type, or optional where required', () => {
    const schema = z.object({
      orderId: z.string().optional(),
      totalCents: z.string(),
      shipToCountry: z.string(),
      extra: z.boolean(),
    });
    expect(checkEventSchema(port, schema).map((issue) => issue.message)).toEqual([
      'port orders.OrderPlaced, column orderId: optional but required by the contract',
      'port orders.OrderPlaced, column totalCents: type differs (the contract says number, the producer string)',
      'port orders.OrderPlaced, column note: missing from the producer',
      'port orders.OrderPlaced, column extra: not in the contract',
    ]);
  });
});

describe('checkColumns', () => {
  const port = parsed({
    ...ordersContract(),
    schema: [
      {
        name: 'sales_by_day',
        physicalType: 'table',
        properties: [
          { name: 'key', logicalType: 'string', physicalType: 'VARCHAR' },
          { name: 'orders', logicalType: 'integer' },
          { name: 'revenue_cents', logicalType: 'number' },
          { name: 'at', logicalType: 'timestamp', physicalType: 'TIMESTAMPTZ' },
        ],
      },
    ],
  }).schema![0]!;

  it('passes columns of admitted types, aliases included', () => {
    expect(
      checkColumns(port, [
        { name: 'key', type: 'VARCHAR' },
        { name: 'orders', type: 'BIGINT' },
        { name: 'revenue_cents', type: 'HUGEINT' },
        { name: 'at', type: 'TIMESTAMP WITH TIME ZONE' },
      ]),
    ).toEqual([]);
  });

  it('names a column missing, undescribed, or of another type', () => {
    expect(
      checkColumns(port, [
        { name: 'key', type: 'INTEGER' },
        { name: 'orders', type: 'DOUBLE' },
        { name: 'at', type: 'TIMESTAMPTZ' },
        { name: 'units', type: 'BIGINT' },
      ]).map((issue) => issue.message),
    ).toEqual([
      'port sales_by_day, column key: type differs (the contract says VARCHAR, the table has INTEGER)',
      'port sales_by_day, column orders: type differs (the contract says integer, the table has DOUBLE)',
      'port sales_by_day, column revenue_cents: missing from the producer',
      'port sales_by_day, column units: not in the contract',
    ]);
  });
});

describe('draftContract', () => {
  it('drafts a valid contract from event definitions that their schemas then pass', () => {
    const placed = {
      type: 'orders.OrderPlaced',
      schema: z.object({
        orderId: z.string(),
        email: z.string().email(),
        totalCents: z.number().int(),
        placedAt: z.iso.datetime(),
        address: z.object({ country: z.string().optional() }).optional(),
      }),
      personal: { fields: ['email'] },
    };
    const contract = draftContract({ id: 'orders', name: 'Orders', domain: 'orders', events: [placed] });
    const loaded = parseContract(stringify(contract), 'drafted');
    expect(loaded.schema?.[0]?.properties).toEqual([
      { name: 'orderId', logicalType: 'string', required: true, classification: 'internal' },
      { name: 'email', logicalType: 'string', required: true, classification: 'pii' },
      { name: 'totalCents', logicalType: 'integer', required: true, classification: 'internal' },
      { name: 'placedAt', logicalType: 'timestamp', required: true, classification: 'internal' },
      {
        name: 'address',
        logicalType: 'object',
        required: false,
        classification: 'internal',
        properties: [{ name: 'country', logicalType: 'string', required: false, classification: 'internal' }],
      },
    ]);
    expect(checkEventSchema(loaded.schema![0]!, placed.schema)).toEqual([]);
  });
});

describe('maskRows', () => {
  const port = parsed({
    ...ordersContract(),
    schema: [
      {
        name: 'customers',
        physicalType: 'api',
        properties: [
          { name: 'customerKey', logicalType: 'string' },
          { name: 'email', logicalType: 'string', classification: 'pii' },
          { name: 'phone', logicalType: 'string', classification: 'pii' },
          { name: 'cardToken', logicalType: 'string', classification: 'restricted' },
          { name: 'country', logicalType: 'string', classification: 'public' },
        ],
      },
    ],
  }).schema![0]!;
  const rows = [
    {
      customerKey: 'k1',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      cardToken: 'tok_visa',
      country: 'GB',
    },
    { customerKey: 'k2', email: null, phone: undefined, cardToken: 'x', country: 'FR' },
  ];

  it('masks every column classified pii or restricted, whatever it is called, unless revealed', () => {
    expect(maskRows(rows, port, { reveal: false })).toEqual([
      { customerKey: 'k1', email: 'a***@example.com', phone: '+***', cardToken: 't***', country: 'GB' },
      { customerKey: 'k2', email: null, phone: undefined, cardToken: '***', country: 'FR' },
    ]);
    expect(maskRows(rows, port, { reveal: true })).toEqual(rows);
    expect(rows[0]!.email).toBe('ada@example.com');
  });
});
