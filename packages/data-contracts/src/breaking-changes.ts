/**
 * What a new version of a contract breaks for the consumers of the old one, port (schema object)
 * by port and column by column: a column removed or renamed, a type narrowed or changed, a
 * `required` or `unique` added (including a new column that is required). A breaking change is
 * allowed only with a new major version, as semantic versioning says.
 */
import type { ContractProperty, ContractSchemaObject, DataContract } from './contract.ts';

export type BreakingKind =
  | 'port removed'
  | 'column removed'
  | 'column renamed'
  | 'type narrowed'
  | 'type changed'
  | 'required added'
  | 'unique added';

export interface BreakingChange {
  readonly port: string;
  readonly column: string | null;
  readonly kind: BreakingKind;
  /** `port orders.OrderPlaced, column totalCents: type narrowed (number to integer)`. */
  readonly message: string;
}

/** Logical types a consumer of the first still reads when given the second. */
const widenings = new Set(['integer>number', 'date>timestamp']);

/** The breaking changes from `previous` to `next`, in the order of `previous`'s ports and columns. */
export function breakingChanges(previous: DataContract, next: DataContract): BreakingChange[] {
  const changes: BreakingChange[] = [];
  for (const before of previous.schema ?? []) {
    const after = matching(next.schema ?? [], before);
    if (after === undefined) {
      changes.push(change(before.name, null, 'port removed'));
      continue;
    }
    changes.push(...columnChanges(before.name, before.properties ?? [], after.properties ?? []));
  }
  return changes;
}

/** Whether `next` may carry `breaking` changes: only with a greater major version than `previous`. */
export function isMajorBump(previous: DataContract, next: DataContract): boolean {
  return majorOf(next.version) > majorOf(previous.version);
}

function columnChanges(
  port: string,
  before: readonly ContractProperty[],
  after: readonly ContractProperty[],
  prefix = '',
): BreakingChange[] {
  const changes: BreakingChange[] = [];
  for (const old of before) {
    const column = `${prefix}${old.name}`;
    const now = matching(after, old);
    if (now === undefined) {
      changes.push(change(port, column, 'column removed'));
      continue;
    }
    if (now.name !== old.name) {
      changes.push(change(port, column, 'column renamed', `to ${prefix}${now.name}`));
    }
    const typeChange = typeChangeOf(old, now);
    if (typeChange) changes.push(change(port, column, typeChange.kind, typeChange.detail));
    if (!old.required && now.required) changes.push(change(port, column, 'required added'));
    if (!old.unique && now.unique) changes.push(change(port, column, 'unique added'));
    if (old.properties && now.properties) {
      changes.push(...columnChanges(port, old.properties, now.properties, `${column}.`));
    }
  }
  for (const added of after) {
    if (added.required && matching(before, added) === undefined) {
      changes.push(change(port, `${prefix}${added.name}`, 'required added', 'a new required column'));
    }
  }
  return changes;
}

/** Matched by `id` when both have one (so a rename is a rename), otherwise by name. */
function matching<T extends ContractProperty | ContractSchemaObject>(
  candidates: readonly T[],
  wanted: T,
): T | undefined {
  if (wanted.id !== undefined) {
    const byId = candidates.find((candidate) => candidate.id === wanted.id);
    if (byId !== undefined) return byId;
  }
  return (
    candidates.find((candidate) => candidate.name === wanted.name && candidate.id === undefined) ??
    candidates.find((candidate) => candidate.name === wanted.name)
  );
}

function typeChangeOf(
  old: ContractProperty,
  now: ContractProperty,
): { kind: 'type narrowed' | 'type changed'; detail: string } | null {
  if (old.logicalType !== undefined && old.logicalType !== now.logicalType) {
    const from = old.logicalType;
    const to = now.logicalType ?? 'unspecified';
    if (widenings.has(`${from}>${to}`)) return null;
    const narrower = widenings.has(`${to}>${from}`);
    return { kind: narrower ? 'type narrowed' : 'type changed', detail: `${from} to ${to}` };
  }
  const options = narrowedOptions(old.logicalTypeOptions ?? {}, now.logicalTypeOptions ?? {});
  if (options) return { kind: 'type narrowed', detail: options };
  if (old.physicalType !== undefined && now.physicalType !== undefined) {
    const physical = physicalChange(old.physicalType, now.physicalType);
    if (physical) return physical;
  }
  return null;
}

/** A bound that admits fewer values than before: a smaller maximum or length, a larger minimum. */
function narrowedOptions(old: Readonly<Record<string, unknown>>, now: Readonly<Record<string, unknown>>) {
  const upper = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems'];
  const lower = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems'];
  for (const bound of upper) {
    const [a, b] = [old[bound], now[bound]];
    if (typeof b === 'number' && (typeof a !== 'number' || b < a)) return `${bound} ${a ?? 'none'} to ${b}`;
  }
  for (const bound of lower) {
    const [a, b] = [old[bound], now[bound]];
    if (typeof b === 'number' && (typeof a !== 'number' || b > a)) return `${bound} ${a ?? 'none'} to ${b}`;
  }
  if (typeof now.pattern === 'string' && now.pattern !== old.pattern) return `pattern now ${now.pattern}`;
  if (typeof now.format === 'string' && now.format !== old.format) return `format now ${now.format}`;
  return null;
}

const integerWidths: Record<string, number> = {
  TINYINT: 8,
  SMALLINT: 16,
  INT2: 16,
  INTEGER: 32,
  INT: 32,
  INT4: 32,
  BIGINT: 64,
  INT8: 64,
  HUGEINT: 128,
};

/** Integer widths and text lengths compared; any other different physical type is a change. */
function physicalChange(
  old: string,
  now: string,
): { kind: 'type narrowed' | 'type changed'; detail: string } | null {
  const a = old.trim().toUpperCase();
  const b = now.trim().toUpperCase();
  if (a === b) return null;
  const detail = `${old} to ${now}`;
  const [widthA, widthB] = [integerWidths[a], integerWidths[b]];
  if (widthA !== undefined && widthB !== undefined) {
    return widthB < widthA ? { kind: 'type narrowed', detail } : null;
  }
  const textA = /^(VARCHAR|TEXT|STRING)(?:\((\d+)\))?$/.exec(a);
  const textB = /^(VARCHAR|TEXT|STRING)(?:\((\d+)\))?$/.exec(b);
  if (textA && textB) {
    const lengthA = textA[2] === undefined ? Number.POSITIVE_INFINITY : Number(textA[2]);
    const lengthB = textB[2] === undefined ? Number.POSITIVE_INFINITY : Number(textB[2]);
    return lengthB < lengthA ? { kind: 'type narrowed', detail } : null;
  }
  return { kind: 'type changed', detail };
}

function majorOf(version: string): number {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  return Number.isNaN(major) ? 0 : major;
}

function change(port: string, column: string | null, kind: BreakingKind, detail?: string): BreakingChange {
  const where = column === null ? `port ${port}` : `port ${port}, column ${column}`;
  return { port, column, kind, message: `${where}: ${kind}${detail ? ` (${detail})` : ''}` };
}
