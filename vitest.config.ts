import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the workspace packages from their `.ts` sources (no build first): the
  // `@causeway/source` export condition points each package at its `src/index.ts`.
  // The rest are Vite's own defaults for server code.
  ssr: {
    // Not `module`: packages such as OpenTelemetry's API point it at builds whose imports lack
    // file extensions, which Node (running the externalized dependencies) cannot load.
    resolve: { conditions: ['@causeway/source', 'node', 'development|production'] },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    globalSetup: ['./scripts/build-before-tests.ts'],
    // Integration suites share one PostgreSQL server; each file uses its own database.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // The type tests (*.test-d.ts): each @ts-expect-error must hold, or the run fails.
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
