// The walking skeleton's journey in a real browser against the real server:
// an agent logs in (wrong password, success, takeover from a second tab).

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure, watchCsp, assertNoCspViolations } from '../support/browser.mjs';
import { assertAccessible } from '../support/axe.mjs';

const UI_TIMEOUT = 15_000;
let server;
let browser;
const pages = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

// Every page of every journey keeps to the desktop's strict policy.
afterEach(() => {
  for (const page of pages) assertNoCspViolations(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openDesktop() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  pages.push(page);
  await watchCsp(page);
  const response = await page.goto(server.url);
  const csp = response.headers()['content-security-policy'] ?? '';
  assert.match(csp, /^default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-/, 'the page is served with its CSP');
  await page.getByTestId('login-form').waitFor();
  return page;
}

async function logIn(page, agent, password) {
  await page.getByTestId('login-agent').fill(agent);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

test('a wrong password is refused with a clear message', async () => {
  const page = await openDesktop();
  await withScreenshotsOnFailure('wrong-password', () => [page], async () => {
    await assertAccessible(page, 'the login page');
    await logIn(page, 'alice', 'not-her-password');
    const error = page.getByTestId('login-error');
    await error.filter({ hasText: 'Unknown agent id or wrong password.' }).waitFor();
    await assertAccessible(page, 'the login page with its error');
    assert.equal(await page.getByTestId('session-id').count(), 0, 'no session is shown');
    assert.equal(await page.getByTestId('login-submit').isEnabled(), true, 'the agent can try again');
  });
});

test('an agent logs in, sees the session and goes Ready', async () => {
  const page = await openDesktop();
  await withScreenshotsOnFailure('login', () => [page], async () => {
    await logIn(page, 'alice', 'demo-alice');
    const session = page.getByTestId('session-id');
    await session.waitFor();
    assert.match(await session.innerText(), /^S[0-9a-f]{32}$/);
    assert.equal(await page.getByTestId('agent-name').innerText(), 'Alice Martin');
    const state = page.getByTestId('agent-state');
    assert.equal(await state.getAttribute('data-state'), 'notReady');
    await page.getByTestId('set-ready').click();
    await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
  });
});

test('a second tab asks before taking the session over, and the first tab is told', async () => {
  const first = await openDesktop();
  const second = await openDesktop();
  await withScreenshotsOnFailure('takeover', () => [first, second], async () => {
    await logIn(first, 'bob', 'demo-bob');
    await first.getByTestId('session-id').waitFor();
    const firstSession = await first.getByTestId('session-id').innerText();

    // Cancelling leaves everything as it was.
    await logIn(second, 'bob', 'demo-bob');
    await second.getByTestId('takeover-dialog').waitFor();
    assert.match(await second.getByTestId('takeover-message').innerText(), /already has a session open/);
    await second.getByTestId('takeover-cancel').click();
    await second.getByTestId('takeover-dialog').waitFor({ state: 'detached' });
    assert.equal(await first.getByTestId('session-id').innerText(), firstSession);

    // Confirming takes it over.
    await logIn(second, 'bob', 'demo-bob');
    await second.getByTestId('takeover-confirm').click();
    await second.getByTestId('session-id').waitFor();
    assert.notEqual(await second.getByTestId('session-id').innerText(), firstSession);

    await first.getByTestId('login-form').waitFor();
    await first.getByText('Your session was opened elsewhere.').waitFor();
  });
});
