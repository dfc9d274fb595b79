// The roles as processes on a real PostgreSQL (started by tests/lib/postgres.mjs,
// nothing mocked): migrate brings a fresh database up, idempotently and from
// several processes at once; a gateway and two workers write 50 concurrent
// stories each exactly once; a worker killed in the middle of a job loses its
// lease to another, while a live worker keeps a job that outlasts its lease;
// the database going away and coming back loses no story, crashes no process
// and breaks no progress stream, and /readyz follows it; /metrics shows the
// queue as the database has it. Every test gets its own database and data
// dir; every wait is bounded; processes and dirs go even when a test fails.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startPostgres } from '../lib/postgres.mjs';
import { Server, loadCatalog, runBin, sleep, storyParams, waitFor } from '../lib/server.mjs';

const catalog = loadCatalog();
const params = (i = 0) => storyParams(catalog, i, 3000);

let pg;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.cleanup();
});

// Every process a test starts, stopped after the test whether it passed or
// not (SIGKILL when SIGTERM is not enough); then the test's data dirs go.
const started = [];
const dirs = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop({ timeoutMs: 5000 })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
// If the test process dies first, server.mjs kills the processes; their dirs go here.
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The processes of one test share a data dir, as they would share a volume
// (or S3) in production: the blobs a worker stores are the ones the gateway serves.
function dataDir() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'sv-pgroles-'));
  dirs.push(d);
  return d;
}

function start(server) {
  started.push(server);
  return server.start();
}

const gatewayOn = (url, data) =>
  // The gateway also draws (the image stage), so the text workers' stories get finished.
  start(new Server({ dataDir: data, args: ['--roles', 'gateway,story,image', '--database', url] }));
const workerOn = (url, data, args = [], env = {}) =>
  start(new Server({ dataDir: data, command: 'worker', args: ['--kind', 'text', '--database', url, ...args], env }));

const dbName = (url) => new URL(url).pathname.slice(1);

const run = (args, timeoutMs = 20000) => runBin(args, timeoutMs);

