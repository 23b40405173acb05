/** Runs one data test against the last committed state and says what it found. */
import type { Lakehouse } from '../lakehouse.ts';
import type { ProjectTest } from './project.ts';
import type { RelationResolver } from './references.ts';
import type { TestResult } from './run-result.ts';

/** How many failing rows a result keeps to show. */
export const sampleSize = 5;

/**
 * Counts the rows the test's query returns and keeps the first few. Zero rows is `pass`; any rows
 * are `fail` (severity error) or `warn`; a query that cannot run is `error`. Never throws.
 */
export async function executeTest(
  lakehouse: Lakehouse,
  test: ProjectTest,
  resolver: RelationResolver,
): Promise<TestResult> {
  const base = { test: test.name, model: test.model, severity: test.severity };
  try {
    // The newlines keep a trailing `-- comment` in a singular test from swallowing the parenthesis.
    const failing = `(\n${test.failingRowsSql(resolver).trim().replace(/;+$/, '')}\n) AS failing`;
    const { failures, sample } = await lakehouse.read(async (session) => {
      const [count] = await session.all<{ n: number }>(`SELECT count(*) AS n FROM ${failing}`);
      const failures = Number(count?.n ?? 0);
      const sample = failures === 0 ? [] : await session.all(`SELECT * FROM ${failing} LIMIT ${sampleSize}`);
      return { failures, sample };
    });
    const status = failures === 0 ? 'pass' : test.severity === 'warn' ? 'warn' : 'fail';
    return { ...base, status, failures, sample, error: null };
  } catch (error) {
    return { ...base, status: 'error', failures: null, sample: [], error: (error as Error).message };
  }
}

/** A test not run because a model it reads failed or was skipped. */
export function skippedTest(test: ProjectTest, reason: string): TestResult {
  return {
    test: test.name,
    model: test.model,
    severity: test.severity,
    status: 'skipped',
    failures: null,
    sample: [],
    error: reason,
  };
}
