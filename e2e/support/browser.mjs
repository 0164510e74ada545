// Debian's Chromium, driven by playwright-core (which never downloads a
// browser of its own), with the flags this closed network needs.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const artifacts = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/// Runs `body`, saving a screenshot of every page in `pages()` if it throws.
export async function withScreenshotsOnFailure(name, pages, body) {
  try {
    await body();
  } catch (error) {
    mkdirSync(artifacts, { recursive: true });
    for (const [index, page] of pages().entries()) {
      const path = join(artifacts, `${name}-${index}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => {});
      console.error(`screenshot saved: ${path}`);
    }
    throw error;
  }
}
