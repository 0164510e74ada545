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

const cspViolations = new WeakMap();

/// Records every Content-Security-Policy violation on `page`: the page's
/// `securitypolicyviolation` events and Chromium's console errors about the
/// policy. Call before `page.goto`; check with `assertNoCspViolations`.
export async function watchCsp(page) {
  const violations = [];
  cspViolations.set(page, violations);
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  page.on('pageerror', (error) => {
    if (/Content Security Policy/i.test(String(error))) violations.push(String(error));
  });
  // Init scripts are injected by the browser itself, so the policy does not block this one.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`Content Security Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
}

/// Fails if `watchCsp` saw any violation on `page`.
export function assertNoCspViolations(page) {
  const violations = cspViolations.get(page);
  if (!violations) throw new Error('watchCsp(page) was not called');
  if (violations.length > 0) {
    throw new Error(`the page broke its Content-Security-Policy:\n${violations.join('\n')}`);
  }
}
