import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from './causeway-error.ts';

const source = readFileSync(new URL('./causeway-error.ts', import.meta.url), 'utf8');
const documentation = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('lists every code raised in the error classes', () => {
    const raised = [...source.matchAll(/super\(\s*'([A-Z_]+)'/g)].map((match) => match[1]);
    expect(raised.length).toBeGreaterThan(5);
    for (const code of raised) expect(errorCodes).toContain(code);
  });

  it('documents every code in docs/errors.md', () => {
    const documented = [...documentation.matchAll(/^\| `([A-Z_]+)`\s*\|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...errorCodes].sort());
  });
});
