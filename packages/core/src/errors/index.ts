export * from './causeway-error.ts';
