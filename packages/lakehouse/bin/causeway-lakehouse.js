#!/usr/bin/env node
// The `causeway-lakehouse` command. npm links a bin when it installs, and in a clone of the repository that
// is before anything is built: this file exists then, and runs the build's CLI once there is one.
const entry = new URL('../dist/cli/main.js', import.meta.url);
try {
  await import(entry.href);
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(entry.pathname)) throw error;
  process.stderr.write('causeway-lakehouse is not built yet: run `npm run build` in the repository first\n');
  process.exitCode = 2;
}
