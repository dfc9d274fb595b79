// Roles as processes: a gateway-only server (serve --roles gateway,story) and
// separate `storyverse worker` processes on the same SQLite file. Stories
// created through the gateway are written by the workers; a worker killed
// outright loses its leases to the next one, while one that is only slow
// keeps them with heartbeats; two workers never write a story
// twice; bad flags are one-line usage errors; migrate reports the schema.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Server, loadCatalog, storyParams, waitFor } from '../lib/server.mjs';

const catalog = loadCatalog();
const params = (i = 0) => storyParams(catalog, i, 1000);

// The gateway also runs the image stage, so the text workers' stories get finished.
const gatewayOn = (dataDir) => new Server({ dataDir, args: ['--roles', 'gateway,story,image'] });
const workerOn = (dataDir, args = [], env = {}) =>
  new Server({ dataDir, command: 'worker', args: ['--kind', 'text', ...args], env });

async function create(gateway, p) {
  const r = await gateway.request('POST', '/api/v1/stories', { body: p });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

async function waitReady(gateway, id, timeoutMs = 30000) {
  return waitFor(
    async () => {
      const r = await gateway.request('GET', `/api/v1/stories/${id}`);
      return ['ready', 'failed'].includes(r.json?.status) ? r.json : null;
    },
    { timeoutMs, what: `story ${id}` },
  );
}

function assertPagesOnce(story) {
  assert.equal(story.status, 'ready', JSON.stringify(story.error));
  const numbers = story.story.pages.map((p) => p.number);
  assert.ok(numbers.length > 0);
  assert.deepEqual(numbers, numbers.map((_, i) => i + 1), `pages of ${story.id}`);
}

// The value of one series in a Prometheus text page (0 when absent).
function metric(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function stopClean(server) {
  const exit = await server.stop();
  assert.equal(exit.code, 0, server.stderr);
}

describe('a gateway and a separate worker', () => {
  let dataDir;
  let gateway;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sv-roles-'));
    gateway = await gatewayOn(dataDir).start();
  });

  after(async () => {
    await stopClean(gateway);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the gateway alone takes a story but does not write it; a worker does', async () => {
    const id = await create(gateway, params(0));
    await new Promise((r) => setTimeout(r, 1200));
    const waiting = await gateway.request('GET', `/api/v1/stories/${id}`);
    assert.equal(waiting.json.status, 'queued');
    const queued = (await gateway.request('GET', '/metrics')).text;
    assert.equal(metric(queued, 'storyverse_jobs_queued{kind="text"}'), 1);

    const worker = await workerOn(dataDir).start();
    assertPagesOnce(await waitReady(gateway, id));
    const m = (await worker.request('GET', '/metrics')).text;
    assert.equal(metric(m, 'storyverse_job_attempts_total{kind="text",outcome="succeeded"}'), 1);
    assert.equal(metric(m, 'storyverse_job_duration_seconds_count{kind="text"}'), 1);
    assert.match(m, /# TYPE storyverse_jobs_dead_letter_total counter/);
    assert.match(m, /storyverse_jobs_queued\{kind="text"\} 0/);
    assert.equal((await worker.request('GET', '/readyz')).json.status, 'ready');
    assert.equal((await worker.request('GET', '/api/v1/catalog')).status, 404);
    await stopClean(worker);
    assert.match(worker.stderr, /"msg":"stopped"/);
  });

  test('a worker killed in the middle of a job loses its lease; the next one finishes every story', async () => {
    // The fault hook holds the first worker between storing the pages and completing the job.
    const first = await workerOn(dataDir, ['--lease-seconds', '1', '--concurrency', '1'], {
      STORYVERSE_FAULT_JOB_DELAY_MS: '60000',
    }).start();
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await create(gateway, params(i)));
    await waitFor(
      async () => (await gateway.request('GET', `/api/v1/stories/${ids[0]}`)).json.status === 'generating',
      { what: 'the first worker to take a job' },
    );
    first.proc.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const second = await workerOn(dataDir, ['--lease-seconds', '1']).start();
    for (const id of ids) assertPagesOnce(await waitReady(gateway, id));
    const m = (await second.request('GET', '/metrics')).text;
    assert.equal(metric(m, 'storyverse_job_attempts_total{kind="text",outcome="succeeded"}'), ids.length);
    await stopClean(second);
  });

  test('a job longer than its lease stays with its worker: the heartbeat extends the lease', async () => {
    const slow = await workerOn(dataDir, ['--lease-seconds', '1', '--concurrency', '1'], {
      STORYVERSE_FAULT_JOB_DELAY_MS: '3000',
    }).start();
    const id = await create(gateway, params(60));
    await waitFor(
      async () => (await gateway.request('GET', `/api/v1/stories/${id}`)).json.status === 'generating',
      { what: 'the slow worker to take the job' },
    );
    // Without heartbeats this one would take the job over once the first second lapsed.
    const other = await workerOn(dataDir, ['--lease-seconds', '1']).start();
    assertPagesOnce(await waitReady(gateway, id));
    const ok = 'storyverse_job_attempts_total{kind="text",outcome="succeeded"}';
    const lost = 'storyverse_job_attempts_total{kind="text",outcome="lease_lost"}';
    const slowMetrics = (await slow.request('GET', '/metrics')).text;
    const otherMetrics = (await other.request('GET', '/metrics')).text;
    assert.equal(metric(slowMetrics, ok), 1);
    assert.equal(metric(slowMetrics, lost), 0);
    assert.equal(metric(otherMetrics, ok), 0);
    await Promise.all([stopClean(slow), stopClean(other)]);
  });

  test('SIGTERM lets a worker finish the job in hand, then it exits 0', async () => {
    const worker = await workerOn(dataDir, ['--concurrency', '1'], { STORYVERSE_FAULT_JOB_DELAY_MS: '1500' }).start();
    const id = await create(gateway, params(50));
    await waitFor(
      async () => (await gateway.request('GET', `/api/v1/stories/${id}`)).json.status === 'generating',
      { what: 'the worker to take the job' },
    );
    await stopClean(worker);
    assertPagesOnce(await waitReady(gateway, id));
  });

  test('20 concurrent stories and two workers: each written exactly once', async () => {
    const workers = await Promise.all([workerOn(dataDir).start(), workerOn(dataDir).start()]);
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => create(gateway, params(100 + i))));
    assert.equal(new Set(ids).size, 20);
    for (const id of ids) assertPagesOnce(await waitReady(gateway, id));
    let done = 0;
    for (const w of workers) {
      const m = (await w.request('GET', '/metrics')).text;
      done += metric(m, 'storyverse_job_attempts_total{kind="text",outcome="succeeded"}');
      assert.equal(metric(m, 'storyverse_job_attempts_total{kind="text",outcome="lease_lost"}'), 0);
    }
    assert.equal(done, 20);
    for (const w of workers) await stopClean(w);
  });
});

