// The customer widget in a real browser against the real server: the demo
// shop's one-tag snippet draws the launcher, the loader opens the widget's
// frame, and the customer goes through the chat-delay journey with a
// scripted agent; a reload in the middle of the chat resumes it with the
// whole transcript.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
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
  if (!existsSync(built)) {
    throw new Error(`no built widget at ${built}: run \`trunk build widget.html --release --dist dist/widget --public-url /widget/\` after the desktop's build`);
  }
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a customer chats from the demo shop and resumes after a reload', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const shop = await context.newPage();
  shop.setDefaultTimeout(UI_TIMEOUT);
  pages.push(shop);
  const problems = [];
  shop.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  const agent = await openAgent(browser, server.url);
  pages.push(agent.page);

  await withScreenshotsOnFailure('widget', () => pages, async () => {
    await shop.goto(`${server.url}/demo/shop.html`);
    const launcher = shop.locator('[data-switchboard="launcher"]');
    await launcher.waitFor();
    assert.equal(await shop.locator('iframe').count(), 0, 'nothing heavy loads before the first click');
    await launcher.click();
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    // The widget's own frame, for axe (found again after a reload).
    const widgetFrame = () => shop.frames().find((candidate) => candidate.url().includes('/widget/'));
    await widget.getByTestId('prechat-submit').waitFor();
    await assertAccessible(shop, 'the demo shop with the launcher');
    await assertAccessible(widgetFrame(), 'the widget: the pre-chat form');

    // Pre-chat form → request → confirmation dialog and queue position.
    await widget.getByTestId('prechat-name').fill('James Bond');
    await widget.getByTestId('prechat-email').fill('j.b@example.com');
    await widget.getByTestId('prechat-subject').fill('New gadget');
    await widget.getByTestId('prechat-submit').click();
    await widget.getByTestId('confirmation-text').filter({ hasText: 'We will notify you when agent is available' }).waitFor();
    await widget.getByTestId('queue-status').filter({ hasText: 'You are number 1 in line' }).waitFor();
    await assertAccessible(widgetFrame(), 'the widget: waiting in the queue');

    // An agent becomes available: the customer confirms.
    await agent.logIn('alice', 'demo-alice');
    await agent.ready();
    await widget.getByTestId('alert-text').filter({ hasText: 'Agent is available. Waiting for your confirmation.' }).waitFor();
    await assertAccessible(widgetFrame(), 'the widget: an agent is available');
    await widget.getByTestId('confirm').click();

    // The chat starts; the agent accepts and both write.
    const chat = await agent.acceptOffer();
    const messages = widget.getByTestId('message');
    await messages.filter({ hasText: 'Alice Martin joined the chat.' }).waitFor();
    await widget.getByTestId('composer').fill('Hello, my pen writes no more.');
    await widget.getByTestId('send').click();
    const mine = messages.filter({ hasText: 'Hello, my pen writes no more.' });
    await mine.getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();
    await agent.waitFor('the customer message', (frame) => frame.event === 'chat.message' && frame.data.text === 'Hello, my pen writes no more.');
    await agent.typing(chat, true);
    await widget.getByTestId('typing').filter({ hasText: 'Alice Martin is typing…' }).waitFor();
    await agent.say(chat, 'That is the <b>point</b> of it.');
    await messages.filter({ hasText: 'That is the <b>point</b> of it.' }).waitFor();
    assert.equal(await widget.locator('b').count(), 0, 'messages are text, never HTML');
    await assertAccessible(widgetFrame(), 'the widget: chatting');

    // The connection drops (another socket resumes the chat with the same
    // token, so the server closes the widget's): the widget reconnects,
    // resumes from its last seq, and what is sent around it arrives once.
    const frame = shop.frames().find((candidate) => candidate.url().includes('/widget/'));
    const token = await frame.evaluate(() => sessionStorage.getItem('switchboard.chat.token'));
    assert.match(token, /^K[0-9a-f]{32}$/);
    await agent.page.evaluate((token) => new Promise((done) => {
      const intruder = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws/customer`);
      window.__intruder = intruder;
      intruder.onopen = () => intruder.send(JSON.stringify({ id: 'x1', command: 'resume', data: { token, lastSeq: 0 } }));
      intruder.onmessage = (event) => { if (JSON.parse(event.data).id === 'x1') done(); };
    }), token);
    await widget.getByTestId('composer').fill('Sent around a dropped connection');
    await widget.getByTestId('send').click();
    const resent = messages.filter({ hasText: 'Sent around a dropped connection' });
    await resent.getByTestId('delivery').filter({ hasText: 'Sent' }).waitFor();
    await agent.waitFor('the message sent around the drop', (frame) => frame.data?.text === 'Sent around a dropped connection');
    // A second message from the widget: it leaves after any resend of the
    // first on the same socket, and the agent's events come in order, so
    // once it has arrived a duplicate of the first would have too.
    await widget.getByTestId('composer').fill('And one after it');
    await widget.getByTestId('send').click();
    await agent.waitFor('the message after it', (frame) => frame.data?.text === 'And one after it');
    const copies = (await agent.page.evaluate(() => window.__agent.frames))
      .filter((frame) => frame.event === 'chat.message' && frame.data.text === 'Sent around a dropped connection');
    assert.equal(copies.length, 1, 'stored and delivered exactly once');
    assert.equal(
      await agent.page.evaluate(() => window.__intruder.readyState),
      3,
      'the widget resumed the chat (taking it back from the other socket)',
    );
    assert.equal(await resent.count(), 1);

    // A reload in the middle of the chat: the loader reopens the frame and
    // the widget resumes the same chat with the whole transcript.
    await shop.reload();
    await widget.getByTestId('chat').waitFor({ state: 'visible' });
    await messages.filter({ hasText: 'And one after it' }).waitFor();
    const lines = await messages.locator('.text').allInnerTexts();
    assert.deepEqual(lines, [
      'Alice Martin joined the chat.',
      'Hello, my pen writes no more.',
      'That is the <b>point</b> of it.',
      'Sent around a dropped connection',
      'And one after it',
    ]);
    await agent.say(chat, 'Still there?');
    await messages.filter({ hasText: 'Still there?' }).waitFor();

    const href = await widget.getByTestId('download').getAttribute('href');
    assert.match(decodeURIComponent(href), /^data:text\/plain;charset=utf-8,Switchboard: Alice Martin joined the chat\.\nJames Bond: Hello, my pen writes no more\.\nAlice Martin: That is the <b>point<\/b> of it\.\n/);

    mkdirSync(artifacts, { recursive: true });
    await shop.screenshot({ path: join(artifacts, 'widget-demo-shop.png') });

    // The customer leaves; the agent is told.
    await widget.getByTestId('leave').click();
    await widget.getByTestId('ended-reason').filter({ hasText: 'You left the chat.' }).waitFor();
    await assertAccessible(widgetFrame(), 'the widget: the chat is over');
    await agent.waitFor('chat.left', (frame) => frame.event === 'chat.left' && frame.data.party.kind === 'customer');
    assert.deepEqual(problems.filter((text) => !text.includes('favicon')), [], 'no errors (CSP or otherwise) in the console');
  });
  await agent.close();
  await context.close();
});

test('the demo shop in German: the widget speaks German; an unknown language falls back to English', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const shop = await context.newPage();
  shop.setDefaultTimeout(UI_TIMEOUT);
  pages.push(shop);
  const logged = [];
  shop.on('console', (message) => logged.push({ type: message.type(), text: message.text() }));

  // One text replaced from the snippet (data-text-cancel-request), as a site would.
  await shop.route(/\/demo\/shop\.html\?lang=de$/, async (route) => {
    const response = await route.fetch();
    const tag = '<script async src="/widget/loader.js" data-service="chat-delay" data-lang="de"';
    const body = (await response.text()).replace(tag, `${tag} data-text-cancel-request="Nein, danke"`);
    await route.fulfill({ response, body });
  });

  await withScreenshotsOnFailure('widget-german', () => pages, async () => {
    await shop.goto(`${server.url}/demo/shop.html?lang=de`);
    const launcher = shop.locator('[data-switchboard="launcher"]');
    await launcher.waitFor();
    assert.equal(await launcher.getAttribute('lang'), 'de');
    await launcher.click();
    const frameElement = shop.locator('iframe[data-switchboard="frame"]');
    assert.match(await frameElement.getAttribute('src'), /\/widget\/\?lang=de#/);
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    await widget.getByTestId('greeting').filter({ hasText: 'Fragen? Wir helfen Ihnen gerne.' }).waitFor();
    assert.equal(await widget.locator('html').getAttribute('lang'), 'de');
    assert.equal(await widget.locator('h1').innerText(), 'Chatten Sie mit uns');
    assert.equal(await widget.locator('label[for="sb-name"]').innerText(), 'Ihr Name');
    assert.equal(await widget.getByTestId('prechat-submit').innerText(), 'Chat starten');

    // Into the queue: the server's English dialog gives way to the German one.
    await widget.getByTestId('prechat-name').fill('Erika Mustermann');
    await widget.getByTestId('prechat-submit').click();
    await widget.getByTestId('confirmation-text')
      .filter({ hasText: 'Wir benachrichtigen Sie, sobald ein Mitarbeiter verfügbar ist.' }).waitFor();
    await widget.getByTestId('queue-status').filter({ hasText: /^Sie sind Nummer 1 in der Warteschlange/ }).waitFor();
    assert.equal(await widget.getByTestId('cancel').innerText(), 'Nein, danke', 'the snippet wins over the language');
    await widget.getByTestId('cancel').click();
    await widget.getByTestId('ended-reason').filter({ hasText: 'Sie haben den Chat verlassen.' }).waitFor();
    assert.deepEqual(logged.filter((m) => m.type === 'error' && !m.text.includes('favicon')), [], 'no errors');

    // A language the server has no texts for: English, and a warning.
    await shop.goto(`${server.url}/demo/shop.html?lang=xx`);
    await launcher.waitFor();
    // The widget was open: the loader reopens it after the navigation.
    if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
    await widget.getByTestId('greeting').filter({ hasText: 'Questions? We are here to help.' }).waitFor();
    assert.ok(
      logged.some((m) => m.type === 'warning' && m.text.includes('showing English')),
      `a console warning: ${JSON.stringify(logged)}`,
    );
  });
  await context.close();
});
