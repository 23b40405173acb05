import { configDefaults, defineConfig } from 'vitest/config';

const everyTest = ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'];
/**
 * The suites that SIGKILL real processes at the worst moments and check the guarantees afterwards
 * (no loss, no duplicate effect, order, every saga terminal): minutes each, run as their own
 * stage, `npm run test:kill`, one file at a time (each loads the machine as it means to), which CI
 * runs after `npm test`.
 */
const killSuites = ['crash', 'chaos', 'kill'].flatMap((word) =>
  ['packages', 'apps'].map((root) => `${root}/*/src/**/*${word}*.e2e.test.ts`),
);

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
    projects: [
      {
        extends: true,
        test: { name: 'tests', include: everyTest, exclude: [...configDefaults.exclude, ...killSuites] },
      },
      {
        extends: true,
        test: { name: 'kill', include: killSuites, fileParallelism: false, typecheck: { enabled: false } },
      },
    ],
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
