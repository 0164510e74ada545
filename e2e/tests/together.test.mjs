// Agents working together, every party a real browser context: a customer
// on the demo shop, alice and bob on the desktop, sam on the wallboard.
// Alice consults bob (a marked consult offer, accepted), they exchange
// private lines the customer never sees, alice conferences bob in (the
// customer sees him join), alice completes the transfer (the chat is bob's),
// sam monitors the chat and whispers to bob (the customer sees nothing),
// sam barges in (the customer sees it), bob marks the chat done, and the
// customer's transcript download holds no private line.
//
// Sam monitors, whispers, barges and stops from the wallboard's monitor
// panel, by mouse and keyboard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure } from '../support/browser.mjs';
import { assertAccessible } from '../support/axe.mjs';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI_TIMEOUT = 15_000;
const artifacts = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const SECRET = 'He was billed twice, refund ref 4242';
const SAM_SAYS = 'Sam here, the supervisor: your refund is on its way.';
const REPLY = 'Refund approved on my side';
const NOTE = 'VIP customer since 2019';
const WHISPER = 'Offer him the voucher';
let server;
let browser;
const pages = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  pages.push(page);
  return page;
}

async function openDesktop(agent) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await newPage(context);
  await page.goto(server.url);
  await page.getByTestId('login-agent').fill(agent);
  await page.getByTestId('login-password').fill(`demo-${agent}`);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('session-id').waitFor();
  return { context, page };
}

