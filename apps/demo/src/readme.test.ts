import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** README.md and every page under docs/, as paths relative to the repository root. */
function markdownPages(): string[] {
  const walk = (folder: string): string[] =>
    readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', ...walk('docs')];
}

/**
 * A sample in the docs is marked `<!-- example: docs/examples/x.ts -->` (the whole file) or
 * `<!-- example: docs/examples/x.ts#name -->` (the lines between `// #region name` and
 * `// #endregion`), followed by a ts code block that must be that text, verbatim.
 */
const samplePattern =
  /<!-- example: (docs\/examples\/[\w-]+\.ts)(?:#([\w-]+))?[^>]*-->\n```ts\n([\s\S]*?)\n```/g;

function expectedSample(file: string, region: string | undefined): string {
  const text = read(file);
  if (!region) return text.trim();
  const lines = text.split('\n');
  const start = lines.indexOf(`// #region ${region}`);
  const end = lines.indexOf('// #endregion', start);
  if (start < 0 || end < 0) throw new Error(`${file} has no region ${region}`);
  return lines
    .slice(start + 1, end)
    .join('\n')
    .trim();
}

const samples = markdownPages().flatMap((page) =>
  [...read(page).matchAll(samplePattern)].map((match) => ({
    page,
    file: match[1]!,
    region: match[2],
    shown: match[3]!.trim(),
  })),
);

describe('code samples in README.md and docs/', () => {
  it('are verbatim copies of files in docs/examples (compiled by tsc), so they cannot drift', () => {
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) {
      const where = `${sample.page} shows ${sample.file}${sample.region ? `#${sample.region}` : ''}`;
      expect(sample.shown, where).toBe(expectedSample(sample.file, sample.region));
    }
  });

  it('show the quick start whole on the README', () => {
    expect(samples).toContainEqual(
      expect.objectContaining({ page: 'README.md', file: 'docs/examples/quick-start.ts', region: undefined }),
    );
  });

  it('are the only code in README.md and docs/: every TypeScript or JavaScript block is a marked sample', () => {
    for (const page of markdownPages()) {
      const lines = read(page).split('\n');
      lines.forEach((line, index) => {
        if (!/^```(ts|typescript|tsx|mts|js|javascript|mjs)\s*$/.test(line)) return;
        const where = `${page}:${index + 1} has a code block with no <!-- example: docs/examples/… --> line above it`;
        expect(lines[index - 1] ?? '', where).toMatch(/^<!-- example: docs\/examples\//);
      });
    }
  });

  it('show the quick start on the first screen, before the first capability section', () => {
    const readme = read('README.md');
    const quickStart = readme.indexOf('<!-- example: docs/examples/quick-start.ts');
    const firstCapability = readme.indexOf('<!-- example: docs/examples/', quickStart + 1);
    expect(quickStart).toBeGreaterThan(0);
    expect(quickStart).toBeLessThan(firstCapability);
  });

  it('show every file in docs/examples somewhere', () => {
    const shown = new Set(samples.map((sample) => sample.file));
    for (const file of readdirSync(join(root, 'docs/examples'))) {
      expect(shown, `docs/examples/${file} is shown nowhere`).toContain(`docs/examples/${file}`);
    }
  });
});

describe('links and commands in README.md and docs/', () => {
  it('relative links point at files that exist', () => {
    for (const page of markdownPages()) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
        const path = resolve(root, dirname(page), target!.split('#')[0]!);
        expect(existsSync(path), `${page} links to ${target}, which is not ${relative(root, path)}`).toBe(
          true,
        );
      }
    }
  });

  it('every `npm run <script>` exists in package.json', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts as Record<string, string>);
    for (const page of markdownPages()) {
      for (const [, script] of read(page).matchAll(/npm run ([\w:-]+)/g)) {
        expect(scripts, `${page} mentions npm run ${script}`).toContain(script);
      }
    }
  });

  it('the README keeps no dated development log (dates belong in docs/history.md)', () => {
    expect(read('README.md')).not.toMatch(/\b20\d\d-\d\d-\d\d\b/);
  });

  it("each `npm install @causeway/…` line in the README names the packages' peer dependencies", () => {
    const packages = new Map<
      string,
      {
        peerDependencies?: Record<string, string>;
        peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      }
    >(
      readdirSync(join(root, 'packages')).map((folder) => {
        const manifest = JSON.parse(read(`packages/${folder}/package.json`));
        return [manifest.name as string, manifest];
      }),
    );
    const installs = [...read('README.md').matchAll(/^npm install (@causeway\/[^#\n]*)/gm)].map((match) =>
      match[1]!.trim().split(/\s+/),
    );
    expect(installs.length).toBeGreaterThan(0);
    for (const words of installs) {
      for (const name of words.filter((word) => word.startsWith('@causeway/'))) {
        const manifest = packages.get(name);
        expect(manifest, `the README installs ${name}, which is no package under packages/`).toBeDefined();
        for (const peer of Object.keys(manifest!.peerDependencies ?? {})) {
          // Type packages only matter to a TypeScript build; npm installs them with the peer anyway.
          if (peer.startsWith('@types/') || manifest!.peerDependenciesMeta?.[peer]?.optional) continue;
          expect(
            words,
            `npm install ${words.join(' ')} lacks ${peer}, a peer dependency of ${name}`,
          ).toContain(peer);
        }
      }
    }
  });

  it("the README's first npm install names every package the quick start imports", () => {
    const imported = [...read('docs/examples/quick-start.ts').matchAll(/from '([^']+)'/g)]
      .map((match) => match[1]!)
      .filter((specifier) => !specifier.startsWith('node:'));
    const first =
      read('README.md')
        .match(/^npm install (@causeway\/[^#\n]*)/m)?.[1]
        ?.trim()
        .split(/\s+/) ?? [];
    expect(first).toEqual(expect.arrayContaining(imported));
  });

  it('docs/shop-api.md is the shop contract, unchanged (when the shared original is at hand)', () => {
    const original = join(root, '../shared/SHOP-API.md');
    if (!existsSync(original)) return; // a clone of the repository has only its own copy
    expect(read('docs/shop-api.md')).toBe(readFileSync(original, 'utf8'));
  });
});

describe('the examples run', () => {
  async function logsOf(example: string): Promise<unknown[][]> {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(`../../../docs/examples/${example}.ts`);
      return log.mock.calls;
    } finally {
      log.mockRestore();
    }
  }

  it("admin: a service's own dashboard and API, mounted in node:http, behind a token", async () => {
    expect(await logsOf('admin-dashboard')).toEqual([['billing', 0, 200]]);
  });

  it('tracing: an append exported as a span over OTLP, its event carrying the trace', async () => {
    expect(await logsOf('tracing')).toEqual([[true], [['orders: causeway.append']]]);
  });

  it("metrics: a service's registry served for Prometheus", async () => {
    expect(await logsOf('metrics')).toEqual([['causeway_outbox_backlog_messages 0']]);
  });

  it('quick start: reads its own write from the projection, and the saga ends compensated', async () => {
    expect(await logsOf('quick-start')).toEqual([[{ totalCents: 42 }, 'compensated']]);
  });

  it('lakehouse: bronze to gold through two models, tests passing, and gold read back from Parquet', async () => {
    const gold = [
      { country: 'DE', revenue_cents: 1000 },
      { country: 'FR', revenue_cents: 2000 },
    ];
    expect(await logsOf('lakehouse')).toEqual([
      ['success', gold],
      [2, gold],
    ]);
  });

  it('data contracts: an event schema matching its port, the breaks of a next version, and quality rules', async () => {
    expect(await logsOf('data-contracts')).toEqual([
      [[]],
      [
        [
          'port orders.OrderPlaced, column totalCents: type narrowed (maximum none to 100000)',
          'port orders.OrderPlaced, column email: column removed',
        ],
      ],
      [
        'fail',
        [
          'quantities are positive: fail (1)',
          'rowCount order_lines: pass (2)',
          'duplicateValues order_id: pass (0)',
        ],
      ],
    ]);
  });

  it('cache: a hundred readers of a missing key cause one load, a late value is refused, and write-back journals 500 writes in fewer commits and flushes them once', async () => {
    expect(await logsOf('cache')).toEqual([
      [1, false],
      [true, 500],
      [500, undefined],
    ]);
  });

  it('sharding: streams on two shards, then a third added online, taking exactly the streams that moved', async () => {
    expect(await logsOf('sharding')).toEqual([
      [1, 1],
      [['s1', 's2', 's3'], true],
    ]);
  });

  it('reverse ETL: every rank pushed once into the outbox, nothing again when nothing changed', async () => {
    expect(await logsOf('reverse-etl')).toEqual([[2, 0, 2]]);
  });

  it('messaging: the event reaches the other service once', async () => {
    expect(await logsOf('messaging')).toEqual([[[{ order_id: 'order-1', cents: 4200 }]]]);
  });

  it('saga: the declined payment compensates the reservation', async () => {
    expect(await logsOf('saga')).toEqual([
      ['compensated', ['reserveInventory: compensated', 'processPayment: failed']],
    ]);
  });

  it('event sourcing: snapshot, temporal read, forgetting, and typed errors', async () => {
    const calls = await logsOf('event-sourcing');
    expect(calls[0]).toEqual([{ holder: 'Ada Lovelace', balanceCents: 1200 }, 500, '[forgotten]']);
    expect(calls.slice(1).map((call) => call[0])).toEqual(['CONCURRENCY_CONFLICT', 'VALIDATION_FAILED']);
  });

  it('projections: an SQL read model, its lag, and a rebuild', async () => {
    expect(await logsOf('projections')).toEqual([[0, [{ sku: 'tea', sold: 5 }]]]);
  });
});
