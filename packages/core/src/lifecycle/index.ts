export * from './wakeable-sleep.ts';
