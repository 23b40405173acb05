/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core (no
 * browser download). Absent on a laptop, the suite is skipped with a loud notice; under CI=true
 * that is a failure, as for every other real component the tests need.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describeRequiring } from './services.ts';

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export function describeWithChromium(title: string, body: () => void): void {
  const missing = existsSync(chromiumPath)
    ? null
    : `Chromium not found at ${chromiumPath}; install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`;
  describeRequiring(title, missing, body);
}
