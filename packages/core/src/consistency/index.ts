export * from './consistency-token.ts';
