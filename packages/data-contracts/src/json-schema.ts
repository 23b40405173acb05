/** A zod schema as the JSON Schema the checks and drafts read: the parts of it they look at. */
import { z } from 'zod';

export interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** Zod's own JSON Schema of `schema`; what JSON cannot express (a transform, a date) reads as any. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema;
}

/** A field's JSON types without `null`, whether `null` is one of them, and its first non-null variant. */
export function typesOf(field: JsonSchema): { types: string[]; nullable: boolean; variant: JsonSchema } {
  const variants = field.anyOf ?? [field];
  const types = variants.flatMap((variant) =>
    variant.type === undefined ? [] : Array.isArray(variant.type) ? variant.type : [variant.type],
  );
  return {
    types: types.filter((type) => type !== 'null'),
    nullable: types.includes('null'),
    variant: variants.find((variant) => variant.type !== 'null') ?? field,
  };
}
