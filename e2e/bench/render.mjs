// Client benchmark: how long the desktop and the widget take to show a
// 2,000-message transcript, in Debian's headless Chromium against the real
// server (release app build, fresh SQLite file each part).
//
//   desktop: a scripted customer writes N messages before alice accepts;
//            timed from the click on Accept until the Nth message is in the
//            DOM and a frame with it has been painted (performance.now()
//            in the page, one requestAnimationFrame after the check).
//   widget:  a scripted agent writes N messages to a customer chatting on
//            the demo shop; the customer comes back to the shop page and
//            the widget resumes the chat; timed from the navigation until
//            the Nth message is painted in the widget's frame (Date.now(),
//            same machine clock on both ends).
//
// It prints a table and writes JSON; it asserts no timing, but fails
// (exit 1) when a transcript does not reach N messages.
//
//   node bench/render.mjs [--messages 2000] [--json ../target/bench/render.json]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer, demoConfigWith } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { openCustomer } from '../support/customer.mjs';
import { openAgent } from '../support/agent.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: options } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    json: { type: 'string', default: resolve(root, 'target', 'bench', 'render.json') },
  },
});
const MESSAGES = Number(options.messages);
if (!Number.isInteger(MESSAGES) || MESSAGES < 1 || MESSAGES > 100_000) {
  throw new Error(`--messages must be a whole number from 1 to 100000, not ${options.messages}`);
}
/// Every wait is bounded: sending, and rendering, each get this long.
const STEP_TIMEOUT_MS = 120_000;
const UI_TIMEOUT_MS = 30_000;

// The scripted parties send thousands of requests as fast as answers come:
// lift the per-connection rate limit and the slow-client queue, and give
// the offer time to wait while the messages go in.
const BENCH_CONFIG = demoConfigWith({
  settings: {
    requests_per_second: 1_000_000,
    request_burst: 1_000_000,
    outbound_queue: 1_000_000,
    offer_timeout_secs: 600,
  },
});

/// Requests a scripted party keeps in flight. The server keeps each
/// stream's last 1,024 events for delivery and cuts a client that falls
/// further behind ("too slow"); a burst of thousands of requests on one
/// connection outruns the store's commits and trips that, so the scripted
/// parties send in a window, as a real client would.
const IN_FLIGHT = 128;

/// Sends `count` chat messages on the page's socket (the support modules
/// keep it at `window[holder].socket`), to `target` (an agent's chat; none
/// for a customer), at most IN_FLIGHT unanswered, and waits for every
/// success answer.
async function sendMany(page, { holder, target = null, count, prefix }) {
  await page.evaluate(
    async ([holder, target, count, prefix, inFlight, timeoutMs]) => {
      const { socket } = window[holder];
      let sent = 0;
      let answered = 0;
      const sendNext = () => {
        sent += 1;
        const frame = { id: `${prefix}${sent}`, command: 'sendMessage', data: { clientId: `${prefix}${sent}`, text: `Message ${sent} of ${count}: the quick brown fox jumps over the lazy dog.` } };
        if (target) frame.target = target;
        socket.send(JSON.stringify(frame));
      };
      await new Promise((done, failed) => {
        const timer = setTimeout(() => failed(new Error(`only ${answered} of ${count} messages were answered in time`)), timeoutMs);
        socket.addEventListener('close', (event) => {
          clearTimeout(timer);
          failed(new Error(`the socket closed (code ${event.code}, "${event.reason}") after ${answered} of ${count} answers`));
        });
        socket.addEventListener('message', (event) => {
          const frame = JSON.parse(event.data);
          if (typeof frame.id !== 'string' || !frame.id.startsWith(prefix)) return;
          if (frame.result !== 'success') {
            clearTimeout(timer);
            failed(new Error(`a message was refused: ${event.data}`));
          } else if (++answered === count) {
            clearTimeout(timer);
            done();
          } else if (sent < count) {
            sendNext();
          }
        });
        while (sent < Math.min(count, inFlight)) sendNext();
      });
    },
    [holder, target, count, prefix, IN_FLIGHT, STEP_TIMEOUT_MS],
  );
}

/// Counts, in the page it runs in, every element matching `selector` that
/// the app inserts from now on (`window.__linesCreated`): an app that
/// rebuilds its whole list on each new message creates far more than N.
function countCreatedLines(selector) {
  window.__linesCreated = 0;
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches(selector)) window.__linesCreated += 1;
        window.__linesCreated += node.querySelectorAll(selector).length;
      }
    }
  }).observe(document, { childList: true, subtree: true });
}

/// The in-page probe: resolves once `selector` matches `count` nodes and a
/// frame with them has been painted (the check runs in a rAF callback; the
/// next rAF callback comes after that frame's paint).
function paintedProbe() {
  return ([selector, count, timeoutMs]) =>
    new Promise((done, failed) => {
      const started = performance.now();
      const check = () => {
        const found = document.querySelectorAll(selector).length;
        if (found >= count) {
          requestAnimationFrame(() => done(found));
        } else if (performance.now() - started > timeoutMs) {
          failed(new Error(`only ${found} of ${count} messages rendered after ${timeoutMs} ms`));
        } else {
          requestAnimationFrame(check);
        }
      };
      requestAnimationFrame(check);
    });
}

