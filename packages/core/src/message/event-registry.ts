import { z } from 'zod';
import { isSealed } from '../crypto/personal-data-cipher.ts';
import { ConfigurationError, UnknownEventTypeError, UpcastError, ValidationError } from '../errors/index.ts';
import type { Message, NewMessage } from './message.ts';

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

/** A command (or reply) is declared like an event: the same schema, version and upcasters. */
export type MessageDefinition<Data = unknown, Type extends string = string> = EventDefinition<Data, Type>;

/** The payload type a definition declares. */
export type DataOf<Definition extends AnyEventDefinition> = z.output<Definition['schema']>;

/**
 * The envelope of each definition in a union, with `type` and `data` tied together: narrowing on
 * `message.type` narrows `message.data`.
 */
export type MessageOf<Definition extends AnyEventDefinition> = Definition extends AnyEventDefinition
  ? Message<DataOf<Definition>, Definition['type']>
  : never;

/** What `appendToStream` accepts for each definition in a union. */
export type NewMessageOf<Definition extends AnyEventDefinition> = Definition extends AnyEventDefinition
  ? NewMessage<DataOf<Definition>, Definition['type']>
  : never;

/** The envelope of the one type `Type` among `Definition`. */
export type MessageOfType<Definition extends AnyEventDefinition, Type extends string> = MessageOf<
  Extract<Definition, { readonly type: Type }>
>;

/**
 * A handler per message type, keyed by the types of `Definition`: a key that names no definition,
 * or a handler that expects other data, fails to compile.
 */
export type HandlerMap<Definition extends AnyEventDefinition, Context, Result = void> = {
  readonly [Type in Definition['type']]?: (
    message: MessageOfType<Definition, Type>,
    context: Context,
  ) => Promise<Result> | Result;
};

interface DefinitionOptions<Type extends string, Schema extends z.ZodType> {
  type: Type;
  schema: Schema;
  version?: number;
  upcasters?: Record<number, Upcaster>;
  personal?: PersonalData<z.infer<Schema>>;
}

/** Declares one event type: its schema, version, upcasters and personal fields. */
export function defineEvent<Type extends string, Schema extends z.ZodType>(
  options: DefinitionOptions<Type, Schema>,
): EventDefinition<z.infer<Schema>, Type> {
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

/**
 * Declares one command (a saga step's request, or any message sent to one receiver): validated by
 * the receiving consumer like an event, and typed in `command(...)` and participant handlers.
 */
export function defineCommand<Type extends string, Schema extends z.ZodType>(
  options: Omit<DefinitionOptions<Type, Schema>, 'personal'>,
): MessageDefinition<z.infer<Schema>, Type> {
  return defineEvent(options);
}

/**
 * The types a service knows: validates on write, upcasts on read. `Definition` (the union of its
 * definitions) types the messages of every store, consumer and projection built on it.
 */
export interface EventRegistry<Definition extends AnyEventDefinition = AnyEventDefinition> {
  readonly definitions: readonly Definition[];
  has(type: string): boolean;
  get(type: string): AnyEventDefinition | undefined;
  /** Validated data at the current version; throws ValidationError (nothing is written). */
  validate(type: string, data: unknown): { version: number; data: unknown };
  /**
   * Like `validate`, for a message as it travels between services: personal fields arrive sealed
   * (only the owner holds the key), so a sealed personal field passes as it is; the rest is checked.
   */
  validateReceived(type: string, data: unknown): { version: number; data: unknown };
  /** Data of a stored version brought to the current one; unregistered types pass through. */
  upcast(type: string, version: number, data: unknown): { version: number; data: unknown };
  readonly types: readonly string[];
}

export function createEventRegistry<const Definition extends AnyEventDefinition = never>(
  definitions: readonly Definition[],
): EventRegistry<Definition> {
  const byType = new Map<string, AnyEventDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) {
      throw new ConfigurationError(`Event type ${definition.type} is registered twice`);
    }
    byType.set(definition.type, definition);
  }
  const types = [...byType.keys()];

  function validateWith(type: string, schema: z.ZodType, data: unknown) {
    const parsed = schema.safeParse(data);
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
    return parsed.data;
  }

  function definitionOf(type: string): AnyEventDefinition {
    const definition = byType.get(type);
    if (!definition) throw new UnknownEventTypeError(type, types);
    return definition;
  }

  return {
    definitions: [...definitions],
    types,
    has: (type) => byType.has(type),
    get: (type) => byType.get(type),
    validate(type, data) {
      const definition = definitionOf(type);
      return { version: definition.version, data: validateWith(type, definition.schema, data) };
    },
    validateReceived(type, data) {
      const definition = definitionOf(type);
      const sealedFields = (definition.personal?.fields ?? []).filter((field) =>
        isSealed((data as Record<string, unknown> | null)?.[field]),
      );
      if (sealedFields.length === 0 || !(definition.schema instanceof z.ZodObject)) {
        return { version: definition.version, data: validateWith(type, definition.schema, data) };
      }
      // zod's omit mask type wants literal keys; these come from the definition at run time.
      const mask = Object.fromEntries(sealedFields.map((field) => [field, true])) as never;
      const sealed = Object.fromEntries(
        sealedFields.map((field) => [field, (data as Record<string, unknown>)[field]]),
      );
      const rest = validateWith(type, definition.schema.omit(mask), data) as Record<string, unknown>;
      return { version: definition.version, data: { ...rest, ...sealed } };
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
