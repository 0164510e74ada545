// The customer's whole journey (issue 16) in a real browser against the real
// server: the demo shop's widget with short inactivity timers. A customer
// who stops answering the agent reads the warning in the widget, then the
// chat closes "for inactivity" and the agent is told why; a customer who
// ends a chat rates it, and the wallboard shows the average today.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, demoConfigWith } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure } from '../support/browser.mjs';
import { openAgent } from '../support/agent.mjs';
import { assertAccessible } from '../support/axe.mjs';

const UI_TIMEOUT = 15_000;
const artifacts = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
let server;
let browser;
const pages = [];

before(async () => {
  const built = join(process.env.SWITCHBOARD_DIST ?? resolve(artifacts, '..', '..', 'dist'), 'widget', 'index.html');
  if (!existsSync(built)) throw new Error(`no built widget at ${built}: build the apps first (./x build_app)`);
  // chat-delay warns a silent customer after 2 s and closes at 4 s.
  server = await startServer({ configText: demoConfigWith({ settings: { idle_warn_secs: 2, idle_close_secs: 4 } }) });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/// Opens the demo shop, asks for a chat and waits in the queue.
async function customerWaiting(context, subject) {
  const shop = await context.newPage();
  shop.setDefaultTimeout(UI_TIMEOUT);
  pages.push(shop);
  await shop.goto(`${server.url}/demo/shop.html`);
  await shop.locator('[data-switchboard="launcher"]').click();
  const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
  await widget.getByTestId('prechat-name').fill('James Bond');
  await widget.getByTestId('prechat-subject').fill(subject);
  await widget.getByTestId('prechat-submit').click();
  await widget.getByTestId('queue-status').waitFor();
  return { shop, widget, frame: () => shop.frames().find((candidate) => candidate.url().includes('/widget/')) };
}

test('a customer who stops answering is warned, then the chat closes for inactivity', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const agent = await openAgent(browser, server.url);
  pages.push(agent.page);
  // The agent's page is closed whatever happens: a Ready agent left over would take the next test's chat.
  const journey = withScreenshotsOnFailure('inactivity', () => pages, async () => {
    const { widget, frame } = await customerWaiting(context, 'My order');
    await agent.logIn('alice', 'demo-alice');
    await agent.ready();
    await widget.getByTestId('confirm').click();
    const chat = await agent.acceptOffer();
    const messages = widget.getByTestId('message');
    await messages.filter({ hasText: 'Alice Martin joined the chat.' }).waitFor();
    await agent.say(chat, 'How can I help?');
    await messages.filter({ hasText: 'How can I help?' }).waitFor();

    // Silence: the warning appears in the widget…
    await messages.filter({ hasText: 'Are you still there? This chat closes in 2 seconds unless you reply.' }).waitFor();
    await assertAccessible(frame(), 'the widget: warned for inactivity');
    // …then the chat is over for the customer, saying why.
    await widget.getByTestId('ended-reason').filter({ hasText: 'The chat was closed because there was no reply.' }).waitFor();
    await messages.filter({ hasText: 'The chat was closed because the customer did not reply for 4 seconds.' }).waitFor();
    assert.equal(await widget.getByTestId('composer').isVisible(), false, 'nothing more can be sent');

    // The agent read the same lines and was told the customer left.
    await agent.waitFor('the close line', (frame) => frame.event === 'chat.message' && /did not reply for 4 seconds/.test(frame.data.text));
    await agent.waitFor('chat.left', (frame) => frame.event === 'chat.left' && frame.data.party.kind === 'customer');
  });
  try {
    await journey;
  } finally {
    await agent.close();
    await context.close();
  }
});

test('after the chat the customer rates it; the wallboard shows the average today', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const agent = await openAgent(browser, server.url);
  pages.push(agent.page);
  const board = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  board.setDefaultTimeout(UI_TIMEOUT);
  pages.push(board);
  // The agent's page is closed whatever happens: a Ready agent left over would take the next test's chat.
  const journey = withScreenshotsOnFailure('rating', () => pages, async () => {
    const { widget, frame } = await customerWaiting(context, 'A question');
    await agent.logIn('bob', 'demo-bob');
    await agent.ready();
    await widget.getByTestId('confirm').click();
    await agent.acceptOffer();
    const messages = widget.getByTestId('message');
    await messages.filter({ hasText: 'joined the chat.' }).waitFor();
    await widget.getByTestId('composer').fill('Thanks, that was all');
    await widget.getByTestId('send').click();
    await agent.waitFor('the customer line', (frame) => frame.event === 'chat.message' && frame.data.text === 'Thanks, that was all');

    // The customer ends the chat: the rating form shows.
    await widget.getByTestId('leave').click();
    await widget.getByTestId('ended-reason').filter({ hasText: 'You left the chat.' }).waitFor();
    await widget.getByTestId('survey').waitFor();
    await assertAccessible(frame(), 'the widget: the rating form');
    await widget.getByTestId('rate-comment').fill('Quick and kind');
    await widget.getByTestId('rate').filter({ hasText: '5' }).click();
    await widget.getByTestId('rate-thanks').filter({ hasText: 'Thank you for your rating.' }).waitFor();
    assert.equal(await widget.getByTestId('survey').isVisible(), false, 'rated once');
    await agent.waitFor('chat.left', (frame) => frame.event === 'chat.left' && frame.data.party.kind === 'customer');

    // The wallboard: the average and count today, for the queue and the agent.
    await board.goto(`${server.url}/supervisor/`);
    await board.getByLabel('Supervisor ID').fill('sam');
    await board.getByLabel('Password').fill('demo-sam');
    await board.getByTestId('login-submit').click();
    const billing = board.locator('[data-testid="figures-row"][data-queue="Billing"]');
    await billing.getByTestId('figure-rating').filter({ hasText: '5.0 (1)' }).waitFor();
    await board.locator('[data-testid="agent-figures-row"][data-agent="bob"]').getByTestId('agent-rating').filter({ hasText: '5.0 (1)' }).waitFor();
  });
  try {
    await journey;
  } finally {
    await agent.close();
    await context.close();
  }
});
