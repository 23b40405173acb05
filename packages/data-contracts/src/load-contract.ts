/**
 * Reads a data contract (ODCS v3.1 YAML) and validates it against the standard's official JSON
 * Schema, vendored in `schema/` (Apache-2.0). A contract that does not follow the standard is a
 * ValidationError whose issues point at each wrong field (JSON pointer) and say what is expected.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '@causeway/core';
import { Ajv2019, type ErrorObject, type ValidateFunction } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import type { DataContract } from './contract.ts';

const schemaFile = new URL('../schema/odcs-json-schema-v3.1.0.json', import.meta.url);

let validator: ValidateFunction | null = null;

/** Compiled once, on first use: the schema is 86 kB. */
function odcsValidator(): ValidateFunction {
  if (validator === null) {
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    addFormats.default(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
  }
  return validator;
}

/** Parses and validates one contract; `source` names it in errors (a file path, say). */
export function parseContract(yamlText: string, source: string): DataContract {
  let document: unknown;
  try {
    document = parse(yamlText);
  } catch (error) {
    throw new ValidationError(`Data contract ${source} is not valid YAML: ${String(error)}`, [], { source });
  }
  const validate = odcsValidator();
  if (!validate(document)) {
    const issues = (validate.errors ?? []).map(issueOf);
    throw new ValidationError(
      `Data contract ${source} does not follow ODCS v3.1.0: ${issues
        .slice(0, 3)
        .map((issue) => `${issue.path} ${issue.message}`)
        .join('; ')}`,
      issues,
      { source },
    );
  }
  return document as DataContract;
}

/** Reads and validates a contract file. */
export function loadContract(path: string): DataContract {
  return parseContract(readFileSync(path, 'utf8'), path);
}

function issueOf(error: ErrorObject): { path: string; message: string } {
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  const message = `${error.message ?? 'is not valid'}${allowed ? ` (${allowed.join(', ')})` : ''}`;
  return { path: error.instancePath === '' ? '/' : error.instancePath, message };
}
