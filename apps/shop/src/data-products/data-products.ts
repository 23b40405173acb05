/**
 * The shop's data products: each domain service declares one beside its code, in
 * `services/<domain>/data-product/` (a descriptor in the Open Data Product Standard's shape, and a
 * data contract per output port in ODCS v3.1 YAML). Loaded and checked together: every contract
 * follows the standard, and every port names a contract that is there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '@causeway/core';
import { type DataContract, parseContract } from '@causeway/data-contracts';
import { parse } from 'yaml';
import { z } from 'zod';

/** `services/` beside this folder: the same path from `src/` and from `dist/` (the build copies the YAML). */
export const servicesDirectory = fileURLToPath(new URL('../services/', import.meta.url));

const descriptorSchema = z.object({
  apiVersion: z.string(),
  kind: z.literal('DataProduct'),
  id: z.string().min(1),
  name: z.string().min(1),
  domain: z.string().min(1),
  status: z.string().min(1),
  team: z.object({
    name: z.string(),
    members: z.array(z.object({ username: z.string(), role: z.string() })).min(1),
  }),
  outputPorts: z
    .array(z.object({ name: z.string(), version: z.string(), contractId: z.string(), type: z.string() }))
    .min(1),
});

export type DataProductDescriptor = z.infer<typeof descriptorSchema>;

export interface ContractFile {
  readonly contract: DataContract;
  /** The YAML as written, served as it is. */
  readonly text: string;
  /** Relative to the repository's `apps/shop/src/services` (or `dist/services`). */
  readonly file: string;
}

export interface DataProduct {
  readonly descriptor: DataProductDescriptor;
  readonly owner: string;
  readonly contracts: ReadonlyMap<string, ContractFile>;
  /** The first port's contract latency SLA, in ms; null when it states none. */
  readonly slaFreshnessMs: number | null;
}

/** Every data product under `directory`, in domain order; a broken one is a ConfigurationError. */
export function loadDataProducts(directory = servicesDirectory): DataProduct[] {
  const products: DataProduct[] = [];
  for (const service of readdirSync(directory).sort()) {
    const folder = join(directory, service, 'data-product');
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch {
      continue;
    }
    products.push(loadDataProduct(folder, service, names));
  }
  return products;
}

function loadDataProduct(folder: string, service: string, names: readonly string[]): DataProduct {
  const descriptorFile = join(service, 'data-product', 'data-product.yaml');
  if (!names.includes('data-product.yaml')) {
    throw new ConfigurationError(
      `${descriptorFile} is missing: each data-product folder needs its descriptor`,
    );
  }
  const parsed = descriptorSchema.safeParse(parse(readFileSync(join(folder, 'data-product.yaml'), 'utf8')));
  if (!parsed.success) {
    throw new ConfigurationError(`${descriptorFile} is not a valid data product: ${parsed.error.message}`);
  }
  const descriptor = parsed.data;
  const contracts = new Map<string, ContractFile>();
  for (const name of names.filter((each) => each.endsWith('.odcs.yaml'))) {
    const file = join(service, 'data-product', name);
    const text = readFileSync(join(folder, name), 'utf8');
    const contract = parseContract(text, file);
    contracts.set(contract.id, { contract, text, file });
  }
  for (const port of descriptor.outputPorts) {
    if (!contracts.has(port.contractId)) {
      throw new ConfigurationError(
        `${descriptorFile}: output port ${port.name} names contract ${port.contractId}, which no .odcs.yaml file beside it declares`,
      );
    }
  }
  const owner = descriptor.team.members.find((member) => member.role === 'owner')?.username;
  if (owner === undefined)
    throw new ConfigurationError(`${descriptorFile}: its team has no member with role owner`);
  const first = contracts.get(descriptor.outputPorts[0]!.contractId)!.contract;
  return { descriptor, owner, contracts, slaFreshnessMs: latencyMsOf(first) };
}

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function latencyMsOf(contract: DataContract): number | null {
  const latency = contract.slaProperties?.find((sla) => sla.property === 'latency');
  if (latency === undefined || typeof latency.value !== 'number') return null;
  const factor = unitMs[latency.unit ?? 'ms'];
  return factor === undefined ? null : latency.value * factor;
}