async function create(gateway, p) {
  const r = await gateway.request('POST', '/api/v1/stories', { body: p });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

const getStory = async (gateway, id) => (await gateway.request('GET', `/api/v1/stories/${id}`)).json;

// Opens a story's Server-Sent Events; `ended` resolves with the events (each
// with the time it came) once the stream ends, bounded by timeoutMs. Wrapped
// in an object so that awaiting the opening does not wait for the end.
async function followEvents(server, id, timeoutMs = 30000) {
  const res = await fetch(`${server.url}/api/v1/stories/${id}/events`, { signal: AbortSignal.timeout(timeoutMs) });
  assert.equal(res.status, 200);
  const ended = (async () => {
    const events = [];
    let buf = '';
    for await (const chunk of res.body) {
      buf += Buffer.from(chunk).toString();
      for (let i; (i = buf.indexOf('\n\n')) >= 0; buf = buf.slice(i + 2)) {
        const block = buf.slice(0, i);
        const event = block.match(/^event: (.*)$/m)?.[1];
        const data = block.match(/^data: (.*)$/m)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
      }
    }
    return events;
  })();
  return { ended };
}

// Waits for every story to end (ready or failed); polls them all at once.
async function waitAllEnded(gateway, ids, timeoutMs) {
  const ended = new Map();
  await waitFor(
    async () => {
      await Promise.all(
        ids
          .filter((id) => !ended.has(id))
          .map(async (id) => {
            const s = await getStory(gateway, id);
            if (['ready', 'failed'].includes(s?.status)) ended.set(id, s);
          }),
      );
      return ended.size === ids.length;
    },
    { timeoutMs, intervalMs: 200, what: `${ids.length} stories (${ended.size} ended)` },
  );
  return ids.map((id) => ended.get(id));
}

function assertPagesOnce(story) {
  assert.equal(story.status, 'ready', `${story.id}: ${JSON.stringify(story.error)}`);
  const numbers = story.story.pages.map((p) => p.number);
  assert.ok(numbers.length > 0, `${story.id} has no pages`);
  assert.deepEqual(numbers, numbers.map((_, i) => i + 1), `pages of ${story.id}`);
}

// What the database itself says about the stories: each ready with one done
// text job and its pages stored once each, 1..N, as many as the API shows;
// no job anywhere dead or left queued/running.
async function assertDatabase(url, stories) {
  const db = dbName(url);
  const rows = await pg.query(
    db,
    `SELECT s.id, s.status,
            (SELECT count(*) FROM jobs j WHERE j.story_id = s.id AND j.kind = 'text' AND j.state = 'done'),
            (SELECT count(*) FROM pages p WHERE p.story_id = s.id),
            (SELECT count(DISTINCT number) FROM pages p WHERE p.story_id = s.id),
            (SELECT coalesce(min(number), 0) || '-' || coalesce(max(number), 0) FROM pages p WHERE p.story_id = s.id)
       FROM stories s`,
  );
  const byId = new Map(rows.map((r) => [r[0], r]));
  for (const story of stories) {
    const row = byId.get(story.id);
    assert.ok(row, `${story.id} is not in the database`);
    const [, status, doneJobs, pages, distinct, range] = row;
    const n = story.story.pages.length;
    assert.equal(status, 'ready', story.id);
    assert.equal(doneJobs, '1', `${story.id}: done text jobs`);
    assert.equal(pages, distinct, `${story.id}: duplicate page numbers`);
    assert.equal(Number(pages), n, `${story.id}: stored pages vs the story's`);
    assert.equal(range, `1-${n}`, `${story.id}: page numbers`);
  }
  // Nothing half made either: no story row beyond these (a refused create leaves none).
  assert.deepEqual(await pg.query(db, 'SELECT count(*) FROM stories'), [[String(stories.length)]]);
  const states = Object.fromEntries(await pg.query(db, 'SELECT state, count(*) FROM jobs GROUP BY state'));
  // Words only (the servers run --no-images): one job a story.
  assert.deepEqual(states, { done: String(stories.length) }, `job states ${JSON.stringify(states)}`);
}

// The value of one series in a Prometheus text page (0 when absent).
function metric(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const SUCCEEDED = 'storyverse_job_attempts_total{kind="text",outcome="succeeded"}';
const LEASE_LOST = 'storyverse_job_attempts_total{kind="text",outcome="lease_lost"}';
const QUEUED = 'storyverse_jobs_queued{kind="text"}';

async function stopClean(server) {
  const exit = await server.stop();
  assert.equal(exit.code, 0, server.stderr);
}

test('migrate brings a fresh PostgreSQL database up to date, and again', async () => {
  const url = await pg.createDb();
  let version;
  for (let i = 0; i < 2; i++) {
    const r = await run(['migrate', '--database', url]);
    assert.equal(r.status, 0, r.stderr);
    const m = r.stdout.match(/schema up to date at version ([1-9]\d*)\n$/);
    assert.ok(m, r.stdout);
    if (version !== undefined) assert.equal(m[1], version, 'the second run changed the version');
    version = m[1];
  }
  // Each version applied once, and the tables the roles use are there.
  const applied = await pg.query(dbName(url), 'SELECT count(*), max(version) FROM schema_migrations');
  assert.deepEqual(applied, [[version, version]]);
  const tables = await pg.query(
    dbName(url),
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  );
  for (const t of ['jobs', 'pages', 'schema_migrations', 'stories']) assert.ok(tables.flat().includes(t), t);

  // Pods starting together all migrate at open: they take turns, and all succeed.
  const fresh = await pg.createDb();
  const together = await Promise.all([0, 1, 2].map(() => run(['migrate', '--database', fresh])));
  for (const r of together) assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await pg.query(dbName(fresh), 'SELECT count(*) FROM schema_migrations'), [[version]]);
});

describe('a gateway and two workers on PostgreSQL', () => {
  let url;
  let gateway;
  let workers = [];
  let data;

  // One set of processes for both tests below (the metrics test reads what the
  // first left), so they are stopped after the suite rather than after each test.
  before(async () => {
    url = await pg.createDb();
    data = mkdtempSync(path.join(os.tmpdir(), 'sv-pgroles-'));
    gateway = new Server({ dataDir: data, args: ['--roles', 'gateway,story,image', '--database', url] });
    workers = [0, 1].map(() => new Server({ dataDir: data, command: 'worker', args: ['--kind', 'text', '--database', url] }));
    await Promise.all([gateway, ...workers].map((s) => s.start()));
  });
  after(async () => {
    await Promise.all([gateway, ...workers].filter(Boolean).map((s) => s.stop({ timeoutMs: 5000 })));
    rmSync(data, { recursive: true, force: true });
  });

  test('50 concurrent stories: every one ready, each written exactly once', async () => {
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => create(gateway, params(100 + i))));
    assert.equal(new Set(ids).size, 50);
    const stories = await waitAllEnded(gateway, ids, 40000);
    stories.forEach(assertPagesOnce);
    await assertDatabase(url, stories);
    let done = 0;
    for (const w of workers) {
      const m = (await w.request('GET', '/metrics')).text;
      done += metric(m, SUCCEEDED);
      assert.equal(metric(m, LEASE_LOST), 0);
    }
    assert.equal(done, 50, 'succeeded attempts over both workers');
  });

  test('/metrics on the gateway and a worker: the queue as the database has it, and the attempts', async () => {
    for (const s of [gateway, workers[0]]) {
      const m = (await s.request('GET', '/metrics')).text;
      assert.match(m, /# TYPE storyverse_jobs_queued gauge/);
      assert.match(m, /# TYPE storyverse_job_attempts_total counter/);
      assert.match(m, /^storyverse_jobs_queued\{kind="text"\} 0$/m);
    }
    assert.ok(metric((await workers[0].request('GET', '/metrics')).text, SUCCEEDED) > 0);

    // With no worker left, new stories wait in the queue, and every process counts them there.
    for (const w of workers) await stopClean(w);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await create(gateway, params(200 + i)));
    assert.equal(metric((await gateway.request('GET', '/metrics')).text, QUEUED), 3);
    // A worker that holds its one job open: the other two are still queued, and it says so.
    const late = await workerOn(url, data, ['--concurrency', '1'], { STORYVERSE_FAULT_JOB_DELAY_MS: '60000' });
    await waitFor(async () => metric((await late.request('GET', '/metrics')).text, QUEUED) === 2, {
      what: 'the late worker to take a job',
    });
    assert.equal(metric((await gateway.request('GET', '/metrics')).text, QUEUED), 2);
    late.proc.kill('SIGKILL'); // rather than wait for the held job: this database is not used again
  });
});

