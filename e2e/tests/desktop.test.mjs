// The agent's day in one journey, against the real server: alice logs in,
// goes Ready, a scripted customer asks for a chat (chat-delay: notification,
// connect, startChat), alice accepts the offer, they exchange messages both
// ways, and alice picks a disposition and marks the chat done.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure, watchCsp, assertNoCspViolations } from '../support/browser.mjs';
import { openCustomer } from '../support/customer.mjs';
import { assertAccessible } from '../support/axe.mjs';

const UI_TIMEOUT = 15_000;
const artifacts = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an agent accepts a chat, talks with the customer and marks it done', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const pages = [page];
  await watchCsp(page);
  await withScreenshotsOnFailure('desktop', () => pages, async () => {
    await page.goto(server.url);
    await page.getByTestId('login-agent').fill('alice');
    await page.getByTestId('login-password').fill('demo-alice');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('session-id').waitFor();
    await page.getByTestId('set-ready').click();
    await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();

    // The customer asks, is told an agent is free, confirms and starts.
    const customer = await openCustomer(browser, server.url);
    pages.push(customer.page);
    await customer.request('c1', 'requestChat', { service: 'chat-delay', userId: 'jamesbond', appdata: { language: 'French' } });
    await customer.waitFor('an agent notification', (frame) => frame.event === 'notification');
    await customer.request('c2', 'connect');
    await customer.request('c3', 'startChat', { firstName: 'James', lastName: 'Bond', subject: 'New gadget' });

    // The offer: who, where, what, and a countdown.
    const offer = page.getByTestId('offer');
    await offer.waitFor();
    assert.equal(await page.getByTestId('offer-customer').innerText(), 'James Bond');
    assert.equal(await page.getByTestId('offer-queue').innerText(), 'Billing');
    assert.equal(await page.getByTestId('offer-subject').innerText(), 'New gadget');
    assert.match(await page.getByTestId('offer-details').innerText(), /French/);
    assert.match(await page.getByTestId('offer-countdown').innerText(), /^Expires in \d+ s$/);
    await assertAccessible(page, 'the desktop with an offer');
    await page.getByTestId('offer-accept').click();

    // The chat opens with the system's "joined" line.
    await page.getByTestId('chat-panel').waitFor();
    assert.equal(await page.getByTestId('chat-customer').innerText(), 'James Bond');
    await page.locator('[data-author="system"]', { hasText: 'Alice Martin joined the chat.' }).waitFor();
    await customer.waitFor('the joined message', (frame) => frame.event === 'chat.message' && /joined the chat/.test(frame.data.text));

    // Customer → agent, with the typing indicator first.
    await customer.request('c4', 'typing', { typing: true });
    await page.getByTestId('customer-typing').filter({ hasText: 'James Bond is typing…' }).waitFor();
    await customer.request('c5', 'sendMessage', { clientId: 'w-1', text: 'My <b>invoice</b> is wrong' });
    const theirs = page.locator('[data-author="customer"] [data-testid="line-text"]');
    await theirs.filter({ hasText: 'My <b>invoice</b> is wrong' }).waitFor();
    assert.equal(await page.locator('.transcript b').count(), 0, 'messages are text, never HTML');

    // Agent → customer: Enter sends, and the line is marked sent.
    const composer = page.getByTestId('composer-text');
    await composer.fill('Let me check that for you.');
    await composer.press('Enter');
    await page.locator('[data-author="me"]', { hasText: 'Let me check that for you.' }).locator('[data-state="Sent"]').waitFor();
    await customer.waitFor('the agent message', (frame) => frame.event === 'chat.message' && frame.data.text === 'Let me check that for you.');
    assert.equal(await composer.inputValue(), '');
    await assertAccessible(page, 'the desktop with a chat open');

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'desktop-chat.png') });

    // Finish: a disposition is required in the demo configuration.
    assert.equal(await page.getByTestId('mark-done').isDisabled(), true);
    await page.getByTestId('disposition').selectOption('resolved');
    await page.getByTestId('mark-done').click();
    await page.getByTestId('chat-panel').waitFor({ state: 'detached' });
    await page.getByTestId('no-chats').waitFor();
    await customer.waitFor('the agent leaving', (frame) => frame.event === 'chat.left');
    await customer.close();
    assertNoCspViolations(page);
  });
  await context.close();
});

test('with auto-answer configured, an offered chat opens by itself and is announced', async () => {
  // The demo configuration with auto-answer on for every agent (the global default).
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-auto-answer-'));
  const config = join(dir, 'auto-answer.toml');
  const demo = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'demo.toml'), 'utf8');
  writeFileSync(config, demo.replace(/^disposition_required = true$/m, 'disposition_required = true\nauto_answer = true'));
  const autoServer = await startServer({ config });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const pages = [page];
  await watchCsp(page);
  // Every text the screen-reader live region says, in order (it changes faster than polling sees).
  await page.addInitScript(() => {
    window.announced = [];
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="announcer"]')?.textContent ?? '';
      if (text && window.announced.at(-1) !== text) window.announced.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  try {
    await withScreenshotsOnFailure('auto-answer', () => pages, async () => {
      await page.goto(autoServer.url);
      await page.getByTestId('login-agent').fill('bob');
      await page.getByTestId('login-password').fill('demo-bob');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('auto-answer').waitFor({ state: 'visible' });
      await page.getByText('Offered chats open here by themselves (auto-answer).').waitFor();
      await page.getByTestId('set-ready').click();
      await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();

      const customer = await openCustomer(browser, autoServer.url);
      pages.push(customer.page);
      await customer.request('c1', 'requestChat', { service: 'chat-delay', userId: 'moneypenny', appdata: {} });
      await customer.waitFor('an agent notification', (frame) => frame.event === 'notification');
      await customer.request('c2', 'connect');
      await customer.request('c3', 'startChat', { firstName: 'Eve', lastName: 'Moneypenny', subject: 'Refund' });

      // Nobody clicks Accept: the chat opens and the agent is told why.
      await page.getByTestId('chat-panel').waitFor();
      assert.equal(await page.getByTestId('chat-customer').innerText(), 'Eve Moneypenny');
      await page.waitForFunction(() => window.announced.includes('Chat from Eve Moneypenny accepted automatically.'));
      await customer.waitFor('the joined message', (frame) => frame.event === 'chat.message' && /joined the chat/.test(frame.data.text));
      assert.equal(await page.getByTestId('offer').count(), 0, 'no offer is left waiting');
      await customer.close();
      assertNoCspViolations(page);
    });
  } finally {
    await context.close();
    await autoServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