async function desktopAccept(browser) {
  const server = await startServer({ configText: BENCH_CONFIG });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(server.url);
    await page.getByTestId('login-agent').fill('alice');
    await page.getByTestId('login-password').fill('demo-alice');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('set-ready').click();
    await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();

    const customer = await openCustomer(browser, server.url, { timeout: UI_TIMEOUT_MS });
    await customer.request('c1', 'requestChat', { service: 'chat-delay', userId: 'bench' });
    await customer.waitFor('an agent notification', (frame) => frame.event === 'notification');
    await customer.request('c2', 'connect');
    await customer.request('c3', 'startChat', { firstName: 'Bench', lastName: 'Customer', subject: 'Long chat' });
    // The customer writes before anyone accepts: all of it is in the
    // transcript alice gets on accepting.
    const sendStarted = Date.now();
    await sendMany(customer.page, { holder: '__customer', count: MESSAGES, prefix: 'm' });
    const sendMs = Date.now() - sendStarted;

    await page.getByTestId('offer-accept').waitFor();
    const selector = '[data-testid="transcript"] [data-author="customer"]';
    await page.evaluate(countCreatedLines, '[data-testid="line"]');
    const [renderMs, rendered, linesCreated] = await page.evaluate(
      async ([probe, args]) => {
        const painted = new Function(`return (${probe})`)();
        const started = performance.now();
        document.querySelector('[data-testid="offer-accept"]').click();
        const found = await painted(args);
        return [performance.now() - started, found, window.__linesCreated];
      },
      [paintedProbe().toString(), [selector, MESSAGES, STEP_TIMEOUT_MS]],
    );
    await customer.close();
    return { part: 'desktop: accept a chat with N messages', messages: rendered, renderMs, sendMs, linesCreated };
  } finally {
    await context.close();
    await server.stop();
  }
}

async function widgetResume(browser) {
  const server = await startServer({ configText: BENCH_CONFIG });
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const agent = await openAgent(browser, server.url, { timeout: UI_TIMEOUT_MS });
  try {
    const shop = await context.newPage();
    shop.setDefaultTimeout(UI_TIMEOUT_MS);
    const shopUrl = `${server.url}/demo/shop.html`;
    await shop.goto(shopUrl);
    await shop.locator('[data-switchboard="launcher"]').click();
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    await widget.getByTestId('prechat-name').fill('Bench Customer');
    await widget.getByTestId('prechat-submit').click();
    await agent.logIn('bob', 'demo-bob');
    await agent.ready();
    await widget.getByTestId('confirm').click();
    const chat = await agent.acceptOffer();
    await widget.getByTestId('message').filter({ hasText: 'Bob Okafor joined the chat.' }).waitFor();

    // The customer steps away (a page of the same origin, so the tab keeps
    // its session storage and with it the chat token) while bob writes.
    await shop.goto(`${server.url}/bench-away`).catch(() => {});
    const sendStarted = Date.now();
    await sendMany(agent.page, { holder: '__agent', target: chat, count: MESSAGES, prefix: 'b' });
    const sendMs = Date.now() - sendStarted;

    // Back to the shop: the loader reopens the frame, the widget resumes.
    // Every document of this context counts the transcript lines created
    // (the widget's frame is a new document on each visit).
    await context.addInitScript(countCreatedLines, '[data-testid="message"]');
    const selector = '[data-testid="message"].agent';
    const started = Date.now();
    await shop.goto(shopUrl);
    // The probe runs in the widget's final document: the one whose app has
    // mounted its transcript list.
    const transcript = await widget.getByTestId('transcript').elementHandle({ timeout: STEP_TIMEOUT_MS });
    const frame = await transcript.ownerFrame();
    const [rendered, paintedAt, linesCreated] = await frame.evaluate(
      async ([probe, args]) => [await new Function(`return (${probe})`)()(args), Date.now(), window.__linesCreated],
      [paintedProbe().toString(), [selector, MESSAGES, STEP_TIMEOUT_MS]],
    );
    const renderMs = paintedAt - started;
    return { part: 'widget: reopen the shop, resume a chat with N messages', messages: rendered, renderMs, sendMs, linesCreated };
  } finally {
    await agent.close();
    await context.close();
    await server.stop();
  }
}

const browser = await launchBrowser();
const results = [];
let failure = null;
try {
  for (const part of [desktopAccept, widgetResume]) {
    const result = await part(browser);
    if (result.messages < MESSAGES) throw new Error(`${result.part}: ${result.messages} of ${MESSAGES} messages rendered`);
    results.push(result);
  }
} catch (error) {
  failure = error;
} finally {
  await browser.close();
}

if (results.length > 0) {
  console.log(`\nTime to render a ${MESSAGES}-message transcript (headless Chromium, release build)\n`);
  console.log(`${'part'.padEnd(58)} ${'messages'.padStart(8)} ${'render ms'.padStart(10)} ${'lines created'.padStart(14)} ${'send ms'.padStart(9)}`);
  for (const row of results) {
    console.log(
      `${row.part.padEnd(58)} ${String(row.messages).padStart(8)} ${row.renderMs.toFixed(0).padStart(10)} ${String(row.linesCreated).padStart(14)} ${String(row.sendMs).padStart(9)}`,
    );
  }
  console.log('\n(lines created: transcript line elements the app inserted to show them; about N means no rebuilds)');
}
mkdirSync(dirname(options.json), { recursive: true });
writeFileSync(
  options.json,
  JSON.stringify({ bench: 'render', messages: MESSAGES, ok: failure === null, error: failure?.message ?? null, results }, null, 2),
);
console.log(`\nJSON written to ${options.json}`);
if (failure) {
  console.error(`render benchmark FAILED: ${failure.stack ?? failure}`);
  process.exit(1);
}
