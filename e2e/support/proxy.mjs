// A small TCP proxy on 127.0.0.1 between the browsers and the server, so a
// test can cause a real network drop: `cut()` destroys every open socket
// (WebSockets included — Playwright's setOffline leaves those open) and
// refuses new connections until `restore()`.

import net from 'node:net';

export async function startProxy() {
  const sockets = new Set();
  let upstream = null;
  let down = false;

  const server = net.createServer((client) => {
    if (down || !upstream) {
      client.destroy();
      return;
    }
    const backend = net.connect(upstream.port, upstream.host);
    sockets.add(client);
    sockets.add(backend);
    const forget = (socket) => () => sockets.delete(socket);
    client.once('close', forget(client));
    backend.once('close', forget(backend));
    // Either side failing or closing takes the other down with it, as a
    // broken network path would.
    client.on('error', () => backend.destroy());
    backend.on('error', () => client.destroy());
    client.once('close', () => backend.destroy());
    backend.once('close', () => client.destroy());
    client.pipe(backend);
    backend.pipe(client);
  });
  await new Promise((listening, failed) => {
    server.once('error', failed);
    server.listen(0, '127.0.0.1', listening);
  });
  const { port } = server.address();

  return {
    /// The address browsers use: `http://127.0.0.1:<proxy port>`.
    url: `http://127.0.0.1:${port}`,
    port,
    /// Where to forward: the server's `http://127.0.0.1:<port>` URL.
    forwardTo(url) {
      const { hostname, port } = new URL(url);
      upstream = { host: hostname, port: Number(port) };
    },
    /// The drop: every socket is destroyed and new ones are refused.
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      down = false;
    },
    async stop() {
      this.cut();
      await new Promise((closed) => server.close(closed));
    },
  };
}