describe('usage errors and migrate', () => {
  const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 10000 });

  for (const [what, args, pattern] of [
    ['an unknown role', ['serve', '--roles', 'gateway,nope'], /--roles: unknown role 'nope'/],
    ['an empty role', ['serve', '--roles', ''], /--roles/],
    ['an unknown kind', ['worker', '--kind', 'paint'], /--kind: unknown kind 'paint'/],
    ['no kind', ['worker'], /--kind/],
    ['a zero concurrency', ['worker', '--kind', 'text', '--concurrency', '0'], /--concurrency/],
    ['a wordy concurrency', ['worker', '--kind', 'text', '--concurrency', 'two'], /--concurrency/],
    ['a zero lease', ['worker', '--kind', 'text', '--lease-seconds', '0'], /--lease-seconds/],
  ]) {
    test(`${what} is exit 2 with one line`, () => {
      const r = run(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  test('worker --help and migrate --help describe their options', () => {
    assert.match(run('worker', '--help').stdout, /--concurrency/);
    assert.match(run('migrate', '--help').stdout, /--database/);
    assert.match(run('serve', '--help').stdout, /--roles/);
  });

  test('migrate brings a new database up to date, and again', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sv-migrate-'));
    try {
      for (let i = 0; i < 2; i++) {
        const r = run('migrate', '--database', `sqlite:${dir}/sv.db`);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /schema up to date at version [1-9]\d*\n$/);
      }
      const bad = run('migrate', '--database', 'nosuch://x');
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--database/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
