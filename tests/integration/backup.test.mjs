// `storyverse backup` and `storyverse restore` as a user runs them: a real
// server makes stories, a backup is taken from the command line while it
// keeps serving (and while more stories are being made), the archive is
// restored into a second, empty data dir, and a server there must answer the
// same stories and media byte for byte. Once on SQLite, once on PostgreSQL
// (tests/lib/postgres.mjs). Mistakes on the command line get one line, a
// non-zero exit, and leave no file or folder behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startPostgres } from '../lib/postgres.mjs';
import { Server, loadCatalog, runBin, storyParams } from '../lib/server.mjs';

const catalog = loadCatalog();
const params = (i) => storyParams(catalog, i, 7000);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sv-backuptest-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// Every server a test starts, stopped after it whether it passed or not.
const started = [];
afterEach(async () => {
  await Promise.all(
    started.splice(0).map(async (s) => {
      await s.stop({ timeoutMs: 5000 });
      s.cleanup();
    }),
  );
});

let counter = 0;
const fresh = (name) => path.join(tmp, `${name}-${++counter}`);

function start(server) {
  started.push(server);
  return server.start();
}

const run = (args, timeoutMs = 60000) => runBin(args, timeoutMs);

async function bytes(server, route) {
  const res = await fetch(`${server.url}${route}`, { signal: AbortSignal.timeout(10000) });
  assert.equal(res.status, 200, route);
  return Buffer.from(await res.arrayBuffer());
}

// What a reader gets for each story: the resource and its HTML, as bytes.
async function served(server, ids) {
  const out = {};
  for (const id of ids) {
    out[id] = {
      story: await bytes(server, `/api/v1/stories/${id}`),
      html: await bytes(server, `/api/v1/stories/${id}/media/story.html`),
    };
  }
  return out;
}

// Makes three ready stories, backs up while more are being created, restores
// into an empty data dir, and compares what a server there serves.
async function roundTrip(args = {}) {
  const { src = [], dst = [] } = args;
  const source = await start(new Server({ args: src }));
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const s = await source.createAndWait(params(i));
    assert.equal(s.status, 'ready', JSON.stringify(s));
    assert.ok(s.story && s.parameters);
    ids.push(s.id);
  }
  const archive = fresh('archive') + '.tar.gz';
  const busy = Promise.all([3, 4].map((i) => source.request('POST', '/api/v1/stories', { body: params(i) })));
  const backup = await run(['backup', '--data', source.dataDir, ...src, '--out', archive]);
  assert.equal(backup.status, 0, backup.stderr);
  assert.match(backup.stdout, /^backup: \d+ stories, \d+ blobs -> .*\.tar\.gz\n$/);
  assert.ok(Number(backup.stdout.match(/(\d+) stories/)[1]) >= 3);
  assert.ok(!existsSync(`${archive}.tmp`));
  for (const r of await busy) assert.equal(r.status, 202, r.text);
  const before = await served(source, ids);

  const data = fresh('restored');
  const restore = await run(['restore', '--data', data, ...dst, '--in', archive]);
  assert.equal(restore.status, 0, restore.stderr);
  assert.match(restore.stdout, /^restore: \d+ stories, \d+ blobs <- /);
  const target = await start(new Server({ dataDir: data, args: dst }));
  const afterRestore = await served(target, ids);
  for (const id of ids) {
    assert.ok(afterRestore[id].story.equals(before[id].story), `story ${id}`);
    assert.ok(afterRestore[id].html.equals(before[id].html), `story.html of ${id}`);
    const json = JSON.parse(afterRestore[id].story);
    assert.deepEqual(json.parameters, JSON.parse(before[id].story).parameters);
  }
  // The restored system carries on: stories caught mid-way finish, new ones are made.
  const more = await target.createAndWait(params(5));
  assert.equal(more.status, 'ready');
  const again = await run(['restore', '--data', data, ...dst, '--in', archive]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^storyverse restore: restore needs an empty database.*\n$/);
}

test('a backup taken while the server runs restores byte-identical stories (SQLite)', async () => {
  await roundTrip();
});

describe('on PostgreSQL', () => {
  let pg;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.cleanup();
  });

  test('a backup taken while the server runs restores byte-identical stories', async () => {
    const src = ['--database', await pg.createDb()];
    const dst = ['--database', await pg.createDb()];
    await roundTrip({ src, dst });
  });

  test('a PostgreSQL backup is refused by a SQLite data dir, leaving nothing', async () => {
    const url = await pg.createDb();
    const source = await start(new Server({ args: ['--database', url] }));
    await source.createAndWait(params(0));
    const archive = fresh('pg') + '.tar.gz';
    assert.equal((await run(['backup', '--data', source.dataDir, '--database', url, '--out', archive])).status, 0);
    const data = fresh('wrong-kind');
    const r = await run(['restore', '--data', data, '--in', archive]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^storyverse restore: .*postgres.*sqlite.*\n$/);
    assert.ok(!existsSync(data));
  });
});

// One line on stderr, a non-zero exit, nothing new on disk.
function assertRefused(r, status, pattern) {
  assert.equal(r.status, status, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

test('command-line mistakes are one line and leave nothing behind', async () => {
  const data = fresh('nothing');
  const out = fresh('out') + '.tar.gz';
  assertRefused(await run(['backup', '--data', data]), 2, /^storyverse backup: --out FILE is required/);
  assertRefused(await run(['restore', '--data', data]), 2, /^storyverse restore: --in FILE is required/);
  assertRefused(await run(['backup', '--data', data, '--out', out, 'extra']), 2, /unexpected argument/);
  assertRefused(await run(['backup', '--data', data, '--out', out, '--listen', 'x']), 2, /unknown option/);
  assertRefused(await run(['backup', '--data', data, '--out', out]), 1, /^storyverse backup: no database at /);
  assertRefused(await run(['restore', '--data', data, '--in', fresh('missing')]), 1, /^storyverse restore: cannot open .*No such file/);
  const junk = fresh('junk');
  writeFileSync(junk, 'this is not an archive\n');
  assertRefused(await run(['restore', '--data', data, '--in', junk]), 1, /^storyverse restore: .* is not a StoryVerse backup/);
  assert.ok(!existsSync(data));
  assert.ok(!existsSync(out));

  // A backup into a folder that is not there: no archive, no half archive.
  const source = await start(new Server());
  await source.createAndWait(params(0));
  const nowhere = path.join(fresh('no-such-dir'), 'b.tar.gz');
  assertRefused(await run(['backup', '--data', source.dataDir, '--out', nowhere]), 1, /^storyverse backup: cannot create /);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('no-such-dir')), []);
  assert.equal(readdirSync(source.dataDir).filter((f) => f.endsWith('.tmp')).length, 0);
});
