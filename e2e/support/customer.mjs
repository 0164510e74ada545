// A scripted customer: a plain WebSocket on /ws/customer, opened from a page
// of the server's own origin (Node 20 has no global WebSocket, and the
// server's Origin check then sees the origin it serves).

const POLL_MS = 50;

export async function openCustomer(browser, url, { timeout = 15_000 } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/customer-test-page-does-not-exist`).catch(() => {});
  await page.evaluate(async () => {
    const socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws/customer`);
    const frames = [];
    socket.onmessage = (event) => frames.push(JSON.parse(event.data));
    window.__customer = { socket, frames };
    await new Promise((opened, failed) => {
      socket.onopen = opened;
      socket.onerror = () => failed(new Error('the customer socket did not open'));
    });
  });

  const frames = () => page.evaluate(() => window.__customer.frames);

  /// Waits for the first frame `predicate` accepts and returns it.
  async function waitFor(what, predicate) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = (await frames()).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the customer never got ${what}; frames: ${JSON.stringify(await frames())}`);
      await new Promise((wait) => setTimeout(wait, POLL_MS));
    }
  }

  /// Sends a request and waits for its answer, which must be a success.
  async function request(id, command, data) {
    const frame = data === undefined ? { id, command } : { id, command, data };
    await page.evaluate((text) => window.__customer.socket.send(text), JSON.stringify(frame));
    const answer = await waitFor(`an answer to ${command}`, (message) => message.id === id);
    if (answer.result !== 'success') throw new Error(`${command} failed: ${JSON.stringify(answer)}`);
    return answer;
  }

  return { page, waitFor, request, close: () => context.close() };
}
