/**
 * A first contract for a stream of events, drafted from their definitions: one port (schema
 * object) per event type, a column per field of its zod schema with the logical type and
 * `required` its JSON Schema gives, and `classification: pii` for the fields the definition
 * encrypts as personal data. A draft to review and commit: from then on the committed contract is
 * what the events are checked against, and what its next versions are compared with.
 */
import type { z } from 'zod';
import type { ContractProperty, ContractSchemaObject, DataContract } from './contract.ts';
import { type JsonSchema, jsonSchemaOf, typesOf } from './json-schema.ts';

/** What an event definition of @causeway/core offers (a registry's definitions fit). */
export interface DraftedEvent {
  readonly type: string;
  readonly schema: z.ZodType;
  readonly personal?: { readonly fields: readonly string[] };
}

export interface DraftOptions {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  readonly version?: string;
  readonly description?: string;
  readonly events: readonly DraftedEvent[];
}

export function draftContract(options: DraftOptions): DataContract {
  return {
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: options.id,
    name: options.name,
    version: options.version ?? '1.0.0',
    status: 'active',
    domain: options.domain,
    ...(options.description ? { description: { purpose: options.description } } : {}),
    schema: options.events.map(portOf),
  };
}

function portOf(event: DraftedEvent): ContractSchemaObject {
  const json = jsonSchemaOf(event.schema);
  const personal = new Set(event.personal?.fields ?? []);
  return {
    name: event.type,
    physicalType: 'event',
    properties: propertiesOf(json, personal),
  };
}

function propertiesOf(json: JsonSchema, personal: ReadonlySet<string>): ContractProperty[] {
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, field]) => {
    const { variant, nullable } = typesOf(field);
    const logicalType = logicalTypeOf(variant);
    return {
      name,
      ...(logicalType ? { logicalType } : {}),
      required: required.has(name) && !nullable,
      classification: personal.has(name) ? 'pii' : 'internal',
      ...(logicalType === 'object' && variant.properties
        ? { properties: propertiesOf(variant, new Set()) }
        : {}),
    };
  });
}

function logicalTypeOf(field: JsonSchema): string | undefined {
  const type = Array.isArray(field.type) ? field.type.find((each) => each !== 'null') : field.type;
  if (type === 'string' && field.format === 'date-time') return 'timestamp';
  if (type === 'string' && field.format === 'date') return 'date';
  return type;
}