test('alice consults bob, conferences, completes the transfer; sam monitors, whispers and barges', async () => {
  const alice = await openDesktop('alice');
  const bob = await openDesktop('bob');
  const samContext = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const sam = await newPage(samContext);
  const customerContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const shop = await newPage(customerContext);

  await withScreenshotsOnFailure('together', () => pages, async () => {
    // The wallboard, logged in through its form.
    await sam.goto(`${server.url}/supervisor/`);
    await sam.getByLabel('Supervisor ID').fill('sam');
    await sam.getByLabel('Password').fill('demo-sam');
    await sam.getByTestId('login-submit').click();

    // Alice is Ready; the customer starts a chat from the shop; alice accepts.
    await alice.page.getByTestId('set-ready').click();
    await alice.page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
    await shop.goto(`${server.url}/demo/shop.html`);
    await shop.locator('[data-switchboard="launcher"]').click();
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    await widget.getByTestId('prechat-name').fill('James Bond');
    await widget.getByTestId('prechat-email').fill('j.b@example.com');
    await widget.getByTestId('prechat-subject').fill('Double charge');
    await widget.getByTestId('prechat-submit').click();
    const confirm = widget.getByTestId('confirm');
    await confirm.waitFor();
    await confirm.click();
    await alice.page.getByTestId('offer-accept').click();
    await alice.page.getByTestId('chat-panel').waitFor();
    const messages = widget.getByTestId('message');
    await messages.filter({ hasText: 'Alice Martin joined the chat.' }).waitFor();
    await widget.getByTestId('composer').fill('I was charged twice.');
    await widget.getByTestId('send').click();
    await alice.page.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'I was charged twice.' }).waitFor();

    // Alice consults bob with the transfer form's field: bob gets a consult offer.
    await bob.page.getByTestId('set-ready').click();
    await bob.page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
    await alice.page.getByTestId('transfer-target').fill('bob');
    await alice.page.getByTestId('consult-submit').click();
    await alice.page.getByTestId('consult-status').filter({ hasText: 'Waiting for bob' }).waitFor();
    const offer = bob.page.locator('[data-testid="offer"][data-consult="true"]');
    await offer.waitFor();
    assert.match(await bob.page.getByTestId('offer-consult-from').innerText(), /Alice Martin asks you to consult/);
    await assertAccessible(bob.page, 'the desktop with a consult offer');
    await bob.page.getByTestId('offer-accept').click();
    await bob.page.getByTestId('chat-panel').waitFor();
    await bob.page.getByTestId('consult-status').filter({ hasText: 'You are consulting' }).waitFor();
    assert.equal(await bob.page.getByTestId('composer').isVisible(), false, 'a consulting colleague has no customer composer');
    await bob.page.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'I was charged twice.' }).waitFor();

    // The private thread, both ways, marked on both desktops.
    await alice.page.getByTestId('consult-status').filter({ hasText: 'Consulting with Bob Okafor' }).waitFor();
    await alice.page.getByTestId('private-text').fill(SECRET);
    await alice.page.getByTestId('private-submit').click();
    await bob.page.locator('[data-private="Private"]', { hasText: SECRET }).waitFor();
    await bob.page.getByTestId('private-text').fill(REPLY);
    await bob.page.getByTestId('private-text').press('Enter');
    await alice.page.locator('[data-private="Private"]', { hasText: REPLY }).waitFor();
    await bob.page.getByTestId('note-text').fill(NOTE);
    await bob.page.getByTestId('note-submit').click();
    await alice.page.locator('[data-private="Note"]', { hasText: NOTE }).waitFor();
    await assertAccessible(alice.page, 'the desktop with the private thread');

    // Conference: the customer sees bob join; bob talks to the customer.
    await alice.page.getByTestId('consult-conference').click();
    await messages.filter({ hasText: 'Bob Okafor joined the chat.' }).waitFor();
    await bob.page.getByTestId('composer-text').fill('Hello James, Bob from billing here.');
    await bob.page.getByTestId('composer-text').press('Enter');
    await messages.filter({ hasText: 'Bob from billing here.' }).waitFor();
    await alice.page.locator('[data-testid="line-text"]', { hasText: 'Bob from billing here.' }).waitFor();

    // Complete transfer: the chat leaves alice's desktop; bob owns it.
    await alice.page.getByTestId('consult-complete').click();
    await alice.page.getByTestId('chat-panel').waitFor({ state: 'detached' });
    await messages.filter({ hasText: 'Alice Martin left the chat.' }).waitFor();
    await bob.page.locator('[data-author="system"]', { hasText: 'The chat is yours now.' }).waitFor();

    // Sam monitors from the wallboard (nobody is told), sees the live chat with
    // the private thread marked, and whispers to bob.
    const row = sam.locator('[data-testid="chat-row"]', { has: sam.locator('[data-testid="chat-agent"]', { hasText: /^bob$/ }) });
    await row.getByTestId('chat-phase').filter({ hasText: 'Active' }).waitFor();
    await row.getByTestId('chat-monitor').click();
    const panel = sam.getByTestId('monitor');
    const lines = panel.getByTestId('monitor-line');
    await panel.getByTestId('monitor-parties').filter({ hasText: /with bob$/ }).waitFor();
    await lines.filter({ hasText: SECRET }).waitFor();
    assert.equal(await lines.filter({ hasText: SECRET }).getAttribute('data-kind'), 'line', 'the private thread is marked');
    await assertAccessible(sam, 'the wallboard monitoring a chat');
    await widget.getByTestId('composer').fill('Is it sorted?');
    await widget.getByTestId('send').click();
    await lines.filter({ hasText: 'Is it sorted?' }).waitFor();
    // By keyboard: the line, then Tab to "Whisper to the agent" and Enter.
    await panel.getByTestId('monitor-text').fill(WHISPER);
    await panel.getByTestId('monitor-text').press('Tab');
    assert.equal(await sam.evaluate(() => document.activeElement?.dataset.testid), 'monitor-whisper');
    await sam.keyboard.press('Enter');
    await bob.page.locator('[data-private="Whisper"]', { hasText: WHISPER }).waitFor();
    await panel.locator('[data-testid="monitor-line"][data-kind="whisper"]', { hasText: WHISPER }).waitFor();
    assert.equal(await panel.getByTestId('monitor-text').inputValue(), '', 'the box empties');

    // Sam barges in: the customer sees it, and sam can write to the customer.
    await panel.getByTestId('monitor-barge').click();
    await messages.filter({ hasText: 'Sam Rivera (supervisor) joined the chat.' }).waitFor();
    await lines.filter({ hasText: 'Sam Rivera (supervisor) joined the chat.' }).waitFor();
    await panel.getByTestId('monitor-text').fill(SAM_SAYS);
    await panel.getByTestId('monitor-say').click();
    await messages.filter({ hasText: SAM_SAYS }).waitFor();
    assert.equal(await panel.getByTestId('monitor-error').innerText(), '');
    // The panel at 1280×720 and 390 px wide (no page-wide horizontal scroll), for the record.
    mkdirSync(artifacts, { recursive: true });
    await panel.scrollIntoViewIfNeeded();
    await sam.screenshot({ path: join(artifacts, 'wallboard-monitor.png') });
    await sam.setViewportSize({ width: 390, height: 844 });
    const overflow = await sam.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scroll at 390 px (${overflow})`);
    await panel.screenshot({ path: join(artifacts, 'wallboard-monitor-narrow.png') });
    await sam.setViewportSize({ width: 1280, height: 720 });

    // Bob marks the chat done; the customer's download has no private line.
    await bob.page.getByTestId('disposition').selectOption('resolved');
    await bob.page.getByTestId('mark-done').click();
    await bob.page.getByTestId('chat-panel').waitFor({ state: 'detached' });
    await widget.getByTestId('ended-reason').filter({ hasText: 'The chat has ended.' }).waitFor();
    const transcript = decodeURIComponent(await widget.getByTestId('download').getAttribute('href'));
    // The wallboard says the chat is over; Stop monitoring closes the panel.
    await panel.getByTestId('monitor-ended').waitFor();
    await panel.getByTestId('monitor-stop').click();
    await panel.waitFor({ state: 'hidden' });
    for (const text of ['Bob Okafor joined the chat.', 'Bob from billing here.', 'Sam Rivera (supervisor) joined the chat.', SAM_SAYS]) {
      assert.ok(transcript.includes(text), `"${text}" in the download`);
    }
    const customerSees = (await messages.allInnerTexts()).join('\n') + transcript;
    for (const secret of [SECRET, REPLY, NOTE, WHISPER]) {
      assert.ok(!customerSees.includes(secret), `the customer never sees "${secret}"`);
    }
  });
  for (const context of [alice.context, bob.context, samContext, customerContext]) await context.close();
});
