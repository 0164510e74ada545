// The apps against a cluster (docs/cluster.md), every party a real browser:
// three nodes on PostgreSQL and NATS; the customer on the demo shop of one
// edge node and alice on the desktop of the other, so every message crosses
// the bus to the center and back. They chat both ways; then the center is
// SIGKILLed, and both write at once. Another node takes over, both edges
// close their sockets (1012) and both pages resume on their own node by
// themselves; what was written as the center died arrives, then a message
// each way, and nothing said is lost or shown twice.
//
// Needs PostgreSQL: SWITCHBOARD_E2E_DATABASE_URL's server (a fresh database),
// else a private one from scripts/postgres.sh. `./x test` runs it in its
// PostgreSQL pass (`npm run test:postgres`), not in `npm test`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../support/cluster.mjs';
import { launchBrowser, withScreenshotsOnFailure } from '../support/browser.mjs';
import { assertAccessible } from '../support/axe.mjs';

// A line the server stored: its state is Sent, then Delivered and Seen once
// the other side has it (read receipts), so any of the three will do.
const STORED = /^(Sent|Delivered|Seen)$/;
const STORED_STATE = '[data-testid="delivery"]:is([data-state="Sent"], [data-state="Delivered"], [data-state="Seen"])';
const UI_TIMEOUT = 15_000;
// The failover (dead_after_ms, the rebuild) plus the apps' reconnect backoff.
const RESUME_TIMEOUT = 40_000;
let cluster;
let browser;
const pages = [];

