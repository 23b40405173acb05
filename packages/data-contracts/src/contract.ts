/**
 * The parts of an Open Data Contract Standard v3.1 contract that Causeway reads. A loaded contract
 * keeps every other field as written (the standard has many); these are typed for the checks.
 */

/** A column of a table, or a field of an event. */
export interface ContractProperty {
  readonly id?: string;
  readonly name: string;
  /** string, date, timestamp, time, number, integer, object, array, boolean. */
  readonly logicalType?: string;
  readonly logicalTypeOptions?: Readonly<Record<string, unknown>>;
  /** The type as stored: `BIGINT`, `VARCHAR(40)`, `TIMESTAMP WITH TIME ZONE`, … */
  readonly physicalType?: string;
  readonly required?: boolean;
  readonly unique?: boolean;
  readonly primaryKey?: boolean;
  /** e.g. `public`, `internal`, `restricted`, `pii`. */
  readonly classification?: string;
  readonly description?: string;
  readonly properties?: readonly ContractProperty[];
  readonly items?: ContractProperty;
}

/** A table, a view, or one event type of a stream: ODCS calls them schema objects. */
export interface ContractSchemaObject {
  readonly id?: string;
  readonly name: string;
  readonly physicalName?: string;
  readonly physicalType?: string;
  readonly description?: string;
  readonly properties?: readonly ContractProperty[];
  readonly quality?: readonly Readonly<Record<string, unknown>>[];
}

export interface ContractSlaProperty {
  readonly property: string;
  readonly value: unknown;
  readonly unit?: string;
  readonly element?: string;
}

export interface DataContract {
  readonly apiVersion: string;
  readonly kind: 'DataContract';
  readonly id: string;
  readonly version: string;
  readonly status: string;
  readonly name?: string;
  readonly domain?: string;
  readonly schema?: readonly ContractSchemaObject[];
  readonly slaProperties?: readonly ContractSlaProperty[];
  readonly [field: string]: unknown;
}
