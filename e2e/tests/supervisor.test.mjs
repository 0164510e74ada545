// The supervisor wallboard in a real browser against the real server: an
// agent is refused, sam logs in on /supervisor/, a scripted customer asks
// for a chat and the Billing queue's waiting count rises live; a scripted
// agent (bob) logs in, goes Ready and accepts, and agents-by-state and
// chats-in-progress follow; the event stream shows the interaction's
// reports, and the filter narrows it to that one interaction. A second
// journey drops the page's connection and checks the banner and that the
// resumed stream has every seq once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure, watchCsp, assertNoCspViolations } from '../support/browser.mjs';
import { openCustomer } from '../support/customer.mjs';
import { openAgent } from '../support/agent.mjs';
import { assertAccessible } from '../support/axe.mjs';

const UI_TIMEOUT = 15_000;
const artifacts = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
let server;
let browser;

before(async () => {
  const built = join(process.env.SWITCHBOARD_DIST ?? resolve(artifacts, '..', '..', 'dist'), 'supervisor', 'index.html');
  if (!existsSync(built)) {
    throw new Error(`no built supervisor page at ${built}: run \`trunk build supervisor.html --release --dist dist/supervisor --public-url /supervisor/\` after the desktop's build`);
  }
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a supervisor watches a chat arrive, get routed and accepted, live', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  await watchCsp(page);
  const pages = [page];
  await withScreenshotsOnFailure('supervisor', () => pages, async () => {
    const response = await page.goto(`${server.url}/supervisor/`);
    // The wallboard is served under the desktop's strict policy (its own start-up script hashed).
    assert.match(response.headers()['content-security-policy'] ?? '', /^default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-/);

    // An agent is not a supervisor: refused, with the reason.
    await page.getByLabel('Supervisor ID').fill('bob');
    await page.getByLabel('Password').fill('demo-bob');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: /not a supervisor/ }).waitFor();
    // A wrong password says so.
    await page.getByLabel('Supervisor ID').fill('sam');
    await page.getByLabel('Password').fill('wrong');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: 'Unknown id or wrong password.' }).waitFor();
    await assertAccessible(page, 'the wallboard login with its error');

    await page.getByLabel('Password').fill('demo-sam');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('supervisor-name').filter({ hasText: 'Sam Rivera' }).waitFor();
    const queue = (name) => page.locator(`[data-testid="queue-row"][data-queue="${name}"]`);
    const waiting = queue('Billing').getByTestId('queue-waiting');
    await waiting.filter({ hasText: /^0$/ }).waitFor();
    assert.equal(await queue('Billing').getByTestId('queue-longest').innerText(), '—');
    const count = (state) => page.locator(`[data-testid="state-count"][data-state="${state}"] .count`);
    assert.equal(await count('logged-out').innerText(), '4', 'four demo agents, none logged in');
    assert.equal(await page.locator('[data-testid="agent-row"][data-agent="sam"]').count(), 0, 'supervisors are not listed');
    await assertAccessible(page, 'the wallboard');

    // A customer asks for a chat with nobody ready: Billing's waiting count rises.
    const customer = await openCustomer(browser, server.url);
    pages.push(customer.page);
    await customer.request('c1', 'requestChat', { service: 'chat-delay', userId: 'jamesbond' });
    await waiting.filter({ hasText: /^1$/ }).waitFor();
    await queue('Billing').getByTestId('queue-longest').filter({ hasText: /^\d+:\d\d$/ }).waitFor();

    // bob logs in (Not Ready), then goes Ready.
    const bob = await openAgent(browser, server.url);
    pages.push(bob.page);
    await bob.logIn('bob', 'demo-bob');
    const bobRow = page.locator('[data-testid="agent-row"][data-agent="bob"]');
    await page.locator(`[data-testid="agent-row"][data-agent="bob"][data-state="not-ready"]`).waitFor();
    assert.equal(await count('logged-out').innerText(), '3');
    await bob.ready();
    await page.locator(`[data-testid="agent-row"][data-agent="bob"][data-state="ready"]`).waitFor();
    assert.equal(await count('ready').innerText(), '1');

    // The customer is told, confirms and starts; bob gets the offer and accepts.
    await customer.waitFor('an agent notification', (frame) => frame.event === 'notification');
    await customer.request('c2', 'connect');
    await customer.request('c3', 'startChat', { firstName: 'James', lastName: 'Bond', subject: 'New gadget' });
    const target = await bob.acceptOffer();
    const interaction = target.split('.')[1];
    const chat = page.locator(`[data-testid="chat-row"][data-interaction="${interaction}"]`);
    await chat.getByTestId('chat-phase').filter({ hasText: 'Active' }).waitFor();
    assert.equal(await chat.getByTestId('chat-agent').innerText(), 'bob');
    assert.match(await chat.innerText(), /James Bond — New gadget/);
    await bobRow.getByTestId('agent-chats').filter({ hasText: '1/2' }).waitFor();
    await waiting.filter({ hasText: /^0$/ }).waitFor();

    // The stream has the interaction's milestones and bob's.
    const item = (kind, id) => page.locator(`[data-testid="stream-item"][data-kind="${kind}"][data-interaction="${id}"]`);
    await item('interaction.created', interaction).waitFor();
    await item('interaction.routed', interaction).waitFor();
    await item('interaction.accepted', interaction).waitFor();
    await page.locator('[data-testid="stream-item"][data-kind="agent.state"]').first().waitFor();
    assert.equal(await page.getByTestId('stream').getAttribute('aria-live'), 'polite');
    const items = page.getByTestId('stream-item');
    const before = await items.count();

    // A click on the chat's id filters the stream to that interaction.
    await chat.getByTestId('chat-filter').click();
    assert.equal(await page.getByTestId('stream-filter').inputValue(), interaction);
    await page.locator('[data-testid="stream-item"][data-kind="agent.state"]').first().waitFor({ state: 'detached' });
    const filtered = await items.evaluateAll((nodes) => nodes.map((node) => node.dataset.interaction));
    assert.ok(filtered.length >= 3 && filtered.length < before, `narrowed: ${filtered.length} of ${before}`);
    assert.ok(filtered.every((id) => id === interaction), 'only the chosen interaction');
    // Keyboard: a filter that matches nothing, then Clear by keyboard.
    await page.getByTestId('stream-filter').fill('no-such-interaction');
    await items.first().waitFor({ state: 'detached' });
    await page.getByTestId('stream-clear').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByTestId('stream-filter').inputValue(), '');
    await page.locator('[data-testid="stream-item"][data-kind="agent.state"]').first().waitFor();

    // The wallboard fits 1280×720 without a horizontal scrollbar.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scroll at 1280 px (${overflow})`);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'supervisor-wallboard.png') });
    // And narrow (a phone): one column, still no page-wide horizontal scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    const narrow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(narrow <= 0, `no horizontal scroll at 390 px (${narrow})`);
    await page.screenshot({ path: join(artifacts, 'supervisor-narrow.png'), fullPage: true });

    // bob's desktop goes away (his session waits for it to come back): he shows as
    // disconnected, not Ready, and Ready no longer counts him.
    await bob.page.evaluate(() => window.__agent.socket.close());
    await page.locator('[data-testid="agent-row"][data-agent="bob"][data-state="disconnected"]').waitFor();
    assert.equal(await bobRow.getByTestId('agent-state').innerText(), 'Disconnected (Ready)');
    assert.equal(await count('disconnected').innerText(), '1');
    assert.equal(await count('ready').innerText(), '0');

    assertNoCspViolations(page);
    await bob.close();
    await customer.close();
  });
  await context.close();
});

