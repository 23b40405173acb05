import { InvalidArgumentError } from '@causeway/core';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseContract } from './load-contract.ts';
import { qualityChecks, qualityStatus, runQualityChecks } from './quality.ts';

/** A contract of one table whose rules pass, fail or cannot run, one of each kind. */
function linesContract(rules: { table?: unknown[]; quantity?: unknown[]; country?: unknown[] } = {}) {
  return parseContract(
    stringify({
      apiVersion: 'v3.1.0',
      kind: 'DataContract',
      id: 'lines',
      version: '1.0.0',
      status: 'active',
      schema: [
        {
          name: 'order_lines',
          physicalType: 'table',
          quality: rules.table ?? [
            { type: 'library', metric: 'rowCount', mustBeGreaterThan: 0 },
            {
              metric: 'duplicateValues',
              arguments: { properties: ['order_id', 'line_no'] },
              mustBe: 0,
              name: 'one row per order line',
              dimension: 'uniqueness',
            },
            {
              type: 'sql',
              name: 'amounts add up',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: ODCS's placeholder, not a template
              query: 'SELECT count(*) FROM ${object} WHERE amount <> quantity * price',
              mustBe: 0,
            },
            { type: 'text', description: 'Lines are never deleted.' },
          ],
          properties: [
            { name: 'order_id', logicalType: 'string' },
            { name: 'line_no', logicalType: 'integer' },
            {
              name: 'quantity',
              logicalType: 'integer',
              quality: rules.quantity ?? [{ metric: 'nullValues', mustBe: 0 }],
            },
            { name: 'price', logicalType: 'integer' },
            { name: 'amount', logicalType: 'integer' },
            {
              name: 'country',
              logicalType: 'string',
              quality: rules.country ?? [
                {
                  metric: 'invalidValues',
                  arguments: { validValues: ['DE', 'FR'] },
                  mustBe: 0,
                  severity: 'warning',
                },
                {
                  metric: 'missingValues',
                  arguments: { missingValues: [null, ''] },
                  unit: 'percent',
                  mustBeLessThan: 50,
                },
              ],
            },
          ],
        },
      ],
    }),
    'lines.odcs.yaml',
  );
}

describe('quality rules', () => {
  let database: DuckDBInstance;
  const scalar = async (sql: string) => {
    const connection = await database.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowsJS()[0]?.[0];
    } finally {
      connection.closeSync();
    }
  };
  const target = { relation: () => 'order_lines', scalar };

  beforeAll(async () => {
    database = await DuckDBInstance.create(':memory:');
    const connection = await database.connect();
    await connection.run(`CREATE TABLE order_lines AS SELECT * FROM (VALUES
      ('o1', 1, 2, 100, 200, 'DE'),
      ('o1', 2, 1, 300, 300, 'FR'),
      ('o2', 1, NULL, 50, 0, 'XX'),
      ('o2', 1, 3, 10, 31, '')
    ) AS t(order_id, line_no, quantity, price, amount, country)`);
    connection.closeSync();
  });
  afterAll(() => database.closeSync());

  it('runs each sql and library rule and says which hold, with the number each query answered', async () => {
    const results = await runQualityChecks(linesContract(), target);
    expect(
      results.map(({ name, column, status, value, expected }) => ({ name, column, status, value, expected })),
    ).toEqual([
      { name: 'rowCount order_lines', column: null, status: 'pass', value: 4, expected: '> 0' },
      { name: 'one row per order line', column: null, status: 'fail', value: 1, expected: '= 0' },
      // The line without a quantity has no amount to compare: SQL's NULL, not a failure.
      { name: 'amounts add up', column: null, status: 'fail', value: 1, expected: '= 0' },
      { name: 'nullValues quantity', column: 'quantity', status: 'fail', value: 1, expected: '= 0' },
      { name: 'invalidValues country', column: 'country', status: 'fail', value: 2, expected: '= 0' },
      { name: 'missingValues country', column: 'country', status: 'pass', value: 25, expected: '< 50' },
    ]);
    expect(results.find((result) => result.name === 'one row per order line')).toMatchObject({
      port: 'order_lines',
      dimension: 'uniqueness',
      severity: 'error',
    });
    expect(qualityStatus(results)).toBe('fail');
  });

  it('a rule whose query fails is an error of its own; the others still run', async () => {
    const results = await runQualityChecks(
      linesContract({
        table: [
          {
            type: 'sql',
            name: 'broken',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: ODCS's placeholder, not a template
            query: 'SELECT count(*) FROM ${object} WHERE no_such_column = 1',
            mustBe: 0,
          },
          { metric: 'rowCount', mustBeBetween: [1, 10] },
        ],
        quantity: [],
        country: [],
      }),
      target,
    );
    expect(results[0]).toMatchObject({
      name: 'broken',
      status: 'error',
      value: null,
      error: expect.stringContaining('no_such_column'),
    });
    expect(results[1]).toMatchObject({ status: 'pass', value: 4, expected: 'between 1 and 10' });
  });

  it('is pass when every rule holds, warn when only warnings fail', async () => {
    const passing = linesContract({
      table: [{ metric: 'rowCount', mustBeGreaterOrEqualTo: 4 }],
      quantity: [{ metric: 'nullValues', unit: 'percent', mustBeLessOrEqualTo: 25 }],
      country: [
        { metric: 'invalidValues', arguments: { pattern: '[A-Z]{2}' }, mustBe: 0, severity: 'warning' },
      ],
    });
    const results = await runQualityChecks(passing, target);
    expect(results.map((result) => [result.status, result.value])).toEqual([
      ['pass', 4],
      ['pass', 25],
      ['fail', 1],
    ]);
    expect(qualityStatus(results)).toBe('warn');
    expect(qualityStatus(results.slice(0, 2))).toBe('pass');
  });

  it('refuses a rule it cannot run, naming the contract, the object and the property', () => {
    // The standard's schema itself refuses a rule without an operator.
    expect(() => linesContract({ quantity: [{ metric: 'nullValues' }] })).toThrow(
      "/schema/0/properties/2/quality/0 must have required property 'mustBe'",
    );
    expect(() => qualityChecks(linesContract({ table: [{ metric: 'nullValues', mustBe: 0 }] }))).toThrow(
      InvalidArgumentError,
    );
    expect(() => qualityChecks(linesContract({ country: [{ metric: 'invalidValues', mustBe: 0 }] }))).toThrow(
      'invalidValues needs arguments.validValues or arguments.pattern',
    );
  });
});
