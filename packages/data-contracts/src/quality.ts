/**
 * A contract's quality rules as checks that run: ODCS `quality` entries of type `sql` (a query
 * answering one number) and of type `library` (the standard's metrics: nullValues, missingValues,
 * invalidValues, duplicateValues, rowCount), on a schema object or on one of its properties, each
 * with its operator (`mustBe`, `mustBeLessThan`, …). `text` and `custom` rules are for people and
 * other engines: they are listed, not run. Where the data lives is the caller's: `relation` and
 * `column` fill `${object}` (or `${table}`) and `${property}` (or `${column}`), and `scalar` runs SQL.
 */
import { InvalidArgumentError } from '@causeway/core';
import type { ContractSchemaObject, DataContract } from './contract.ts';

type Rule = Readonly<Record<string, unknown>>;

export interface QualityExpectation {
  readonly operator:
    | 'mustBe'
    | 'mustNotBe'
    | 'mustBeGreaterThan'
    | 'mustBeGreaterOrEqualTo'
    | 'mustBeLessThan'
    | 'mustBeLessOrEqualTo'
    | 'mustBeBetween'
    | 'mustNotBeBetween';
  readonly value: unknown;
}

export interface QualityCheck {
  /** The schema object (table, view, event type) the rule is declared on. */
  readonly port: string;
  /** The property, for a rule declared on one; null for the object's own rules. */
  readonly column: string | null;
  readonly name: string;
  readonly description: string | null;
  readonly dimension: string | null;
  /** As the contract says (`error` when it says none): a failing `error` rule fails the product. */
  readonly severity: string;
  /** SQL answering one number, placeholders still in it. */
  readonly query: string;
  readonly expectation: QualityExpectation;
}

export type QualityStatus = 'pass' | 'fail' | 'error';

export interface QualityResult {
  readonly port: string;
  readonly column: string | null;
  readonly name: string;
  readonly dimension: string | null;
  readonly severity: string;
  readonly status: QualityStatus;
  /** The number the query answered; null when it failed. */
  readonly value: number | null;
  /** The expectation as text: `= 0`, `> 10`, `between 1 and 5`. */
  readonly expected: string;
  readonly error: string | null;
}

export interface QualityTarget {
  /** The relation (or a subquery in parentheses) holding a schema object's rows. */
  relation(port: ContractSchemaObject): string;
  /** How a property is read in that relation (default: its name, quoted). */
  column?(port: ContractSchemaObject, column: string): string;
  /** Runs SQL answering one row of one column. */
  scalar(sql: string): Promise<unknown>;
}

const operators: ReadonlyArray<QualityExpectation['operator']> = [
  'mustBe',
  'mustNotBe',
  'mustBeGreaterThan',
  'mustBeGreaterOrEqualTo',
  'mustBeLessThan',
  'mustBeLessOrEqualTo',
  'mustBeBetween',
  'mustNotBeBetween',
];

// The standard's placeholders, left in a check's SQL and filled when it runs.
// biome-ignore lint/suspicious/noTemplateCurlyInString: ODCS's placeholder, not a template
const objectSlot = '${object}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: ODCS's placeholder, not a template
const propertySlot = '${property}';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const literal = (value: unknown) =>
  value === null
    ? 'NULL'
    : typeof value === 'number'
      ? String(value)
      : `'${String(value).replaceAll("'", "''")}'`;

/** Every rule of the contract that runs as SQL, in the contract's order. */
export function qualityChecks(contract: DataContract): QualityCheck[] {
  const checks: QualityCheck[] = [];
  for (const port of contract.schema ?? []) {
    const rules: Array<[string | null, Rule]> = [
      ...(port.quality ?? []).map((rule) => [null, rule] as [null, Rule]),
      ...(port.properties ?? []).flatMap((property) =>
        ((property as { quality?: readonly Rule[] }).quality ?? []).map(
          (rule) => [property.name, rule] as [string, Rule],
        ),
      ),
    ];
    for (const [column, rule] of rules) {
      const check = checkOf(contract, port, column, rule);
      if (check) checks.push(check);
    }
  }
  return checks;
}

function checkOf(
  contract: DataContract,
  port: ContractSchemaObject,
  column: string | null,
  rule: Rule,
): QualityCheck | null {
  const type = (rule.type as string | undefined) ?? 'library';
  if (type === 'text' || type === 'custom') return null;
  const where = `${contract.id}: ${port.name}${column ? `.${column}` : ''}`;
  const operator = operators.find((each) => rule[each] !== undefined);
  if (!operator)
    throw new InvalidArgumentError(
      'quality',
      `${where}: a quality rule needs an operator (mustBe, mustBeLessThan, …)`,
    );
  const metric = (rule.metric ?? rule.rule) as string | undefined;
  const query = type === 'sql' ? String(rule.query) : metricQuery(where, metric, column, rule);
  return {
    port: port.name,
    column,
    name:
      (rule.name as string | undefined) ??
      (type === 'sql' ? `sql ${column ?? port.name}` : `${metric} ${column ?? port.name}`),
    description: (rule.description as string | undefined) ?? null,
    dimension: (rule.dimension as string | undefined) ?? null,
    severity: (rule.severity as string | undefined) ?? 'error',
    query,
    expectation: { operator, value: rule[operator] },
  };
}

