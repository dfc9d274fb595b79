// Starts a throwaway PostgreSQL for the node tests, the way tests/unit/pg_support.c
// does for the C ones: the newest /usr/lib/postgresql/<version>/bin, a cluster
// in a temp dir that trusts local connections, listening on 127.0.0.1 only
// (and a unix socket in the same dir, never the system one), fsync off since
// it is thrown away. PostgreSQL refuses to run as root, so as root the tools
// run as the postgres user (runuser) and the dir is handed to that user.
// Every tool call is bounded; an 'exit' hook stops servers a dying test left.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.mjs';

const TOOL_TIMEOUT_MS = 40000;

// Sorted by major version, newest last: 9.6 < 13 < 15 < 16.
function findBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    : [];
  if (!versions.length) throw new Error('no /usr/lib/postgresql/*/bin/initdb (apt install postgresql)');
  versions.sort((a, b) => parseFloat(a) - parseFloat(b));
  return path.join(root, versions.at(-1), 'bin');
}

function postgresIds() {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('running as root, but there is no postgres user');
  return { uid: Number(r.stdout), gid: Number(g.stdout) };
}

// Servers still running, stopped at once if the test process exits early.
const live = new Set();
process.on('exit', () => {
  for (const pg of live) pg.killNow();
});
// node:test ends a file that overruns with a signal; exit normally so the hooks run.
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15]]) {
  if (process.listenerCount(sig) === 0) process.once(sig, () => process.exit(128 + n));
}

class Postgres {
  constructor() {
    this.bin = findBin();
    this.asPostgres = process.getuid?.() === 0;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'sv-nodepg-'));
    if (this.asPostgres) {
      const { uid, gid } = postgresIds();
      chownSync(this.dir, uid, gid);
    }
    this.running = false;
    this.counter = 0;
  }

  // Runs one server tool in the cluster's dir (as postgres when we are root).
  tool(name, args, { timeoutMs = TOOL_TIMEOUT_MS } = {}) {
    const exe = path.join(this.bin, name);
    const [file, argv] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    return new Promise((resolve, reject) => {
      execFile(file, argv, { cwd: this.dir, timeout: timeoutMs, encoding: 'utf8' }, (e, stdout, stderr) => {
        if (e) reject(new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${stderr}${this.log()}`));
        else resolve(stdout);
      });
    });
  }

  log() {
    try {
      return `\n--- server.log ---\n${readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-4000)}`;
    } catch {
      return '';
    }
  }

  get data() {
    return path.join(this.dir, 'data');
  }

  async init() {
    await this.tool('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    this.port = await freePort();
    await this.resume();
    return this;
  }

  // Starts the server (again) on the same port and data; waits until it takes connections.
  async resume() {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    live.add(this);
    this.running = true;
    await this.tool('pg_ctl', ['start', '-w', '-t', '30', '-D', this.data, '-l', path.join(this.dir, 'server.log'), '-o', opts]);
  }

  // Stops the server, keeping its data for resume(): a fast shutdown (clients are
  // cut off at once), or an immediate one when that does not finish in time.
  async halt({ mode = 'fast' } = {}) {
    if (!this.running) return;
    try {
      await this.tool('pg_ctl', ['stop', '-w', '-t', '20', '-m', mode, '-D', this.data]);
    } catch {
      await this.tool('pg_ctl', ['stop', '-w', '-t', '10', '-m', 'immediate', '-D', this.data]);
    }
    this.running = false;
    live.delete(this);
  }

  stop() {
    return this.halt();
  }

  // The synchronous last resort of the exit hook.
  killNow() {
    if (!this.running) return;
    const exe = path.join(this.bin, 'pg_ctl');
    const args = ['stop', '-w', '-t', '10', '-m', 'immediate', '-D', this.data];
    const [file, argv] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    spawnSync(file, argv, { cwd: this.dir, timeout: 15000, stdio: 'ignore' });
    this.running = false;
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  url(db = 'postgres') {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  // A new empty database (name made up when not given); returns its URL.
  async createDb(name = `t${process.pid}_${++this.counter}`) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    await this.query('postgres', `CREATE DATABASE ${name}`);
    return this.url(name);
  }

  // Runs SQL through psql; the rows as arrays of text fields (NULL is '').
  query(db, sql, { timeoutMs = 10000 } = {}) {
    const args = ['-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', db, '-c', sql];
    return new Promise((resolve, reject) => {
      execFile(path.join(this.bin, 'psql'), args, { timeout: timeoutMs, encoding: 'utf8' }, (e, stdout, stderr) => {
        if (e) reject(new Error(`psql: ${sql}: ${stderr || e.message}`));
        else resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')));
      });
    });
  }

  // Stops the server if it runs and removes its dir.
  async cleanup() {
    try {
      await this.halt();
    } finally {
      // A server that would not stop keeps its dir; the exit hook tries again.
      if (!this.running) rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

export async function startPostgres() {
  const pg = new Postgres();
  try {
    return await pg.init();
  } catch (e) {
    await pg.cleanup().catch(() => {});
    throw e;
  }
}
