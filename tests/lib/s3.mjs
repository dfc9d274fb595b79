// Starts a real S3-compatible server (s3rver from node_modules) on a free
// loopback port with one bucket, its data in a temporary folder, for the
// integration tests. Pass `url` as the blob store URL and `env` into the
// storyverse process's environment. Every wait is bounded.
//
// s3rver runs through its own API in a child node process rather than in the
// test process: it encrypts ListObjectsV2 continuation tokens with DES, which
// Node's OpenSSL 3 only has behind --openssl-legacy-provider (without it any
// listing past 1000 keys answers HTTP 500), and a child also cannot leak
// sockets or timers into the test runner.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(ROOT, 'package.json'));

const CHILD = `
const S3rver = require(process.env.S3RVER_MAIN);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.env.S3RVER_DIR,
  configureBuckets: [{ name: process.env.S3RVER_BUCKET, configs: [] }],
});
server.run().then(
  ({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'),
  (err) => { console.error(err); process.exit(1); },
);
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
`;

const running = new Set();
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

function waitForPort(proc, timeoutMs) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => done(new Error(`s3rver did not start in ${timeoutMs} ms: ${err}`)), timeoutMs);
    function done(e, port) {
      clearTimeout(timer);
      proc.stdout.removeAllListeners('data');
      proc.removeAllListeners('exit');
      if (e) reject(e);
      else resolve(port);
    }
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) done(null, JSON.parse(out.slice(0, nl)).port);
    });
    proc.on('exit', (code) => done(new Error(`s3rver exited with ${code}: ${err}`)));
  });
}

function stopChild(proc, timeoutMs) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

// Returns { url, env, endpoint, bucket, stop() }; stop() kills the server and removes its data.
export async function startS3({ bucket = 'storyverse-test', timeoutMs = 20000 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sv-s3-'));
  const proc = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    env: {
      ...process.env,
      S3RVER_MAIN: require.resolve('s3rver'),
      S3RVER_DIR: dir,
      S3RVER_BUCKET: bucket,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let port;
  try {
    port = await waitForPort(proc, timeoutMs);
  } catch (e) {
    await stopChild(proc, 5000);
    running.delete(proc);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    bucket,
    endpoint,
    url: `s3://${bucket}?endpoint=${endpoint}&region=us-east-1`,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    async stop() {
      await stopChild(proc, 5000);
      running.delete(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
