export * from './group-committer.ts';