test('after a dropped connection the page reconnects and resumes the stream: nothing missed, nothing twice', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  // Track the page's sockets, and let the test refuse new ones for a while.
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.__blockSockets = false;
    window.WebSocket = class extends Native {
      constructor(...args) {
        if (window.__blockSockets) throw new DOMException('blocked by the test', 'SecurityError');
        super(...args);
        window.__sockets.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const pages = [page];
  await withScreenshotsOnFailure('supervisor-reconnect', () => pages, async () => {
    await page.goto(`${server.url}/supervisor/`);
    await page.getByLabel('Supervisor ID').fill('sam');
    await page.getByLabel('Password').fill('demo-sam');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('supervisor-name').waitFor();

    const bob = await openAgent(browser, server.url);
    pages.push(bob.page);
    await bob.logIn('bob', 'demo-bob');
    await bob.ready();
    await page.locator('[data-testid="agent-row"][data-agent="bob"][data-state="ready"]').waitFor();
    const seqs = () => page.getByTestId('stream-item').evaluateAll((nodes) => nodes.map((node) => Number(node.dataset.seq)));
    const before = await seqs();
    assert.ok(before.length > 0);

    // The connection drops and cannot come back for now: the banner shows.
    await page.evaluate(() => {
      window.__blockSockets = true;
      for (const socket of window.__sockets) socket.close();
    });
    await page.getByTestId('connection-banner').waitFor();

    // Meanwhile a chat arrives and is routed to bob.
    const customer = await openCustomer(browser, server.url);
    pages.push(customer.page);
    await customer.request('c1', 'requestChat', { service: 'chat-delay', userId: 'eve' });
    await customer.waitFor('an agent notification', (frame) => frame.event === 'notification');
    await customer.request('c2', 'connect');
    await customer.request('c3', 'startChat', { firstName: 'Eve', subject: 'Offline' });
    const offer = await bob.waitFor('an offer', (frame) => frame.event === 'interaction.offered');
    const interaction = offer.target.split('.')[1];
    assert.equal(await page.locator(`[data-testid="stream-item"][data-interaction="${interaction}"]`).count(), 0);

    // The network is back: the page logs in again and resumes after the last seq it showed.
    await page.evaluate(() => {
      window.__blockSockets = false;
    });
    await page.getByTestId('connection-banner').waitFor({ state: 'detached' });
    await page.locator(`[data-testid="stream-item"][data-kind="interaction.routed"][data-interaction="${interaction}"]`).waitFor();
    await page.locator(`[data-testid="chat-row"][data-interaction="${interaction}"]`).getByTestId('chat-phase').filter({ hasText: 'Offered' }).waitFor();
    const after = await seqs();
    const expected = Array.from({ length: after[0] }, (_, index) => after[0] - index);
    assert.deepEqual(after, expected, 'every seq from the newest down to 1, once each');
    assert.ok(after.length > before.length);

    await bob.close();
    await customer.close();
  });
  await context.close();
});