test('a worker killed in the middle of a job loses its lease; another finishes every story once', async () => {
  const url = await pg.createDb();
  const data = dataDir();
  const gateway = await gatewayOn(url, data);
  // The fault delay holds the job between storing its pages and completing it.
  const first = await workerOn(url, data, ['--lease-seconds', '2', '--concurrency', '1'], {
    STORYVERSE_FAULT_JOB_DELAY_MS: '3000',
  });
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await create(gateway, params(300 + i)));
  const db = dbName(url);
  // Killed once its pages are stored and its job is still running: the worst moment.
  const [[victim]] = await waitFor(
    async () => {
      const rows = await pg.query(
        db,
        "SELECT j.story_id FROM jobs j WHERE j.state = 'running' AND EXISTS (SELECT 1 FROM pages p WHERE p.story_id = j.story_id)",
      );
      return rows.length ? rows : null;
    },
    { what: 'the first worker to be in the middle of a job' },
  );
  first.proc.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  assert.deepEqual(await pg.query(db, `SELECT state FROM jobs WHERE story_id = '${victim}'`), [['running']]);

  const second = await workerOn(url, data, ['--lease-seconds', '2']);
  const stories = await waitAllEnded(gateway, ids, 20000);
  stories.forEach(assertPagesOnce);
  await assertDatabase(url, stories);
  // The killed attempt counts: the victim's job ran twice, the others once.
  const attempts = Object.fromEntries(await pg.query(db, 'SELECT story_id, attempts FROM jobs'));
  for (const id of ids) assert.equal(attempts[id], id === victim ? '2' : '1', `attempts of ${id}`);
  const m = (await second.request('GET', '/metrics')).text;
  assert.equal(metric(m, SUCCEEDED), ids.length);
  assert.equal(metric(m, LEASE_LOST), 0);
  await stopClean(second);
});

