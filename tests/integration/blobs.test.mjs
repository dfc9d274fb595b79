// Blobs: the files of a story (its HTML page today) kept content-addressed in
// the blob store, on disk or on a real S3-compatible server (s3rver), served
// at /api/v1/stories/{id}/media; and what a failing blob write does to a job:
// it fails, leaves nothing half-written, retries, and a healthy worker
// finishes the story.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startPostgres } from '../lib/postgres.mjs';
import { startS3 } from '../lib/s3.mjs';
import { BIN, Server, loadCatalog, storyParams, waitFor } from '../lib/server.mjs';

const catalog = loadCatalog();
const params = (i = 0) => ({ ...storyParams(catalog, i, 5000), child_name: 'Ada' });
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const dirs = [];
const started = [];
const tempDir = (name) => {
  const d = mkdtempSync(path.join(os.tmpdir(), `sv-${name}-`));
  dirs.push(d);
  return d;
};
const start = async (server) => {
  started.push(server);
  return server.start();
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop({ timeoutMs: 5000 })));
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The bytes of a media file, as the server sends them.
async function media(server, id, name, headers = {}) {
  const res = await fetch(`${server.url}/api/v1/stories/${id}/media/${name}`, {
    headers,
    signal: AbortSignal.timeout(10000),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

// story.html as `generate` writes it for the same parameters: the reference bytes.
function generatedHtml(p, { images = true } = {}) {
  const out = tempDir('gen');
  const r = spawnSync(
    BIN,
    ['generate', '--universe', p.universe, '--hero', p.hero, '--seed', String(p.seed), '--name', p.child_name, '--out', out,
      ...(images ? [] : ['--no-images'])],
    { encoding: 'utf8', timeout: 30000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(path.join(out, 'story.html'));
}

// Every file under dir, relative, sorted.
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

describe('media on the file blob store', () => {
  let server;
  before(async () => {
    server = await new Server({ images: true }).start();
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('a ready story lists its page and pictures, each stored once under its SHA-256 and served byte for byte', async () => {
    const p = params(0);
    const story = await server.createAndWait(p);
    assert.equal(story.status, 'ready', story.error);
    const list = await server.request('GET', `/api/v1/stories/${story.id}/media`);
    assert.equal(list.status, 200, list.text);
    const pages = story.story.pages.length;
    // story.html, the cover and each page, each picture with its thumbnail.
    assert.equal(list.json.media.length, 1 + 2 * (1 + pages), list.text);
    const entry = list.json.media.find((m) => m.name === 'story.html');
    assert.equal(entry.name, 'story.html');
    assert.equal(entry.content_type, 'text/html; charset=utf-8');
    assert.equal(entry.url, `/api/v1/stories/${story.id}/media/story.html`);

    const got = await media(server, story.id, 'story.html');
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(got.headers.get('etag'), `"${entry.blob}"`);
    assert.equal(sha256(got.bytes), entry.blob);
    assert.equal(got.bytes.length, entry.size);
    assert.deepEqual(got.bytes, generatedHtml(p), 'the server writes what generate writes');
    const blobs = filesUnder(path.join(server.dataDir, 'blobs'));
    assert.equal(blobs.length, new Set(list.json.media.map((m) => m.blob)).size);
    assert.ok(blobs.includes(`${entry.blob.slice(0, 2)}/${entry.blob}`));

    // Every picture is a PNG the page names, served under images/.
    for (const m of list.json.media.filter((x) => x.name.startsWith('images/'))) {
      assert.equal(m.content_type, 'image/png');
      const png = await media(server, story.id, m.name);
      assert.equal(png.status, 200, m.name);
      assert.equal(png.headers.get('content-type'), 'image/png');
      assert.deepEqual(png.bytes.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      assert.equal(sha256(png.bytes), m.blob);
    }
    assert.ok(got.bytes.toString().includes('src="images/page-01.png"'), 'the page shows the pictures');

    // The same story again is the same blobs, not second copies.
    const twin = await server.createAndWait(p);
    const twinList = await server.request('GET', `/api/v1/stories/${twin.id}/media`);
    assert.deepEqual(twinList.json.media.map((m) => m.blob), list.json.media.map((m) => m.blob));
    assert.equal(filesUnder(path.join(server.dataDir, 'blobs')).length, blobs.length);

    const again = await media(server, story.id, 'story.html', { 'If-None-Match': `"${entry.blob}"` });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
  });

  test('unknown stories, unknown names and odd names are 404s naming the field', async () => {
    const story = await server.createAndWait(params(1));
    const cases = [
      [`/api/v1/stories/${'0'.repeat(32)}/media`, 'id'],
      [`/api/v1/stories/nope/media/story.html`, 'id'],
      [`/api/v1/stories/${story.id}/media/cover.png`, 'name'],
      [`/api/v1/stories/${story.id}/media/images/page-99.png`, 'name'],
      [`/api/v1/stories/${story.id}/media/secrets/page-01.png`, 'name'],
      [`/api/v1/stories/${story.id}/media/..story.html`, 'name'],
      [`/api/v1/stories/${story.id}/media/STORY.HTML`, 'name'],
      [`/api/v1/stories/${story.id}/media/${'a'.repeat(200)}`, 'name'],
    ];
    for (const [route, field] of cases) {
      const r = await server.request('GET', route);
      assert.equal(r.status, 404, route);
      assert.equal(r.json.error.code, 'not_found');
      assert.equal(r.json.error.field, field, route);
    }
  });

  test('a bad --blobs URL is one line and exit 2', () => {
    for (const url of ['nowhere', 'ftp://x', 's3://Bad_Bucket?region=us-east-1']) {
      const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data', tempDir('bad'), '--blobs', url], {
        encoding: 'utf8',
        timeout: 10000,
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' },
      });
      assert.equal(r.status, 2, `${url}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^storyverse serve: --blobs: /);
    }
  });
});

describe('media on S3 (s3rver)', () => {
  let s3;
  before(async () => {
    s3 = await startS3({ bucket: 'stories' });
  });
  after(async () => {
    await s3?.stop();
  });

  test('a gateway and a worker share the bucket; the page is the same bytes as on disk', async () => {
    // Words only: the page is the one file, and generate --no-images writes the same.
    const data = tempDir('s3');
    const args = ['--blobs', s3.url];
    const gateway = await start(new Server({ dataDir: data, args: ['--roles', 'gateway,story', ...args], env: s3.env }));
    await start(new Server({ dataDir: data, command: 'worker', args: ['--kind', 'text', ...args], env: s3.env }));
    const p = params(2);
    const story = await gateway.createAndWait(p);
    assert.equal(story.status, 'ready', story.error);
    const got = await media(gateway, story.id, 'story.html');
    assert.equal(got.status, 200);
    assert.deepEqual(got.bytes, generatedHtml(p, { images: false }));
    const key = sha256(got.bytes);
    assert.equal(got.headers.get('etag'), `"${key}"`);
    // Nothing went to disk: the bucket has it.
    assert.deepEqual(readdirSync(data).filter((f) => f === 'blobs'), []);
    const direct = await fetch(`${s3.endpoint}/stories/${key}`);
    assert.equal(direct.status, 200);
    assert.deepEqual(Buffer.from(await direct.arrayBuffer()), got.bytes);
  });

  test('without credentials a process refuses to start, in one line', () => {
    const env = { ...process.env };
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const r = spawnSync(BIN, ['worker', '--kind', 'text', '--data', tempDir('nocred'), '--blobs', s3.url], {
      encoding: 'utf8',
      timeout: 10000,
      env,
    });
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /AWS_ACCESS_KEY_ID/);
  });
});

describe('a blob write that fails with an I/O error', () => {
  let pg;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.cleanup();
  });

  test('the job fails and retries, nothing half-written is kept, and a healthy worker finishes it', async () => {
    const database = await pg.createDb();
    const data = tempDir('eio');
    const blobs = path.join(data, 'blobs');
    const common = ['--database', database, '--blobs', `file:${blobs}`];
    // The gateway writes the words; the image workers draw and keep the files.
    const gateway = await start(
      new Server({ dataDir: data, images: true, args: ['--roles', 'gateway,story,text', ...common] }),
    );
    // Files this worker writes may not grow past 2 KB (512-byte blocks); the
    // database lives in PostgreSQL, so only the blob writes run into it (EFBIG).
    const sick = await start(
      new Server({
        dataDir: data,
        command: 'worker',
        images: true,
        args: ['--kind', 'image', ...common],
        wrapper: ['sh', '-c', 'trap "" XFSZ; ulimit -f 4; exec "$0" "$@"'],
      }),
    );
    const created = await gateway.request('POST', '/api/v1/stories', { body: params(3) });
    assert.equal(created.status, 202, created.text);
    const id = created.json.id;
    const failed = 'storyverse_job_attempts_total{kind="image",outcome="failed"}';
    await waitFor(async () => (await sick.request('GET', '/metrics')).text.includes(`${failed} `), {
      what: 'a failed attempt',
    });
    assert.match(sick.stderr, /"msg":"job failed"/);
    assert.match(sick.stderr, /File too large|too large/i);
    const stuck = await gateway.request('GET', `/api/v1/stories/${id}`);
    assert.notEqual(stuck.json.status, 'ready');
    assert.notEqual(stuck.json.status, 'failed', 'one failed attempt is retried, not the end');
    assert.deepEqual(filesUnder(blobs), [], 'no partial or temporary blob is left');
    const noMedia = await gateway.request('GET', `/api/v1/stories/${id}/media`);
    assert.deepEqual(noMedia.json.media, []);
    await sick.stop();

    await start(new Server({ dataDir: data, command: 'worker', images: true, args: ['--kind', 'image', ...common] }));
    const story = await waitFor(
      async () => {
        const r = await gateway.request('GET', `/api/v1/stories/${id}`);
        return r.json.status === 'ready' ? r.json : null;
      },
      { what: 'the healthy worker to finish', timeoutMs: 20000 },
    );
    const got = await media(gateway, id, 'story.html');
    assert.equal(got.status, 200);
    assert.equal(sha256(got.bytes), got.headers.get('etag').slice(1, -1));
    const stored = (await gateway.request('GET', `/api/v1/stories/${id}/media`)).json.media;
    assert.deepEqual(
      filesUnder(blobs).map((f) => path.basename(f)).sort(),
      [...new Set(stored.map((m) => m.blob))].sort(),
      'exactly the blobs the media name: no temporary file left over',
    );
    assert.ok(stored.some((m) => m.blob === sha256(got.bytes)));
    const pages = story.story.pages.map((p) => p.number);
    assert.deepEqual(pages, pages.map((_, i) => i + 1));
    const [[dupes]] = await pg.query(
      database.split('/').pop(),
      `SELECT count(*) - count(DISTINCT number) FROM pages WHERE story_id = '${id}'`,
    );
    assert.equal(dupes, '0');
  });
});
