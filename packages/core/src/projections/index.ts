export * from './inline-projection.ts';
export * from './projection.ts';
export * from './projection-rebuild.ts';
export * from './projection-runner.ts';
export * from './read-model.ts';
export * from './write-buffer.ts';
