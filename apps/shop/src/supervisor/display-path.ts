import { isAbsolute, relative } from 'node:path';

/** A path as a person would type it here: relative to the working directory when inside it. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const inside = relative(cwd, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
