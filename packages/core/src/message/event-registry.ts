import type { z } from 'zod';
import { ConfigurationError, UnknownEventTypeError, UpcastError, ValidationError } from '../errors/index.ts';

/** Turns data of version `n` into data of version `n + 1`; pure, never touches storage. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/** Fields that hold personal data of one subject; they are encrypted with that subject's key. */
export interface PersonalData<Data> {
  /** The subject (e.g. the user id) whose key encrypts these fields. */
  // Method syntax keeps definitions of different payloads assignable to one registry list.
  subject(data: Data): string;
  readonly fields: ReadonlyArray<keyof Data & string>;
}

export interface EventDefinition<Data = unknown, Type extends string = string> {
  readonly type: Type;
  /** Current schema version; events are always written at this version. */
  readonly version: number;
  readonly schema: z.ZodType<Data>;
  /** `upcasters[v]` turns v into v + 1; every version from 1 to `version - 1` needs one. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
  readonly personal?: PersonalData<Data>;
}

/** Any definition, whatever its payload: what a registry holds. */
export interface AnyEventDefinition {
  readonly type: string;
  readonly version: number;
  readonly schema: z.ZodType;
  readonly upcasters: Readonly<Record<number, Upcaster>>;
  readonly personal?: { subject(data: never): string; readonly fields: readonly string[] };
}

/** Declares one message type: its schema, version, upcasters and personal fields. */
export function defineEvent<Type extends string, Schema extends z.ZodType>(options: {
  type: Type;
  schema: Schema;
  version?: number;
  upcasters?: Record<number, Upcaster>;
  personal?: PersonalData<z.infer<Schema>>;
}): EventDefinition<z.infer<Schema>, Type> {
  const version = options.version ?? 1;
  const upcasters = options.upcasters ?? {};
  if (!Number.isInteger(version) || version < 1) {
    throw new ConfigurationError(`Event ${options.type}: version must be an integer >= 1, got ${version}`);
  }
  for (let v = 1; v < version; v++) {
    if (typeof upcasters[v] !== 'function') {
      throw new ConfigurationError(
        `Event ${options.type} is at version ${version} but has no upcaster from v${v} to v${v + 1}: add upcasters[${v}]`,
        { type: options.type, missing: v },
      );
    }
  }
  return {
    type: options.type,
    version,
    schema: options.schema as z.ZodType<z.infer<Schema>>,
    upcasters,
    ...(options.personal ? { personal: options.personal } : {}),
  };
}

/** The types a service knows: validates on write, upcasts on read. */
export interface EventRegistry {
  has(type: string): boolean;
  get(type: string): AnyEventDefinition | undefined;
  /** Validated data at the current version; throws ValidationError (nothing is written). */
  validate(type: string, data: unknown): { version: number; data: unknown };
  /** Data of a stored version brought to the current one; unregistered types pass through. */
  upcast(type: string, version: number, data: unknown): { version: number; data: unknown };
  readonly types: readonly string[];
}

export function createEventRegistry(definitions: readonly AnyEventDefinition[]): EventRegistry {
  const byType = new Map<string, AnyEventDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) {
      throw new ConfigurationError(`Event type ${definition.type} is registered twice`);
    }
    byType.set(definition.type, definition);
  }
  const types = [...byType.keys()];

  return {
    types,
    has: (type) => byType.has(type),
    get: (type) => byType.get(type),
    validate(type, data) {
      const definition = byType.get(type);
      if (!definition) throw new UnknownEventTypeError(type, types);
      const parsed = definition.schema.safeParse(data);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => ({
          path: issue.path.map(String).join('.'),
          message: issue.message,
        }));
        throw new ValidationError(
          `Invalid ${type}: ${issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`,
          issues,
          { type },
        );
      }
      return { version: definition.version, data: parsed.data };
    },
    upcast(type, version, data) {
      const definition = byType.get(type);
      if (!definition || version === definition.version) return { version, data };
      if (version > definition.version) {
        throw new UpcastError(
          type,
          version,
          `stored at v${version} but this code knows only up to v${definition.version}: deploy the newer code`,
        );
      }
      let current = data as Record<string, unknown>;
      for (let v = version; v < definition.version; v++) {
        const upcaster = definition.upcasters[v];
        if (!upcaster) throw new UpcastError(type, v, `no upcaster from v${v}`);
        try {
          current = upcaster(current);
        } catch (error) {
          throw new UpcastError(type, v, error instanceof Error ? error.message : String(error), error);
        }
      }
      return { version: definition.version, data: current };
    },
  };
}
