// The whole product in one run, every party a real browser: a customer on
// the demo shop (loader → widget frame) and agents alice and bob on the
// desktop, each in their own browser context, against the real server with
// a fresh SQLite file. The chat-delay journey, messages both ways, a
// property edit, a transfer from alice to bob, a real network drop (a TCP
// proxy between the browsers and the server cuts every socket) with
// messages typed while cut, a takeover from a second tab, and bob's
// disposition and "done".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, demoConfigWith } from '../support/server.mjs';
import { startProxy } from '../support/proxy.mjs';
import { launchBrowser, withScreenshotsOnFailure } from '../support/browser.mjs';

const UI_TIMEOUT = 15_000;
// Stored, or further on: with both sides real, read receipts move a line
// from Sent to Delivered and Seen as soon as the other side has it open.
const STORED = /^(Sent|Delivered|Seen)$/;
const STORED_STATE = '[data-testid="delivery"]:is([data-state="Sent"], [data-state="Delivered"], [data-state="Seen"])';
let proxy;
let server;
let browser;
const pages = [];

before(async () => {
  // The browsers talk to the proxy's port, so the server must accept that
  // origin on its WebSockets.
  proxy = await startProxy();
  server = await startServer({
    configText: demoConfigWith({ origins: [proxy.url, `http://localhost:${proxy.port}`] }),
  });
  proxy.forwardTo(server.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
});

async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  pages.push(page);
  return page;
}

async function openDesktop(agent) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await newPage(context);
  await page.goto(proxy.url);
  await logIn(page, agent);
  await page.getByTestId('session-id').waitFor();
  return { context, page };
}