before(async () => {
  cluster = await startCluster();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function newPage(viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  pages.push(page);
  return page;
}

/// Every WebSocket the page (and its frames) opens: its URL, how many frames
/// it received, and whether it closed. A resume is a socket opened after the
/// failover that the server talks on.
function watchSockets(page) {
  const sockets = [];
  page.on('websocket', (socket) => {
    const seen = { url: socket.url(), received: 0, closed: false };
    sockets.push(seen);
    socket.on('framereceived', () => (seen.received += 1));
    socket.on('close', () => (seen.closed = true));
  });
  return sockets;
}

async function waitForResume(what, sockets, since) {
  const deadline = Date.now() + RESUME_TIMEOUT;
  while (!sockets.slice(since).some((socket) => socket.received > 0 && !socket.closed)) {
    if (Date.now() > deadline) throw new Error(`${what} did not resume on a new socket: ${JSON.stringify(sockets)}`);
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

/// The desktop's transcript lines as "author: text", in order.
async function desktopLines(page) {
  return page.locator('[data-testid="transcript"] [data-testid="line"]').evaluateAll((lines) =>
    lines.map((line) => `${line.dataset.author}: ${line.querySelector('[data-testid="line-text"]').textContent}`),
  );
}

/// The widget's transcript lines as "name: text", in order.
async function widgetLines(widget) {
  return widget.getByTestId('message').evaluateAll((lines) =>
    lines.map((line) => `${line.querySelector('.who').textContent}: ${line.querySelector('.text').textContent}`),
  );
}

test('customer and alice on two edge nodes chat across the cluster and resume after the center is killed', async () => {
  const { center, epoch } = await cluster.settled();
  const [shopNode, deskNode] = cluster.nodes.filter((_, index) => index !== center);

  const shop = await newPage({ width: 1200, height: 800 });
  const alice = await newPage({ width: 1280, height: 800 });
  const shopSockets = watchSockets(shop);
  const aliceSockets = watchSockets(alice);
  const problems = [];
  shop.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });

  await withScreenshotsOnFailure('cluster', () => pages, async () => {
    // Alice logs in on one edge node.
    await alice.goto(deskNode.url);
    await alice.getByTestId('login-agent').fill('alice');
    await alice.getByTestId('login-password').fill('demo-alice');
    await alice.getByTestId('login-submit').click();
    await alice.getByTestId('session-id').waitFor();

    // The customer asks for a chat on the shop of the other; nobody is
    // Ready, so the chat-delay queue shows.
    await shop.goto(`${shopNode.url}/demo/shop.html`);
    await shop.locator('[data-switchboard="launcher"]').click();
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    await widget.getByTestId('prechat-name').fill('James Bond');
    await widget.getByTestId('prechat-email').fill('j.b@example.com');
    await widget.getByTestId('prechat-subject').fill('Broken pen');
    await widget.getByTestId('prechat-submit').click();
    await widget.getByTestId('queue-status').filter({ hasText: 'You are number 1 in line' }).waitFor();

    // Alice goes Ready; the customer confirms; alice gets the offer and accepts.
    await alice.getByTestId('set-ready').click();
    await alice.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
    await widget.getByTestId('alert-text').filter({ hasText: 'Agent is available. Waiting for your confirmation.' }).waitFor();
    await widget.getByTestId('confirm').click();
    await alice.getByTestId('offer').waitFor();
    assert.equal(await alice.getByTestId('offer-customer').innerText(), 'James Bond');
    await alice.getByTestId('offer-accept').click();
    await alice.getByTestId('chat-panel').waitFor();
    const messages = widget.getByTestId('message');
    await messages.filter({ hasText: 'Alice Martin joined the chat.' }).waitFor();

    // Messages both ways, each acknowledged (stored) and delivered across nodes.
    const composer = widget.getByTestId('composer');
    await composer.fill('My pen writes no more.');
    await widget.getByTestId('send').click();
    await messages.filter({ hasText: 'My pen writes no more.' }).getByTestId('delivery').filter({ hasText: STORED }).waitFor();
    await alice.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'My pen writes no more.' }).waitFor();
    const aliceComposer = alice.getByTestId('composer-text');
    await aliceComposer.fill('Which model is it?');
    await aliceComposer.press('Enter');
    await alice.locator('[data-author="me"]', { hasText: 'Which model is it?' }).locator(STORED_STATE).waitFor();
    await messages.filter({ hasText: 'Which model is it?' }).waitFor();

    // The center dies. Another node takes over with a higher epoch; both
    // pages' nodes live on, close their sockets and the pages resume there.
    const shopBefore = shopSockets.length;
    const aliceBefore = aliceSockets.length;
    await cluster.kill(center);

    // Both write at once, while their sockets are still open to nodes that
    // forward to a center that is gone: neither line can be acknowledged
    // until the resume, and each must then arrive once.
    await composer.fill('Sent as the center died');
    await widget.getByTestId('send').click();
    await aliceComposer.fill('Typed as the center died');
    await aliceComposer.press('Enter');

    const { center: newCenter, epoch: newEpoch } = await cluster.settled(epoch);
    assert.notEqual(newCenter, center);
    assert.ok(newEpoch > epoch);
    await waitForResume('the widget', shopSockets, shopBefore);
    await waitForResume('the desktop', aliceSockets, aliceBefore);
    // The sockets of before the failover were closed by their node, not kept.
    assert.ok(shopSockets.slice(0, shopBefore).every((socket) => socket.closed), JSON.stringify(shopSockets));
    assert.ok(aliceSockets.slice(0, aliceBefore).every((socket) => socket.closed), JSON.stringify(aliceSockets));
    await widget.getByTestId('offline-banner').waitFor({ state: 'hidden', timeout: RESUME_TIMEOUT });
    await alice.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: RESUME_TIMEOUT });
    await alice.getByTestId('chat-panel').waitFor();

    // What was written as the center died is stored and delivered.
    await messages.filter({ hasText: 'Sent as the center died' }).getByTestId('delivery').filter({ hasText: STORED }).waitFor();
    await alice.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'Sent as the center died' }).waitFor();
    await alice.locator('[data-author="me"]', { hasText: 'Typed as the center died' }).locator(STORED_STATE).waitFor();
    await messages.filter({ hasText: 'Typed as the center died' }).waitFor();

    // A message each way after the failover.
    await composer.fill('Are you still there?');
    await widget.getByTestId('send').click();
    await messages.filter({ hasText: 'Are you still there?' }).getByTestId('delivery').filter({ hasText: STORED }).waitFor();
    await alice.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'Are you still there?' }).waitFor();
    await aliceComposer.fill('Yes, right here.');
    await aliceComposer.press('Enter');
    await alice.locator('[data-author="me"]', { hasText: 'Yes, right here.' }).locator(STORED_STATE).waitFor();
    await messages.filter({ hasText: 'Yes, right here.' }).waitFor();

    // Events arrive in order, so anything a resume doubled would show
    // before the last line: both transcripts are exactly what was said.
    // Which of the two lines written as the center died was stored first
    // depends on which page resumed first.
    const customerSees = await widgetLines(widget);
    assert.deepEqual(customerSees.slice(3, 5).sort(), ['Alice Martin: Typed as the center died', 'James Bond: Sent as the center died'], JSON.stringify(customerSees));
    assert.deepEqual([...customerSees.slice(0, 3), ...customerSees.slice(5)], [
      'Switchboard: Alice Martin joined the chat.',
      'James Bond: My pen writes no more.',
      'Alice Martin: Which model is it?',
      'James Bond: Are you still there?',
      'Alice Martin: Yes, right here.',
    ]);
    const aliceSees = (await desktopLines(alice)).filter((line) => !line.startsWith('system: '));
    assert.deepEqual(aliceSees.slice(2, 4).sort(), ['customer: Sent as the center died', 'me: Typed as the center died'], JSON.stringify(aliceSees));
    assert.deepEqual(
      [...aliceSees.slice(0, 2), ...aliceSees.slice(4)],
      ['customer: My pen writes no more.', 'me: Which model is it?', 'customer: Are you still there?', 'me: Yes, right here.'],
      JSON.stringify(aliceSees),
    );

    // Both apps stay accessible after the resume.
    await assertAccessible(alice, 'the desktop after the failover');
    await assertAccessible(shop.frames().find((frame) => frame.url().includes('/widget/')), 'the widget after the failover');

    assert.deepEqual(
      problems.filter((text) => !text.includes('favicon') && !/WebSocket|ERR_CONNECTION|net::/.test(text)),
      [],
      'no errors in the shop console besides the closed connections',
    );
  });
});
