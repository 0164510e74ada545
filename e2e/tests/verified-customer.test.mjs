// The offline launcher (issue 16, item 3) and verified identity and history
// (item 6) in a real browser against
// the real server: the demo shop logs its customer in and passes a signed
// identity to the loader (`Switchboard.identify`, as a page that logs in
// after loading would); the customer's first chat is answered by a scripted
// agent; on the second chat the agent desktop shows the customer as verified
// and lists the first chat with its transcript. A customer whose page signs
// with the wrong secret is shown as not verified and has no history button.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, demoConfigWith } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure } from '../support/browser.mjs';
import { openAgent } from '../support/agent.mjs';
import { assertAccessible } from '../support/axe.mjs';

const UI_TIMEOUT = 15_000;
const SECRET = 'e2e-shop-secret-0123456789';
const artifacts = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
let server;
let browser;
const pages = [];

before(async () => {
  const built = join(process.env.SWITCHBOARD_DIST ?? resolve(artifacts, '..', '..', 'dist'), 'widget', 'index.html');
  if (!existsSync(built)) throw new Error(`no built widget at ${built}: build the apps first (./x build_app)`);
  // The demo's chat-delay service verifies identities with SECRET.
  const configText = demoConfigWith().replace(/^name = "chat-delay"$/m, `name = "chat-delay"\nidentity_secret = "${SECRET}"`);
  assert.match(configText, /identity_secret/);
  server = await startServer({ configText });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/// What the shop's server writes for its logged-in customer.
function signed(userId, name, email, secret = SECRET) {
  const signature = createHmac('sha256', secret).update(`${userId}\n${name}\n${email}`).digest('hex');
  return { userId, name, email, signature };
}

/// A customer on the demo shop who logged in as `identity` and calls
/// themselves `name` in the pre-chat form, asking for a chat.
async function customerWaiting(identity, name, subject) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const shop = await context.newPage();
  shop.setDefaultTimeout(UI_TIMEOUT);
  pages.push(shop);
  await shop.goto(`${server.url}/demo/shop.html`);
  await shop.locator('[data-switchboard="launcher"]').waitFor();
  await shop.evaluate((who) => window.Switchboard.identify(who), identity);
  await shop.locator('[data-switchboard="launcher"]').click();
  const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
  await widget.getByTestId('prechat-name').fill(name);
  await widget.getByTestId('prechat-subject').fill(subject);
  await widget.getByTestId('prechat-submit').click();
  return { context, widget };
}

/// The agent desktop, logged in and Ready.
async function desktop(agent, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  pages.push(page);
  await page.goto(server.url);
  await page.getByTestId('login-agent').fill(agent);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('session-id').waitFor();
  await page.getByTestId('set-ready').click();
  await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
  return { page, context };
}

test('with no agent logged in, the launcher shows the offline state', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const shop = await context.newPage();
  shop.setDefaultTimeout(UI_TIMEOUT);
  pages.push(shop);
  await withScreenshotsOnFailure('offline-launcher', () => pages, async () => {
    await shop.goto(`${server.url}/demo/shop.html`);
    const launcher = shop.locator('[data-switchboard="launcher"][data-offline="noAgents"]');
    await launcher.waitFor();
    assert.equal(await launcher.innerText(), 'Leave a message');
    assert.equal(await launcher.getAttribute('aria-label'), 'Leave a message');
    await assertAccessible(shop, 'the demo shop with the offline launcher');
  });
  await context.close();
});

test('a verified customer is shown as such, with their earlier chat and its transcript', async () => {
  const ann = signed('customer-42', 'Ann Example', 'ann@example.com');
  const bob = await openAgent(browser, server.url);
  pages.push(bob.page);
  await withScreenshotsOnFailure('verified-history', () => pages, async () => {
    // The first chat, answered by a scripted agent.
    await bob.logIn('bob', 'demo-bob');
    await bob.ready();
    const first = await customerWaiting(ann, 'Ann', 'My invoice');
    await first.widget.getByTestId('confirm').click();
    const chat = await bob.acceptOffer();
    const messages = first.widget.getByTestId('message');
    await messages.filter({ hasText: 'joined the chat.' }).waitFor();
    await first.widget.getByTestId('composer').fill('My invoice is wrong');
    await first.widget.getByTestId('send').click();
    await bob.waitFor('the customer line', (frame) => frame.event === 'chat.message' && frame.data.text === 'My invoice is wrong');
    await bob.say(chat, 'Fixed it, sorry');
    await messages.filter({ hasText: 'Fixed it, sorry' }).waitFor();
    await first.widget.getByTestId('leave').click();
    await first.widget.getByTestId('ended-reason').waitFor();
    await bob.notReady('lunch');
    await first.context.close();

    // Ann comes back (a new tab: a new chat); alice's desktop takes it.
    const alice = await desktop('alice', 'demo-alice');
    const second = await customerWaiting(ann, 'Ann', 'Still my invoice');
    await second.widget.getByTestId('confirm').click();
    await alice.page.getByTestId('offer-accept').click();
    const panel = alice.page.getByTestId('chat-panel');
    await panel.waitFor();
    const badge = panel.getByTestId('identity-badge');
    await badge.filter({ hasText: 'Verified customer · customer-42 · ann@example.com' }).waitFor();
    assert.equal(await badge.getAttribute('data-verified'), 'true');
    await panel.getByTestId('show-history').click();
    await panel.getByTestId('history-status').filter({ hasText: '1 earlier chat.' }).waitFor();
    const past = panel.getByTestId('past-chat');
    assert.equal(await past.count(), 1);
    await past.locator('summary').click();
    const lines = past.getByTestId('past-lines');
    await lines.filter({ hasText: 'Ann: My invoice is wrong' }).waitFor();
    await lines.filter({ hasText: 'Bob Okafor: Fixed it, sorry' }).waitFor();
    await assertAccessible(alice.page, 'the desktop: a verified customer with their earlier chat');

    // Mallory's page signs Ann's identity with the wrong secret: her chat
    // goes on, shown as not verified, with no history to open.
    const mallory = await customerWaiting(signed('customer-42', 'Ann Example', 'ann@example.com', 'not-the-shop-secret'), 'Mallory', 'Refund please');
    await mallory.widget.getByTestId('confirm').click();
    await alice.page.getByTestId('offer-accept').click();
    const unverified = panel.getByTestId('identity-badge').filter({ hasText: "Not verified: the page's signature did not match" });
    await unverified.waitFor();
    assert.equal(await unverified.getAttribute('data-verified'), 'false');
    assert.equal(await panel.getByTestId('show-history').isVisible(), false, 'no history for an unverified claim');
    await mallory.context.close();
    await second.context.close();
    await alice.context.close();
  });
  await bob.close();
});
