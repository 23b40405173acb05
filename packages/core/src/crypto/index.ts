export * from './personal-data-cipher.ts';
