// Starts the real storyverse binary on a free loopback port with a fresh data
// folder, for the integration and browser tests. Every wait is bounded.
// `command` picks the sub-command (default serve; `worker` takes the same
// --listen and --data and answers /healthz too); `env` adds to its environment;
// `wrapper` runs the binary through another command (a shell setting limits);
// `images: true` lets stories go on to the image stage (words only otherwise),
// `audio: true` to the audio stage.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.resolve(process.env.STORYVERSE_BIN || path.join(ROOT, 'build', 'storyverse'));

// A last resort when the test process is torn down with servers still running.
const running = new Set();
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

// The catalog as the binary prints it: no server needed.
export function loadCatalog() {
  const r = spawnSync(BIN, ['catalog'], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`storyverse catalog failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// Parameters for the i-th test story: each universe in turn with one of its own heroes.
export function storyParams(catalog, i = 0, seedBase = 0) {
  const universe = catalog.universes[i % catalog.universes.length].id;
  return { universe, hero: catalog.characters.find((c) => c.universe === universe).id, seed: seedBase + i };
}

// Runs the binary without blocking the event loop, so servers the test started
// keep answering (and exit hooks and timers keep working) meanwhile.
export function runBin(args, timeoutMs = 60000, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or the deadline passes.
export async function waitFor(fn, { timeoutMs = 15000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e.fatal) throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export class Server {
  constructor({ dataDir, args = [], command = 'serve', env = {}, wrapper = [], images = false, audio = false } = {}) {
    this.ownsData = !dataDir;
    this.dataDir = dataDir || mkdtempSync(path.join(os.tmpdir(), 'sv-test-'));
    this.args = args;
    this.command = command;
    this.env = env;
    this.wrapper = wrapper; // a command (and its arguments) that runs the binary, e.g. under limits
    // Drawing a book's pictures takes a second or two of CPU: tests that are not
    // about pictures run words-only servers (--no-images) to stay quick.
    this.images = images;
    this.audio = audio; // likewise narration: `audio: true` reads stories aloud
    this.stderr = '';
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port = await freePort();
    const roles = ['serve', 'worker'].includes(this.command);
    const words = [...(!this.images && roles ? ['--no-images'] : []), ...(!this.audio && roles ? ['--no-audio'] : [])];
    const argv = [BIN, this.command, '--listen', `127.0.0.1:${this.port}`, '--data', this.dataDir, ...words, ...this.args];
    const [cmd, ...rest] = [...this.wrapper, ...argv];
    this.proc = spawn(cmd, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc.stderr.on('data', (d) => {
      this.stderr += d.toString();
    });
    running.add(this.proc);
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        running.delete(this.proc);
        resolve({ code, signal });
      }),
    );
    await waitFor(
      async () => {
        if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          throw Object.assign(new Error(`the server stopped during start-up:\n${this.stderr}`), { fatal: true });
        }
        return (await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
      },
      { what: 'the server to start' },
    );
    return this;
  }

  // Sends SIGTERM and waits for a clean exit; SIGKILL after the timeout.
  async stop({ signal = 'SIGTERM', timeoutMs = 10000 } = {}) {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  cleanup() {
    if (this.ownsData) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async request(method, route, { body, headers = {}, raw } = {}) {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = raw ? body : JSON.stringify(body);
      if (!raw && !init.headers['content-type']) init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.url}${route}`, { ...init, signal: AbortSignal.timeout(10000) });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  // Creates a story and waits until it is ready (or failed); returns the resource.
  async createAndWait(params, timeoutMs = 20000) {
    const created = await this.request('POST', '/api/v1/stories', { body: params });
    if (created.status !== 202) throw new Error(`create failed: ${created.status} ${created.text}`);
    return waitFor(
      async () => {
        const r = await this.request('GET', `/api/v1/stories/${created.json.id}`);
        return ['ready', 'failed'].includes(r.json?.status) ? r.json : null;
      },
      { timeoutMs, what: `story ${created.json.id}` },
    );
  }
}
