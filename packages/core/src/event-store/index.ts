export * from './event-codec.ts';
export * from './event-store.ts';
export * from './group-committer.ts';
