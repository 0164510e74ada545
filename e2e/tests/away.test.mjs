// Notified away from the page (issue 16), in a real browser against the real
// server: a waiting customer clicks "Notify me" in the widget on the demo
// shop, the loader asks for permission and subscribes on the shop's origin
// with the shop's one-line service worker, the widget hands the subscription
// to the server, and the customer closes the page. An agent gets ready: the
// server sends a real Web Push (RFC 8291 aes128gcm, RFC 8292 VAPID) to the
// push service, which is this test's own HTTP listener, and the test decrypts
// it with the keys it made for the subscription (node:crypto: ECDH, HKDF,
// AES-GCM), takes the URL, opens it, and the widget resumes the request and
// confirms in time; the chat starts with the agent.
//
// Headless Chromium cannot reach a real push service offline, so the page's
// `PushManager.prototype.subscribe` is replaced by one that returns the test's
// subscription (its endpoint the listener, its keys Node's). Every other part
// is real: permission, the service worker's registration, postMessage between
// frame and loader, the WebSocket, the server's encryption and signature.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createDecipheriv, createECDH, hkdfSync, randomBytes, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, demoConfigWith } from '../support/server.mjs';
import { launchBrowser, withScreenshotsOnFailure } from '../support/browser.mjs';
import { openAgent } from '../support/agent.mjs';

const UI_TIMEOUT = 15_000;
const WAIT_MS = 15_000;
let server;
let browser;
let pushService;
const pushes = [];
const pages = [];

/// The push service: every POST it gets, answered 201 as push services do.
function startPushService() {
  return new Promise((listening) => {
    const service = createServer((request, response) => {
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        pushes.push({ method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(201).end();
      });
    });
    service.listen(0, '127.0.0.1', () => listening(service));
  });
}

/// RFC 8291 as the browser does it: the message's salt and sender key,
/// ECDH with our key, HKDF with the auth secret, AES-128-GCM, padding off.
function decrypt(body, ecdh, auth) {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const senderPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const shared = ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  const end = padded.lastIndexOf(2); // the last record's delimiter, then zeros
  return padded.subarray(0, end).toString('utf8');
}

async function waitUntil(what, check) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

before(async () => {
  pushService = await startPushService();
  const keyFile = join(mkdtempSync(join(tmpdir(), 'switchboard-vapid-')), 'vapid.key');
  server = await startServer({
    configText: demoConfigWith({ settings: { allow_loopback_http: 'true', key_file: JSON.stringify(keyFile) } }),
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  pushService?.close();
});

test('a customer who closed the page is pushed, opens the link, and the widget resumes and confirms', async () => {
  const endpoint = `http://127.0.0.1:${pushService.address().port}/push/sub-1`;
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const subscription = {
    endpoint,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  };

  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  await context.grantPermissions(['notifications'], { origin: server.url });
  // The one stand-in: the browser's push service (see the file's comment).
  await context.addInitScript((json) => {
    if (!window.PushManager) return;
    PushManager.prototype.subscribe = async function (options) {
      window.__applicationServerKey = options && options.applicationServerKey;
      return { toJSON: () => JSON.parse(json) };
    };
  }, JSON.stringify(subscription));
  const shop = await context.newPage();
  shop.setDefaultTimeout(UI_TIMEOUT);
  pages.push(shop);
  const agent = await openAgent(browser, server.url);
  pages.push(agent.page);

  await withScreenshotsOnFailure('away', () => pages, async () => {
    await shop.goto(`${server.url}/demo/shop.html`);
    await shop.locator('[data-switchboard="launcher"]').click();
    const widget = shop.frameLocator('iframe[data-switchboard="frame"]');
    await widget.getByTestId('prechat-name').fill('James Bond');
    await widget.getByTestId('prechat-email').fill('j.b@example.com');
    await widget.getByTestId('prechat-submit').click();
    await widget.getByTestId('queue-status').filter({ hasText: 'You are number 1 in line' }).waitFor();

    // "Notify me": permission, the shop's service worker, the subscription.
    await widget.getByTestId('notify-me').click();
    await widget.getByTestId('notice').filter({ hasText: 'We will notify you. You may close this page.' }).waitFor();
    const registered = await shop.evaluate(async () => (await navigator.serviceWorker.getRegistration('/demo/'))?.active?.scriptURL);
    assert.equal(registered, `${server.url}/demo/switchboard-sw.js`, "the shop's own one-line worker is registered");
    const keyLength = await shop.evaluate(() => window.__applicationServerKey?.length);
    assert.equal(keyLength, 65, "subscribed with the server's VAPID public key");

    // The customer closes the page; the server sees the connection go.
    await shop.close();
    await waitUntil('the customer connection to close', async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return /switchboard_connections\{endpoint="customer"\} 0\b/.test(metrics);
    });
    assert.equal(pushes.length, 0, 'nothing is pushed before an agent is reserved');

    // An agent gets ready: the away customer is pushed.
    await agent.logIn('alice', 'demo-alice');
    await agent.ready();
    const push = await waitUntil('the push', () => pushes[0]);
    assert.equal(push.method, 'POST');
    assert.equal(push.url, '/push/sub-1');
    assert.equal(push.headers['content-encoding'], 'aes128gcm');
    const [, jwt, vapidKey] = /^vapid t=([^,]+), k=(.+)$/.exec(push.headers.authorization) ?? [];
    assert.ok(jwt && vapidKey, `a VAPID authorization: ${push.headers.authorization}`);
    const [header, claims, signature] = jwt.split('.');
    const publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: Buffer.from(vapidKey, 'base64url').subarray(1, 33).toString('base64url'),
             y: Buffer.from(vapidKey, 'base64url').subarray(33).toString('base64url') },
      format: 'jwk',
    });
    const signed = verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'));
    assert.ok(signed, 'the JWT is signed with the VAPID key');
    assert.equal(JSON.parse(Buffer.from(claims, 'base64url')).sub, 'mailto:ops@switchboard.invalid');
    const payload = JSON.parse(decrypt(push.body, ecdh, auth));
    assert.equal(payload.title, 'An agent is available');
    assert.equal(payload.url, `${server.url}/demo/shop.html#switchboard-chat`);

    // The notification's link (what push-sw.js opens on a click).
    const back = await context.newPage();
    back.setDefaultTimeout(UI_TIMEOUT);
    pages.push(back);
    await back.goto(payload.url);
    const resumed = back.frameLocator('iframe[data-switchboard="frame"]');
    await resumed.getByTestId('alert-text').filter({ hasText: 'Agent is available' }).waitFor();
    await resumed.getByTestId('confirm').click();
    const chat = await agent.acceptOffer();
    assert.ok(chat, 'the agent has the chat');
    await resumed.getByTestId('message').filter({ hasText: 'joined the chat' }).first().waitFor();
  });
  await context.close();
});
