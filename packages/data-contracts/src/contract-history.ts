/**
 * A contract file against its own history in git: the versions it was committed at, and whether
 * the file as it is now breaks a consumer of an earlier one without the major version saying so.
 * Two rules: a change under the same version breaks nothing (else it needed a new version), and a
 * change from the previous version breaks nothing unless the major version went up.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { ConfigurationError } from '@causeway/core';
import { type BreakingChange, breakingChanges, isMajorBump } from './breaking-changes.ts';
import type { DataContract } from './contract.ts';
import { parseContract } from './load-contract.ts';

export interface ContractEvolution {
  readonly file: string;
  readonly version: string;
  /** The version before this one in git, if the file had one. */
  readonly previousVersion: string | null;
  /** Breaks of a consumer of the previous version (allowed with a major bump) or of this same version. */
  readonly breaking: readonly BreakingChange[];
  /** What fails the check, each a sentence naming the file, port, column and change; empty when it passes. */
  readonly violations: readonly string[];
}

/** The committed versions of `file`, newest first, each as git has it (unparseable ones skipped). */
function committedVersions(file: string): DataContract[] {
  const path = resolve(file);
  const gitIn = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  let root: string;
  try {
    root = gitIn(dirname(path), 'rev-parse', '--show-toplevel').trim();
  } catch (error) {
    throw new ConfigurationError(
      `${file} is not in a git repository: its history cannot be read (${String(error)})`,
    );
  }
  // Pathspecs are relative to the working directory: run from the root, which the path is relative to.
  const git = (...args: string[]) => gitIn(root, ...args);
  const inRepository = relative(root, path).split('\\').join('/');
  const commits = git('log', '--format=%H', '--', inRepository).split('\n').filter(Boolean);
  const versions: DataContract[] = [];
  for (const commit of commits) {
    try {
      versions.push(
        parseContract(git('show', `${commit}:${inRepository}`), `${inRepository}@${commit.slice(0, 8)}`),
      );
    } catch {
      // A version that never followed the standard promised nothing to anyone.
    }
  }
  return versions;
}

/** Checks the file as it is now against its history in git. */
export function checkContractEvolution(file: string): ContractEvolution {
  const current = parseContract(readFileSync(file, 'utf8'), file);
  const history = committedVersions(file);
  const sameVersion = history.filter((committed) => committed.version === current.version);
  const previous = history.find((committed) => committed.version !== current.version) ?? null;
  const violations: string[] = [];
  const breaking: BreakingChange[] = [];
  // The first commit of this version is what its consumers were promised.
  const promised = sameVersion.at(-1);
  if (promised !== undefined) {
    const changes = breakingChanges(promised, current);
    breaking.push(...changes);
    for (const change of changes) {
      violations.push(
        `${file}: ${change.message}, still at version ${current.version}: give it a new major version`,
      );
    }
  }
  if (previous !== null) {
    const changes = breakingChanges(previous, current);
    breaking.push(...changes);
    const allowed = isMajorBump(previous, current);
    for (const change of allowed ? [] : changes) {
      violations.push(
        `${file}: ${change.message} since version ${previous.version}, but ${current.version} is not a new major version`,
      );
    }
  }
  return { file, version: current.version, previousVersion: previous?.version ?? null, breaking, violations };
}
