// A scripted agent for the widget journey: a plain WebSocket on /ws/agent,
// run inside a page of the server's own origin (Node 20 has no global
// WebSocket, and the server's Origin check then sees its own origin).

const POLL_MS = 50;

export async function openAgent(browser, url, { timeout = 15_000 } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/agent-script-page`).catch(() => {});
  await page.evaluate(async () => {
    const socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws/agent`);
    const frames = [];
    socket.onmessage = (event) => frames.push(JSON.parse(event.data));
    window.__agent = { socket, frames, next: 1 };
    await new Promise((opened, failed) => {
      socket.onopen = opened;
      socket.onerror = () => failed(new Error('the agent socket did not open'));
    });
  });

  const frames = () => page.evaluate(() => window.__agent.frames);

  async function waitFor(what, predicate) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = (await frames()).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the agent never got ${what}; frames: ${JSON.stringify(await frames())}`);
      await new Promise((done) => setTimeout(done, POLL_MS));
    }
  }

  /// Sends a request and returns its successful response.
  async function request(command, target, data) {
    const id = await page.evaluate(
      ([command, target, data]) => {
        const agent = window.__agent;
        const id = `a${agent.next++}`;
        const frame = { id, command };
        if (target) frame.target = target;
        if (data) frame.data = data;
        agent.socket.send(JSON.stringify(frame));
        return id;
      },
      [command, target, data],
    );
    const response = await waitFor(`the answer to ${command}`, (frame) => frame.id === id);
    if (response.result !== 'success') throw new Error(`${command} failed: ${JSON.stringify(response)}`);
    return response;
  }

  let session;
  return {
    page,
    waitFor,
    async logIn(agent, password) {
      const prepared = await request('prepareSession', null, { override: true, agent: { id: agent, password } });
      session = prepared.resource.id;
      await request('bind', session, { token: prepared.resource.token });
    },
    ready: () => request('ready', session),
    notReady: (reason) => request('notReady', session, { reason }),
    /// Waits for an offer and accepts it; returns the chat's target.
    async acceptOffer() {
      const offer = await waitFor('an offer', (frame) => frame.event === 'interaction.offered');
      await request('accept', offer.target);
      return offer.target;
    },
    say: (chat, text) => request('sendMessage', chat, { clientId: `agent-${Date.now()}`, text }),
    typing: (chat, typing) => request('typing', chat, { typing }),
    close: () => context.close(),
  };
}
