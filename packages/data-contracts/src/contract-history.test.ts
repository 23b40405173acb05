import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkContractEvolution } from './contract-history.ts';

function contract(version: string, columns: string[]) {
  return stringify({
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: 'orders-events',
    version,
    status: 'active',
    schema: [
      { name: 'orders.OrderPlaced', properties: columns.map((name) => ({ name, logicalType: 'string' })) },
    ],
  });
}

describe('checkContractEvolution', () => {
  const repositories: string[] = [];
  afterEach(() => {
    for (const repository of repositories.splice(0)) rmSync(repository, { recursive: true, force: true });
  });

  /** A git repository holding the contract at each of `commits`, one commit each. */
  function repositoryWith(...commits: string[]): string {
    const repository = mkdtempSync(join(tmpdir(), 'causeway-contracts-'));
    repositories.push(repository);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
        cwd: repository,
      });
    git('init', '-q');
    // In a folder below the root, as contracts beside a service's code are.
    mkdirSync(join(repository, 'orders'));
    for (const [index, text] of commits.entries()) {
      writeFileSync(join(repository, 'orders', 'orders.odcs.yaml'), text);
      git('add', '.');
      git('commit', '-q', '-m', `version ${index}`);
    }
    return join(repository, 'orders', 'orders.odcs.yaml');
  }

  it('passes additions, and a break that comes with a new major version', () => {
    const file = repositoryWith(
      contract('1.0.0', ['orderId', 'note']),
      contract('1.1.0', ['orderId', 'note', 'coupon']),
    );
    expect(checkContractEvolution(file)).toMatchObject({
      version: '1.1.0',
      previousVersion: '1.0.0',
      violations: [],
    });
    writeFileSync(file, contract('2.0.0', ['orderId', 'coupon']));
    const major = checkContractEvolution(file);
    expect(major.violations).toEqual([]);
    expect(major.breaking.map((change) => change.message)).toEqual([
      'port orders.OrderPlaced, column note: column removed',
    ]);
  });

  it('fails a break under the same version, and one without a new major version', () => {
    const file = repositoryWith(contract('1.0.0', ['orderId', 'note']));
    writeFileSync(file, contract('1.0.0', ['orderId']));
    expect(checkContractEvolution(file).violations).toEqual([
      `${file}: port orders.OrderPlaced, column note: column removed, still at version 1.0.0: give it a new major version`,
    ]);
    writeFileSync(file, contract('1.1.0', ['orderId']));
    expect(checkContractEvolution(file).violations).toEqual([
      `${file}: port orders.OrderPlaced, column note: column removed since version 1.0.0, but 1.1.0 is not a new major version`,
    ]);
  });
});
