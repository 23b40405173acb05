export * from './aggregate-loader.ts';
export * from './command-handler.ts';
export * from './decider.ts';
