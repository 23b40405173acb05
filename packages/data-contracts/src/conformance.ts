/**
 * Whether what a producer really emits matches its contract, port by port: an event type's zod
 * schema (through its JSON Schema), or a table's columns as the database describes them. Each
 * mismatch names the port, the column and what differs, so CI can fail with it.
 */
import type { z } from 'zod';
import type { ContractProperty, ContractSchemaObject } from './contract.ts';
import { type JsonSchema, jsonSchemaOf, typesOf } from './json-schema.ts';

export type ConformanceProblem =
  | 'missing from the producer'
  | 'not in the contract'
  | 'type differs'
  | 'optional but required by the contract';

export interface ConformanceIssue {
  readonly port: string;
  readonly column: string;
  readonly problem: ConformanceProblem;
  readonly message: string;
}

/** The JSON types each logical type admits. */
const jsonTypesOf: Record<string, readonly string[]> = {
  string: ['string'],
  date: ['string'],
  timestamp: ['string'],
  time: ['string'],
  integer: ['integer'],
  number: ['number', 'integer'],
  boolean: ['boolean'],
  object: ['object'],
  array: ['array'],
};

/** Checks an event type's data schema against the port (schema object) that describes it. */
export function checkEventSchema(port: ContractSchemaObject, schema: z.ZodType): ConformanceIssue[] {
  const json = jsonSchemaOf(schema);
  return checkFields(port.name, port.properties ?? [], json.properties ?? {}, new Set(json.required ?? []));
}

function checkFields(
  port: string,
  properties: readonly ContractProperty[],
  fields: Record<string, JsonSchema>,
  required: ReadonlySet<string>,
  prefix = '',
): ConformanceIssue[] {
  const issues: ConformanceIssue[] = [];
  for (const property of properties) {
    const column = `${prefix}${property.name}`;
    const field = fields[property.name];
    if (field === undefined) {
      issues.push(issue(port, column, 'missing from the producer'));
      continue;
    }
    const { types, nullable } = typesOf(field);
    const admitted = property.logicalType === undefined ? undefined : jsonTypesOf[property.logicalType];
    if (admitted !== undefined && !types.every((type) => admitted.includes(type))) {
      issues.push(
        issue(
          port,
          column,
          'type differs',
          `the contract says ${property.logicalType}, the producer ${types.join(' or ')}`,
        ),
      );
    }
    if (property.required && (!required.has(property.name) || nullable)) {
      issues.push(issue(port, column, 'optional but required by the contract'));
    }
    if (property.properties && field.properties) {
      const nested = new Set(field.required ?? []);
      issues.push(...checkFields(port, property.properties, field.properties, nested, `${column}.`));
    }
  }
  const described = new Set(properties.map((property) => property.name));
  for (const name of Object.keys(fields)) {
    if (!described.has(name)) issues.push(issue(port, `${prefix}${name}`, 'not in the contract'));
  }
  return issues;
}

/** A column as the database describes it (DuckDB's `DESCRIBE`, say). */
export interface ColumnDescription {
  readonly name: string;
  readonly type: string;
  readonly nullable?: boolean;
}

/** The database types each logical type admits (DuckDB's names). */
const databaseTypesOf: Record<string, RegExp> = {
  string: /^(VARCHAR|TEXT|STRING|UUID)(\(\d+\))?$/,
  date: /^DATE$/,
  timestamp: /^TIMESTAMP( WITH TIME ZONE|TZ|_S|_MS|_NS)?$/,
  time: /^TIME( WITH TIME ZONE|TZ)?$/,
  integer: /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|INT\d?)$/,
  number:
    /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|INT\d?|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/,
  boolean: /^BOOLEAN$/,
  object: /^(STRUCT\(.*\)|JSON|MAP\(.*\))$/,
  array: /^(.*\[\]|LIST\(.*\))$/,
};

/** Checks a table's columns against its port: each column there, of an admitted type. */
export function checkColumns(
  port: ContractSchemaObject,
  columns: readonly ColumnDescription[],
): ConformanceIssue[] {
  const issues: ConformanceIssue[] = [];
  const byName = new Map(columns.map((column) => [column.name, column]));
  for (const property of port.properties ?? []) {
    const column = byName.get(property.name);
    if (column === undefined) {
      issues.push(issue(port.name, property.name, 'missing from the producer'));
      continue;
    }
    const type = column.type.trim().toUpperCase();
    const expected = property.physicalType?.trim().toUpperCase();
    const admitted = property.logicalType === undefined ? undefined : databaseTypesOf[property.logicalType];
    const fits = expected !== undefined ? sameDatabaseType(expected, type) : (admitted?.test(type) ?? true);
    if (!fits) {
      issues.push(
        issue(
          port.name,
          property.name,
          'type differs',
          `the contract says ${property.physicalType ?? property.logicalType}, the table has ${column.type}`,
        ),
      );
    }
  }
  const described = new Set((port.properties ?? []).map((property) => property.name));
  for (const column of columns) {
    if (!described.has(column.name)) issues.push(issue(port.name, column.name, 'not in the contract'));
  }
  return issues;
}

const aliases: Record<string, string> = {
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  INT: 'INTEGER',
  TEXT: 'VARCHAR',
};

function sameDatabaseType(a: string, b: string): boolean {
  return (aliases[a] ?? a) === (aliases[b] ?? b);
}

function issue(port: string, column: string, problem: ConformanceProblem, detail?: string): ConformanceIssue {
  return {
    port,
    column,
    problem,
    message: `port ${port}, column ${column}: ${problem}${detail ? ` (${detail})` : ''}`,
  };
}