test('a job that outlasts its lease stays with the live worker doing it: no second worker takes it', async () => {
  const url = await pg.createDb();
  const db = dbName(url);
  const data = dataDir();
  const gateway = await gatewayOn(url, data);
  // Four lease lengths of work: only the worker's heartbeat keeps the job its own.
  const slow = await workerOn(url, data, ['--lease-seconds', '1', '--concurrency', '1'], {
    STORYVERSE_FAULT_JOB_DELAY_MS: '4000',
  });
  const id = await create(gateway, params(350));
  await waitFor(async () => (await pg.query(db, "SELECT 1 FROM jobs WHERE state = 'running'")).length > 0, {
    what: 'the slow worker to take the job',
  });
  const other = await workerOn(url, data, ['--lease-seconds', '1']);
  const [story] = await waitAllEnded(gateway, [id], 15000);
  assertPagesOnce(story);
  await assertDatabase(url, [story]);
  assert.deepEqual(await pg.query(db, 'SELECT attempts FROM jobs'), [['1']], 'the job was taken twice');
  const m = (await slow.request('GET', '/metrics')).text;
  assert.equal(metric(m, SUCCEEDED), 1);
  assert.equal(metric(m, LEASE_LOST), 0);
  assert.equal(metric((await other.request('GET', '/metrics')).text, SUCCEEDED), 0);
  for (const w of [slow, other]) await stopClean(w);
});

test('PostgreSQL going away and coming back: no story lost, no process down, /readyz follows it', async () => {
  const url = await pg.createDb();
  const db = dbName(url);
  const data = dataDir();
  const gateway = await gatewayOn(url, data);
  // Short jobs held open a little so that some are in flight when the database goes;
  // a short lease so that a job whose completion could not be recorded is soon taken again.
  const env = { STORYVERSE_FAULT_JOB_DELAY_MS: '400' };
  const workers = await Promise.all([0, 1].map(() => workerOn(url, data, ['--lease-seconds', '3'], env)));
  const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => create(gateway, params(400 + i))));
  await waitFor(async () => (await pg.query(db, "SELECT 1 FROM jobs WHERE state = 'running'")).length > 0, {
    what: 'a job in flight',
  });
  // A progress stream on a story still waiting: it must see the story through the outage.
  const waiting = await pg.query(db, "SELECT story_id FROM jobs WHERE state = 'queued' ORDER BY id DESC LIMIT 1");
  assert.equal(waiting.length, 1, 'no story left waiting to follow');
  const followed = waiting[0][0];
  const streamed = (await followEvents(gateway, followed)).ended;
  streamed.catch(() => {}); // awaited below; a test that fails first must not leave it unhandled

  await pg.halt();
  const downAt = Date.now();
  try {
    for (const s of [gateway, ...workers]) {
      const r = await waitFor(
        async () => {
          const res = await s.request('GET', '/readyz');
          return res.status === 503 ? res : null;
        },
        { timeoutMs: 5000, what: `/readyz 503 on port ${s.port}` },
      );
      assert.equal(r.json.status, 'unavailable');
    }
    // The API says so too, rather than hanging or crashing.
    assert.equal((await gateway.request('GET', `/api/v1/stories/${ids[0]}`)).status, 503);
    const refused = await gateway.request('POST', '/api/v1/stories', { body: params(499) });
    assert.equal(refused.status, 503, refused.text);
    assert.equal((await gateway.request('GET', '/healthz')).status, 200);
    await sleep(Math.max(0, 2000 - (Date.now() - downAt)));
  } finally {
    await pg.resume();
  }
  const upAt = Date.now();

  for (const s of [gateway, ...workers]) {
    const { exitCode, signalCode } = s.proc;
    assert.deepEqual({ exitCode, signalCode }, { exitCode: null, signalCode: null }, `a process died in the outage:\n${s.stderr}`);
    await waitFor(async () => (await s.request('GET', '/readyz')).status === 200, {
      timeoutMs: 10000,
      what: `/readyz 200 again on port ${s.port}`,
    });
  }
  const stories = await waitAllEnded(gateway, ids, 30000);
  stories.forEach(assertPagesOnce);
  await assertDatabase(url, stories);
  const events = await streamed;
  assert.equal(events.at(-1)?.event, 'ready', JSON.stringify(events));
  assert.equal(events.filter((e) => e.event === 'ready').length, 1);
  assert.ok(events.at(-1).at >= upAt, 'the followed story was ready before the outage: it proves nothing');
  const pages = events.filter((e) => e.event === 'page').map((e) => e.data.number);
  const n = stories[ids.indexOf(followed)].story.pages.length;
  assert.deepEqual(pages, Array.from({ length: n }, (_, i) => i + 1), 'page events of the followed story');
  for (const w of workers) await stopClean(w);
  await stopClean(gateway);
});
