// Part of `npm run build`: files the compiled shop (apps/shop/dist) reads that tsc does not emit.
// The dashboard is plain HTML, CSS and ES modules with no build step of its own; each service's
// data product (its descriptor and contracts, YAML) sits beside its code.
import { cpSync, existsSync, readdirSync } from 'node:fs';

cpSync('apps/shop/src/dashboard', 'apps/shop/dist/dashboard', { recursive: true });
for (const service of readdirSync('apps/shop/src/services')) {
  const folder = `apps/shop/src/services/${service}/data-product`;
  if (existsSync(folder))
    cpSync(folder, `apps/shop/dist/services/${service}/data-product`, { recursive: true });
}