/** The standard's library metrics as SQL over `${object}`; in percent when the rule's unit says so. */
function metricQuery(where: string, metric: string | undefined, column: string | null, rule: Rule): string {
  const args = (rule.arguments ?? {}) as Record<string, unknown>;
  const percent = rule.unit === 'percent';
  const share = (condition: string) =>
    percent
      ? `SELECT coalesce(100.0 * count(*) FILTER (WHERE ${condition}) / nullif(count(*), 0), 0) FROM ${objectSlot}`
      : `SELECT count(*) FILTER (WHERE ${condition}) FROM ${objectSlot}`;
  const needsColumn = () => {
    if (column === null)
      throw new InvalidArgumentError('quality', `${where}: ${metric} is a rule of a property`);
    return propertySlot;
  };
  switch (metric) {
    case 'rowCount':
      return `SELECT count(*) FROM ${objectSlot}`;
    case 'nullValues':
      return share(`${needsColumn()} IS NULL`);
    case 'missingValues': {
      const missing = Array.isArray(args.missingValues) ? args.missingValues : [null];
      const listed = missing.filter((value) => value !== null);
      const isMissing = [
        `${needsColumn()} IS NULL`,
        ...(listed.length ? [`${propertySlot} IN (${listed.map(literal).join(', ')})`] : []),
      ];
      return share(isMissing.join(' OR '));
    }
    case 'invalidValues': {
      const property = needsColumn();
      if (Array.isArray(args.validValues))
        return share(`${property} NOT IN (${args.validValues.map(literal).join(', ')})`);
      if (typeof args.pattern === 'string')
        return share(`NOT regexp_full_match(CAST(${property} AS VARCHAR), ${literal(args.pattern)})`);
      throw new InvalidArgumentError(
        'quality',
        `${where}: invalidValues needs arguments.validValues or arguments.pattern`,
      );
    }
    case 'duplicateValues': {
      const columns =
        column !== null ? [propertySlot] : ((args.properties as string[] | undefined) ?? []).map(quote);
      if (columns.length === 0) {
        throw new InvalidArgumentError(
          'quality',
          `${where}: duplicateValues on an object needs arguments.properties`,
        );
      }
      return `SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM ${objectSlot} GROUP BY ${columns.join(', ')})`;
    }
    default:
      throw new InvalidArgumentError(
        'quality',
        `${where}: unknown metric ${metric}; use nullValues, missingValues, invalidValues, duplicateValues or rowCount`,
      );
  }
}

export function expectationText({ operator, value }: QualityExpectation): string {
  const [low, high] = Array.isArray(value) ? value : [];
  switch (operator) {
    case 'mustBe':
      return `= ${value}`;
    case 'mustNotBe':
      return `≠ ${value}`;
    case 'mustBeGreaterThan':
      return `> ${value}`;
    case 'mustBeGreaterOrEqualTo':
      return `≥ ${value}`;
    case 'mustBeLessThan':
      return `< ${value}`;
    case 'mustBeLessOrEqualTo':
      return `≤ ${value}`;
    case 'mustBeBetween':
      return `between ${low} and ${high}`;
    case 'mustNotBeBetween':
      return `not between ${low} and ${high}`;
  }
}

function meets(actual: number, { operator, value }: QualityExpectation): boolean {
  const [low, high] = (Array.isArray(value) ? value : []).map(Number) as [number, number];
  switch (operator) {
    case 'mustBe':
      return actual === Number(value);
    case 'mustNotBe':
      return actual !== Number(value);
    case 'mustBeGreaterThan':
      return actual > Number(value);
    case 'mustBeGreaterOrEqualTo':
      return actual >= Number(value);
    case 'mustBeLessThan':
      return actual < Number(value);
    case 'mustBeLessOrEqualTo':
      return actual <= Number(value);
    case 'mustBeBetween':
      return actual >= low && actual <= high;
    case 'mustNotBeBetween':
      return actual < low || actual > high;
  }
}

/** Runs each check in turn; a query that fails is that check's `error`, not the others'. */
export async function runQualityChecks(
  contract: DataContract,
  target: QualityTarget,
  checks: readonly QualityCheck[] = qualityChecks(contract),
): Promise<QualityResult[]> {
  const ports = new Map((contract.schema ?? []).map((port) => [port.name, port]));
  const results: QualityResult[] = [];
  for (const check of checks) {
    const port = ports.get(check.port)!;
    const column = check.column === null ? '' : (target.column?.(port, check.column) ?? quote(check.column));
    const sql = check.query
      .replaceAll(/\$\{(object|table)\}/g, () => target.relation(port))
      .replaceAll(/\$\{(property|column)\}/g, () => column);
    const base = {
      port: check.port,
      column: check.column,
      name: check.name,
      dimension: check.dimension,
      severity: check.severity,
      expected: expectationText(check.expectation),
    };
    try {
      const answered = await target.scalar(sql);
      const value = answered === null || answered === undefined ? 0 : Number(answered);
      if (Number.isNaN(value)) throw new Error(`the query answered ${String(answered)}, not a number`);
      results.push({
        ...base,
        status: meets(value, check.expectation) ? 'pass' : 'fail',
        value,
        error: null,
      });
    } catch (error) {
      results.push({
        ...base,
        status: 'error',
        value: null,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}

/** A product's quality in one word: `fail` if an `error` rule failed or could not run, else `warn` if any did, else `pass`. */
export function qualityStatus(results: readonly QualityResult[]): 'pass' | 'warn' | 'fail' {
  const bad = results.filter((result) => result.status !== 'pass');
  if (bad.some((result) => result.severity === 'error')) return 'fail';
  return bad.length > 0 ? 'warn' : 'pass';
}