async function logIn(page, agent) {
  await page.getByTestId('login-agent').fill(agent);
  await page.getByTestId('login-password').fill(`demo-${agent}`);
  await page.getByTestId('login-submit').click();
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

const propertySelector = (name) => `[data-testid="property"][data-name="${name}"] [data-testid="property-value"]`;

function property(page, name) {
  return page.locator(propertySelector(name));
}

/// Waits until the property's field shows `expected`. The row is looked up
/// afresh each time: the list re-creates a row whose value changed.
async function waitForProperty(page, name, expected) {
  await page.waitForFunction(
    ([selector, expected]) => document.querySelector(selector)?.value === expected,
    [propertySelector(name), expected],
  );
}

test('customer, alice and bob: chat-delay, transfer, network drop, takeover, done', async () => {
  const alice = await openDesktop('alice');
  const bob = await openDesktop('bob');
  const customerContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const shop = await newPage(customerContext);
  const problems = [];
  shop.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });

  await withScreenshotsOnFailure('journey', () => pages, async () => {
    // The customer opens the chat from the shop and fills the pre-chat form;
    // nobody is Ready, so the chat-delay dialog and the queue show.
    await shop.goto(`${proxy.url}/demo/shop.html`);
    await shop.locator('[data-switchboard="launcher"]').click();
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    await widget.getByTestId('prechat-name').fill('James Bond');
    await widget.getByTestId('prechat-email').fill('j.b@example.com');
    await widget.getByTestId('prechat-subject').fill('Broken pen');
    await widget.getByTestId('prechat-submit').click();
    await widget.getByTestId('confirmation-text').filter({ hasText: 'We will notify you when agent is available' }).waitFor();
    await widget.getByTestId('queue-status').filter({ hasText: 'You are number 1 in line' }).waitFor();

    // Alice goes Ready: the customer is told an agent is available and confirms.
    await alice.page.getByTestId('set-ready').click();
    await alice.page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
    await widget.getByTestId('alert-text').filter({ hasText: 'Agent is available. Waiting for your confirmation.' }).waitFor();
    await widget.getByTestId('confirm').click();

    // Alice gets the offer and accepts; both see her join.
    await alice.page.getByTestId('offer').waitFor();
    assert.equal(await alice.page.getByTestId('offer-customer').innerText(), 'James Bond');
    assert.equal(await alice.page.getByTestId('offer-subject').innerText(), 'Broken pen');
    await alice.page.getByTestId('offer-accept').click();
    await alice.page.getByTestId('chat-panel').waitFor();
    const messages = widget.getByTestId('message');
    await messages.filter({ hasText: 'Alice Martin joined the chat.' }).waitFor();
    await alice.page.locator('[data-author="system"]', { hasText: 'Alice Martin joined the chat.' }).waitFor();

    // Customer → alice: typing shows, then the message; the customer's copy is marked Sent.
    const composer = widget.getByTestId('composer');
    await composer.fill('My pen writes no more.');
    await alice.page.getByTestId('customer-typing').filter({ hasText: 'James Bond is typing…' }).waitFor();
    await widget.getByTestId('send').click();
    await messages.filter({ hasText: 'My pen writes no more.' }).getByTestId('delivery').filter({ hasText: STORED }).waitFor();
    await alice.page.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'My pen writes no more.' }).waitFor();

    // Alice → customer: typing shows in the widget, then the message; hers is marked Sent.
    const aliceComposer = alice.page.getByTestId('composer-text');
    await aliceComposer.fill('Let me get a colleague who knows pens.');
    await widget.getByTestId('typing').filter({ hasText: 'Alice Martin is typing…' }).waitFor();
    await aliceComposer.press('Enter');
    await alice.page
      .locator('[data-author="me"]', { hasText: 'Let me get a colleague who knows pens.' })
      .locator(STORED_STATE)
      .waitFor();
    await messages.filter({ hasText: 'Let me get a colleague who knows pens.' }).waitFor();

    // Alice adds a property; the server's answer shows it with a new version.
    const versionBefore = await alice.page.getByTestId('properties-version').innerText();
    await alice.page.getByTestId('property-new-name').fill('CaseNumber');
    await alice.page.getByTestId('property-new-value').fill('4711');
    await alice.page.getByTestId('property-new-value').press('Enter');
    await waitForProperty(alice.page, 'CaseNumber', '4711');
    assert.notEqual(await alice.page.getByTestId('properties-version').innerText(), versionBefore);

    // Alice transfers to bob, who is Not Ready: the transfer waits for him
    // (and for no one else) until he goes Ready; the chat stays alice's
    // meanwhile, so the customer is never left with nobody.
    await alice.page.getByTestId('transfer-target').fill('bob');
    await alice.page.getByTestId('transfer-submit').click();
    await alice.page.getByTestId('consult-status').filter({ hasText: 'Waiting for bob' }).waitFor();
    await alice.page.getByTestId('chat-panel').waitFor();

    // Bob goes Ready, gets the offer, accepts (the chat moves: it leaves
    // alice's desktop), and sees the transcript and alice's property.
    await bob.page.getByTestId('set-ready').click();
    await bob.page.getByTestId('offer').waitFor();
    assert.equal(await bob.page.getByTestId('offer-customer').innerText(), 'James Bond');
    await bob.page.getByTestId('offer-accept').click();
    await bob.page.getByTestId('chat-panel').waitFor();
    await alice.page.getByTestId('chat-panel').waitFor({ state: 'detached' });
    await messages.filter({ hasText: 'Bob Okafor joined the chat.' }).waitFor();
    await messages.filter({ hasText: 'Alice Martin left the chat.' }).waitFor();
    await bob.page.locator('[data-author="system"]', { hasText: 'Bob Okafor joined the chat.' }).waitFor();
    const handedOver = await desktopLines(bob.page);
    for (const line of ['customer: My pen writes no more.', 'agent: Let me get a colleague who knows pens.']) {
      assert.ok(handedOver.includes(line), `bob sees "${line}" in ${JSON.stringify(handedOver)}`);
    }
    await waitForProperty(bob.page, 'CaseNumber', '4711');

    // Bob changes the property: his panel shows the value the server
    // confirmed. (Properties are shown to the holding agent only: the
    // customer is never told, and alice no longer holds the chat.)
    const bobVersion = await bob.page.getByTestId('properties-version').innerText();
    await property(bob.page, 'CaseNumber').fill('4712');
    await property(bob.page, 'CaseNumber').press('Enter');
    await bob.page.getByTestId('properties-version').filter({ hasNotText: bobVersion }).waitFor();
    await waitForProperty(bob.page, 'CaseNumber', '4712');

    // A real network drop: every socket between the browsers and the server
    // is cut and new ones are refused. Both sides say so.
    proxy.cut();
    await shop.frameLocator('iframe[data-switchboard="frame"]').getByTestId('offline-banner').waitFor({ state: 'visible' });
    await bob.page.getByTestId('connection-banner').waitFor();
    await alice.page.getByTestId('connection-banner').waitFor();

    // Both write while cut: each line shows as still sending (nothing can
    // be acknowledged now). Then the network comes back.
    await composer.fill('Typed while the network was down');
    await widget.getByTestId('send').click();
    await messages.filter({ hasText: 'Typed while the network was down' }).getByTestId('delivery').filter({ hasText: 'Sending…' }).waitFor();
    const bobComposer = bob.page.getByTestId('composer-text');
    await bobComposer.fill('Bob typed this offline');
    await bobComposer.press('Enter');
    await bob.page
      .locator('[data-author="me"]', { hasText: 'Bob typed this offline' })
      .locator('[data-testid="delivery"][data-state="Sending…"]')
      .waitFor();

    // The customer's unsent line is kept next to the chat token, and a
    // reload while the widget is still offline (its reconnect backs off)
    // sends it after the resume: once, in its place after the transcript.
    const widgetFrame = () => shop.frames().find((frame) => frame.url().includes('/widget/'));
    const kept = await widgetFrame().evaluate(() => sessionStorage.getItem('switchboard.chat.unsent'));
    assert.ok(kept?.includes('Typed while the network was down'), `kept in sessionStorage: ${kept}`);
    proxy.restore();
    await shop.reload();
    await widget.getByTestId('chat').waitFor({ state: 'visible' });

    await widget.getByTestId('offline-banner').waitFor({ state: 'hidden', timeout: 40_000 });
    await bob.page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 40_000 });
    await alice.page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 40_000 });
    await messages.filter({ hasText: 'Typed while the network was down' }).getByTestId('delivery').filter({ hasText: STORED }).waitFor();
    await messages.filter({ hasText: 'Bob typed this offline' }).waitFor();
    await bob.page
      .locator('[data-author="me"]', { hasText: 'Bob typed this offline' })
      .locator(STORED_STATE)
      .waitFor();
    await bob.page.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'Typed while the network was down' }).waitFor();

    // One more round trip after the drop: anything doubled by the resume
    // would arrive before it (events are in order), so counting after it
    // needs no sleep.
    await composer.fill('Still with me?');
    await widget.getByTestId('send').click();
    await bob.page.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'Still with me?' }).waitFor();
    await bobComposer.fill('Yes, all here.');
    await bobComposer.press('Enter');
    await messages.filter({ hasText: 'Yes, all here.' }).waitFor();

    // After the reload the customer's transcript is in the server's order:
    // which of the two lines typed offline was stored first depends on
    // which side reconnected first. Each shows exactly once.
    const customerSees = await widgetLines(widget);
    const typedOffline = ['Bob Okafor: Bob typed this offline', 'James Bond: Typed while the network was down'];
    assert.deepEqual(customerSees.slice(5, 7).sort(), typedOffline, JSON.stringify(customerSees));
    assert.deepEqual([...customerSees.slice(0, 5), ...customerSees.slice(7)], [
      'Switchboard: Alice Martin joined the chat.',
      'James Bond: My pen writes no more.',
      'Alice Martin: Let me get a colleague who knows pens.',
      // The transfer's move: bob joins, then alice leaves (one commit).
      'Switchboard: Bob Okafor joined the chat.',
      'Switchboard: Alice Martin left the chat.',
      'James Bond: Still with me?',
      'Bob Okafor: Yes, all here.',
    ]);
    const bobSees = await desktopLines(bob.page);
    for (const text of ['Typed while the network was down', 'Bob typed this offline', 'My pen writes no more.']) {
      assert.equal(bobSees.filter((line) => line.endsWith(`: ${text}`)).length, 1, `"${text}" once on bob's desktop: ${JSON.stringify(bobSees)}`);
    }

    // Takeover: bob opens the desktop in a second tab and takes his session
    // over; the first tab is told, the new one holds the chat with its
    // whole transcript and the property as bob left it.
    const secondTab = await newPage(bob.context);
    await secondTab.goto(proxy.url);
    await logIn(secondTab, 'bob');
    await secondTab.getByTestId('takeover-dialog').waitFor();
    await secondTab.getByTestId('takeover-confirm').click();
    await secondTab.getByTestId('session-id').waitFor();
    await bob.page.getByTestId('login-form').waitFor();
    await bob.page.getByText('Your session was opened elsewhere.').waitFor();
    const row = secondTab.getByTestId('chat-row').filter({ hasText: 'James Bond' });
    await row.waitFor();
    if ((await secondTab.getByTestId('chat-panel').count()) === 0) await row.click();
    await secondTab.locator('[data-author="customer"] [data-testid="line-text"]', { hasText: 'Still with me?' }).waitFor();
    const afterTakeover = await desktopLines(secondTab);
    for (const text of ['My pen writes no more.', 'Typed while the network was down', 'Bob typed this offline', 'Yes, all here.']) {
      assert.equal(afterTakeover.filter((line) => line.endsWith(`: ${text}`)).length, 1, `"${text}" once after the takeover: ${JSON.stringify(afterTakeover)}`);
    }
    await waitForProperty(secondTab, 'CaseNumber', '4712');

    // Bob picks a disposition and marks the chat done.
    assert.equal(await secondTab.getByTestId('mark-done').isDisabled(), true, 'a disposition is required');
    await secondTab.getByTestId('disposition').selectOption('resolved');
    await secondTab.getByTestId('mark-done').click();
    await secondTab.getByTestId('chat-panel').waitFor({ state: 'detached' });
    await secondTab.getByTestId('no-chats').waitFor();

    // The customer sees bob leave, and the chat ends at once (`chat.ended`):
    // the composer goes, the end shows and the transcript can be downloaded.
    await messages.filter({ hasText: 'Bob Okafor left the chat.' }).waitFor();
    await widget.getByTestId('ended-reason').filter({ hasText: 'The chat has ended.' }).waitFor();
    await composer.waitFor({ state: 'hidden' });
    const href = await widget.getByTestId('download').getAttribute('href');
    const transcript = decodeURIComponent(href);
    assert.match(transcript, /^data:text\/plain;charset=utf-8,Switchboard: Alice Martin joined the chat\.\n/);
    for (const line of ['James Bond: Typed while the network was down', 'Bob Okafor: Bob typed this offline', 'Bob Okafor: Yes, all here.']) {
      assert.equal(transcript.split('\n').filter((text) => text === line).length, 1, `"${line}" once in the download`);
    }
    assert.deepEqual(
      problems.filter((text) => !text.includes('favicon') && !/WebSocket|ERR_CONNECTION|net::/.test(text)),
      [],
      'no errors in the shop console besides the cut connections',
    );
  });
  await customerContext.close();
  await alice.context.close();
  await bob.context.close();
});
