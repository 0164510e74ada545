// Starts a real switchboard-server on a free loopback port with a fresh
// SQLite file, serving the built app, and stops it after the test. With
// SWITCHBOARD_E2E_DATABASE_URL (a PostgreSQL server, as `scripts/postgres.sh
// start` prints it) each server gets a fresh database there instead.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 20_000;

export function serverBinary() {
  const fromEnv = process.env.SWITCHBOARD_SERVER;
  // A CARGO_TARGET_DIR outside the tree (several worktrees sharing a machine) is looked in too.
  const targets = [join(root, 'target'), process.env.CARGO_TARGET_DIR].filter(Boolean);
  const candidates = [fromEnv, ...targets.flatMap((target) => ['debug', 'release'].map((profile) => join(resolve(root, target), profile, 'switchboard-server')))];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error('switchboard-server is not built: run `cargo build -p switchboard-server`');
  return found;
}

const DEMO_CONFIG = join(root, 'config', 'demo.toml');

/// The demo configuration with more allowed origins (e.g. a proxy's, whose
/// port is not the server's) and some one-line settings replaced (e.g.
/// `request_burst` for a benchmark's scripted customer).
export function demoConfigWith({ origins = [], settings = {} } = {}) {
  let text = readFileSync(DEMO_CONFIG, 'utf8');
  const allowed = /^allowed_origins = \[(.*)\]$/m;
  if (!allowed.test(text)) throw new Error('config/demo.toml has no one-line `allowed_origins = [...]`');
  text = text.replace(allowed, (_, list) => `allowed_origins = [${[list, ...origins.map((o) => JSON.stringify(o))].join(', ')}]`);
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key} = .*$`, 'm');
    if (!line.test(text)) throw new Error(`config/demo.toml has no \`${key} = …\` line to replace`);
    text = text.replace(line, `${key} = ${value}`);
  }
  return text;
}

let databases = 0;

/// A new, empty database on SWITCHBOARD_E2E_DATABASE_URL's server: its URL.
export function freshDatabase() {
  const server = new URL(process.env.SWITCHBOARD_E2E_DATABASE_URL);
  databases += 1;
  const name = `e2e_${process.pid}_${databases}`;
  const made = spawnSync('psql', [server.toString(), '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE ${name}`], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`could not create the database ${name}: ${made.stderr}`);
  server.pathname = `/${name}`;
  return server.toString();
}

/// The built apps' directory, checked.
export function distDir() {
  const staticDir = process.env.SWITCHBOARD_DIST ?? join(root, 'dist');
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error(`no built app in ${staticDir}: run \`trunk build --release\``);
  }
  return staticDir;
}

/// Runs the server binary with `args` and waits until it says where it
/// listens: its child process and its URL.
export async function spawnServer(args) {
  const child = spawn(serverBinary(), args, {
    cwd: root,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start in time')), START_TIMEOUT_MS);
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const match = buffered.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}`));
    });
  });
  return { child, url };
}

/// Stops a server politely (SIGTERM), then for good after 5 s.
export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/// `config` is a file path; `configText` (TOML) is written to the server's
/// temporary directory and used instead.
export async function startServer({ config = DEMO_CONFIG, configText } = {}) {
  const staticDir = distDir();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
  if (configText !== undefined) {
    config = join(dir, 'config.toml');
    writeFileSync(config, configText);
  }
  const db = join(dir, 'switchboard.db');
  const storage = process.env.SWITCHBOARD_E2E_DATABASE_URL ? ['--database', freshDatabase()] : ['--db', db];
  const { child, url } = await spawnServer(['serve', '--config', config, ...storage, '--listen', '127.0.0.1:0', '--static-dir', staticDir]);
  return {
    url,
    db,
    async stop() {
      await stopServer(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
