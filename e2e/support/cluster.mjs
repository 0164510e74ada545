// Three (or more) real switchboard-server nodes of one instance-domain
// (docs/cluster.md) for a journey: a private PostgreSQL (scripts/postgres.sh)
// — or a fresh database on SWITCHBOARD_E2E_DATABASE_URL's server when that
// is set — and a private NATS server (scripts/nats.sh), each node the debug
// server with the demo configuration plus `[storage]` and `[cluster]`,
// serving the built apps. Every node allows every node's origin: a page
// loaded from one node may talk to any.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, demoConfigWith, distDir, freshDatabase, spawnServer, stopServer } from './server.mjs';

// Short enough that a dead center is given up quickly, as in the server's
// own cluster tests (server/tests/it/cluster.rs).
const HEARTBEAT_MS = 200;
const DEAD_AFTER_MS = 1500;
const SETTLE_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

/// Runs `scripts/NAME.sh start DIR` and returns the `url=` it prints.
function startScript(name, dir) {
  const started = spawnSync(join(root, 'scripts', `${name}.sh`), ['start', dir], { encoding: 'utf8' });
  const url = started.stdout?.match(/^url=(.+)$/m)?.[1];
  if (started.status !== 0 || !url) throw new Error(`scripts/${name}.sh start failed: ${started.stderr}`);
  return url;
}

function stopScript(name, dir) {
  spawnSync(join(root, 'scripts', `${name}.sh`), ['stop', dir], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
}

/// A loopback port nobody listens on now. The nodes' ports must be known
/// before any starts, since each node's configuration names the others'
/// origins.
async function freePort() {
  const server = createServer();
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address();
  await new Promise((closed) => server.close(closed));
  return port;
}

/// A node's `/readyz` when it answers 200: `{ role, epoch, node, … }`; else null.
async function readiness(url) {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/// Starts the cluster; returns `{ nodes: [{ name, url }], settled(after),
/// kill(index), stop() }`. Nodes are numbered from 0 in `nodes`.
export async function startCluster({ nodes: count = 3 } = {}) {
  const staticDir = distDir();
  const cleanups = [];
  const nodes = [];
  try {
    let databaseUrl;
    if (process.env.SWITCHBOARD_E2E_DATABASE_URL) {
      databaseUrl = freshDatabase();
    } else {
      // Its own directory: postgres.sh hands it to the `postgres` user,
      // who could not enter a directory private to this process.
      const pgDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-pg-'));
      cleanups.push(() => stopScript('postgres', pgDir));
      databaseUrl = startScript('postgres', pgDir);
    }
    const natsDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-nats-'));
    cleanups.push(() => stopScript('nats', natsDir));
    const natsUrl = startScript('nats', natsDir);

    const configDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-cluster-'));
    cleanups.push(() => rmSync(configDir, { recursive: true, force: true }));
    const ports = [];
    for (let n = 0; n < count; n += 1) ports.push(await freePort());
    const origins = ports.flatMap((port) => [`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
    const base = demoConfigWith({ origins });
    for (const [index, port] of ports.entries()) {
      const name = `node${index + 1}`;
      const config = join(configDir, `${name}.toml`);
      writeFileSync(
        config,
        `${base}\n[storage]\nurl = ${JSON.stringify(databaseUrl)}\n\n[cluster]\nnats_url = ${JSON.stringify(natsUrl)}\n` +
          `node_name = "${name}"\nheartbeat_ms = ${HEARTBEAT_MS}\ndead_after_ms = ${DEAD_AFTER_MS}\n`,
      );
      const { child, url } = await spawnServer(['serve', '--config', config, '--listen', `127.0.0.1:${port}`, '--static-dir', staticDir]);
      nodes.push({ name, url, child });
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => stopServer(node.child)));
    for (const cleanup of cleanups.reverse()) cleanup();
    throw error;
  }

  const alive = () => nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);

  return {
    nodes: nodes.map(({ name, url }) => ({ name, url })),

    /// Waits until every living node is ready and follows one center of an
    /// epoch above `after`: `{ center, epoch }`, `center` an index into `nodes`.
    async settled(after = 0) {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      for (;;) {
        const living = alive();
        const states = await Promise.all(living.map((node) => readiness(node.url)));
        const centers = states.flatMap((state, index) => (state?.role === 'center' ? [living[index]] : []));
        const epoch = states[0]?.epoch;
        if (states.every((state) => state && state.epoch === epoch && epoch > after) && centers.length === 1) {
          return { center: nodes.indexOf(centers[0]), epoch };
        }
        if (Date.now() > deadline) {
          throw new Error(`the cluster did not settle above epoch ${after}: ${JSON.stringify(states)}`);
        }
        await new Promise((wait) => setTimeout(wait, POLL_MS));
      }
    },

    /// SIGKILLs the node: no goodbye to PostgreSQL, NATS or its sockets.
    async kill(index) {
      const { child } = nodes[index];
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      await exited;
    },

    async stop() {
      await Promise.all(nodes.map((node) => stopServer(node.child)));
      for (const cleanup of cleanups.reverse()) cleanup();
    },
  };
}
