// Integration tests: the real server on a loopback port, its API, its answers
// to bad input, its metrics and logs, and its durability across restarts.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Server, waitFor } from '../lib/server.mjs';

let server;
let catalog;

before(async () => {
  server = await new Server().start();
  catalog = (await server.request('GET', '/api/v1/catalog')).json;
});

after(async () => {
  await server.stop();
  server.cleanup();
});

const params = (extra = {}) => ({
  universe: catalog.universes[0].id,
  hero: catalog.characters.find((c) => c.universe === catalog.universes[0].id).id,
  ...extra,
});

function assertError(res, status, field) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type'), /application\/json/);
  assert.equal(typeof res.json?.error?.code, 'string', res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
  if (field) assert.equal(res.json.error.field, field, res.text);
}

describe('catalog and health', () => {
  test('the catalog lists every dimension', () => {
    for (const key of ['universes', 'characters', 'themes', 'morals', 'ages', 'lengths', 'styles']) {
      assert.ok(Array.isArray(catalog[key]) && catalog[key].length > 0, key);
    }
    for (const c of catalog.characters) {
      assert.ok(c.id && c.name && c.universe);
    }
  });

  test('healthz and readyz answer', async () => {
    assert.equal((await server.request('GET', '/healthz')).json.status, 'ok');
    assert.equal((await server.request('GET', '/readyz')).json.status, 'ready');
  });

  test('the web page is served', async () => {
    const res = await server.request('GET', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/html/);
    assert.match(res.text, /<html/i);
  });
});

describe('stories', () => {
  test('a story is created, written and read back', async () => {
    const res = await server.request('POST', '/api/v1/stories', {
      body: params({ child_name: 'Zanele', seed: 7 }),
    });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.status, 'queued');
    assert.match(res.json.id, /^[0-9a-f]{32}$/);
    assert.equal(res.headers.get('location'), `/api/v1/stories/${res.json.id}`);
    const story = await waitFor(async () => {
      const r = await server.request('GET', res.headers.get('location'));
      return r.json.status === 'ready' ? r.json : null;
    });
    assert.equal(story.id, res.json.id);
    assert.equal(story.parameters.seed, 7);
    assert.ok(story.story.pages.length > 0);
    assert.ok(story.story.pages.every((p, i) => p.number === i + 1 && p.text.length > 0));
    assert.match(story.story.pages.map((p) => p.text).join(' '), /Zanele/);
  });

  test('the same parameters and seed give the same story; another seed another', async () => {
    const a = await server.createAndWait(params({ seed: 1234, child_name: 'Ada' }));
    const b = await server.createAndWait(params({ seed: 1234, child_name: 'Ada' }));
    const c = await server.createAndWait(params({ seed: 1235, child_name: 'Ada' }));
    assert.deepEqual(a.story, b.story);
    assert.notDeepEqual(a.story, c.story);
  });

  test('without a seed the server picks one and records it', async () => {
    const s = await server.createAndWait(params());
    assert.equal(s.status, 'ready');
    assert.ok(Number.isInteger(s.parameters.seed));
  });

  test('many stories at once all finish', async () => {
    const all = await Promise.all(
      Array.from({ length: 12 }, (_, i) => server.createAndWait(params({ seed: 100 + i }))),
    );
    assert.ok(all.every((s) => s.status === 'ready'));
  });

  test('the list pages through stories, newest first', async () => {
    for (let i = 0; i < 3; i++) await server.request('POST', '/api/v1/stories', { body: params() });
    const first = await server.request('GET', '/api/v1/stories?limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.json.stories.length, 2);
    assert.equal(typeof first.json.next_cursor, 'string');
    const second = await server.request('GET', `/api/v1/stories?limit=2&cursor=${first.json.next_cursor}`);
    assert.equal(second.json.stories.length, 2);
    const ids = new Set([...first.json.stories, ...second.json.stories].map((s) => s.id));
    assert.equal(ids.size, 4);
    assert.ok(first.json.stories[0].created_at >= second.json.stories[0].created_at);
  });

  test('a story can be deleted once', async () => {
    const created = await server.request('POST', '/api/v1/stories', { body: params() });
    const path = `/api/v1/stories/${created.json.id}`;
    assert.equal((await server.request('DELETE', path)).status, 204);
    assertError(await server.request('GET', path), 404);
    assertError(await server.request('DELETE', path), 404);
  });
});

describe('bad input gets a clear 4xx and never a 5xx', () => {
  const post = (body, headers) =>
    server.request('POST', '/api/v1/stories', { body, raw: true, headers: { 'content-type': 'application/json', ...headers } });

  test('malformed JSON is 400', async () => {
    assertError(await post('{"universe": '), 400);
    assertError(await post('[1,2,3]'), 400);
    assertError(await post(''), 400);
    assertError(await post('\xff\xfe garbage'), 400);
    assertError(await post('{"universe":"a","universe":"b"}'), 400);
  });

  test('wrong types are 422 naming the field', async () => {
    for (const [field, value] of [
      ['universe', 5],
      ['hero', null],
      ['seed', 'seven'],
      ['seed', -1],
      ['seed', 1.5],
      ['seed', 2 ** 60],
      ['child_name', ['x']],
      ['age', 'teen'],
      ['length', 'forever'],
      ['style', 'oil paint'],
      ['style', 3],
    ]) {
      assertError(await post(JSON.stringify(params({ [field]: value }))), 422, field);
    }
  });

  test('unknown ids are 422 naming the field and the choices', async () => {
    for (const field of ['universe', 'hero', 'sidekick', 'theme', 'moral']) {
      const res = await post(JSON.stringify(params({ [field]: 'no-such-thing' })));
      assertError(res, 422, field);
      assert.match(res.json.error.message, /no-such-thing/);
    }
  });

  test('missing and unknown members are 422', async () => {
    assertError(await post(JSON.stringify({ hero: params().hero })), 422, 'universe');
    assertError(await post(JSON.stringify({ universe: params().universe })), 422, 'hero');
    assertError(await post(JSON.stringify(params({ dragon: true }))), 422, 'dragon');
  });

  test('bad child names are 422', async () => {
    for (const name of ['', '<script>', 'a'.repeat(200), 'bad\u0007bell']) {
      assertError(await post(JSON.stringify(params({ child_name: name }))), 422, 'child_name');
    }
  });

  test('a body over 64 KiB is 413', async () => {
    const big = JSON.stringify(params({ child_name: 'x'.repeat(70 * 1024) }));
    assertError(await post(big), 413);
  });

  test('the wrong content type is 415', async () => {
    assertError(await post(JSON.stringify(params()), { 'content-type': 'text/plain' }), 415);
    assertError(await server.request('POST', '/api/v1/stories', { body: 'universe=x', raw: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
  });

  test('the wrong method is 405 with Allow', async () => {
    const res = await server.request('PUT', '/api/v1/stories');
    assertError(res, 405);
    assert.match(res.headers.get('allow'), /GET/);
    assert.match(res.headers.get('allow'), /POST/);
    assertError(await server.request('POST', '/healthz'), 405);
    assertError(await server.request('PATCH', `/api/v1/stories/${'a'.repeat(32)}`), 405);
  });

  test('unknown routes and ids are 404', async () => {
    assertError(await server.request('GET', '/api/v2/nothing'), 404);
    assertError(await server.request('GET', '/no-such-file.js'), 404);
    assertError(await server.request('GET', '/api/v1/stories/not-an-id'), 404, 'id');
    assertError(await server.request('GET', `/api/v1/stories/${'0'.repeat(32)}`), 404, 'id');
  });

  test('bad list queries are 400', async () => {
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'cursor=-3', 'cursor=x']) {
      assertError(await server.request('GET', `/api/v1/stories?${q}`), 400);
    }
  });

  test('a client that stops mid-body does not block others', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('POST /api/v1/stories HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"uni');
    const res = await server.request('GET', '/healthz');
    assert.equal(res.status, 200);
    sock.destroy();
  });

  test('the server is still healthy after all of that', async () => {
    assert.equal((await server.request('GET', '/readyz')).status, 200);
    const m = await server.request('GET', '/metrics');
    assert.doesNotMatch(m.text, /status="5\d\d"/);
  });
});

describe('observability', () => {
  test('request ids are echoed and logged as JSON lines', async () => {
    const res = await server.request('GET', '/healthz', { headers: { 'x-request-id': 'test-rid-42' } });
    assert.equal(res.headers.get('x-request-id'), 'test-rid-42');
    const odd = await server.request('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(odd.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    await waitFor(() => server.stderr.includes('test-rid-42'), { what: 'the log line' });
    const line = server.stderr.split('\n').find((l) => l.includes('test-rid-42'));
    const rec = JSON.parse(line);
    assert.equal(rec.request_id, 'test-rid-42');
    assert.equal(rec.status, 200);
    assert.ok(rec.ts && rec.level);
  });

  test('metrics expose requests, latency, stories and queue depth', async () => {
    const res = await server.request('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/plain/);
    assert.match(res.text, /storyverse_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+/);
    assert.match(res.text, /storyverse_http_request_duration_seconds_bucket\{route="\/api\/v1\/catalog",le="\+Inf"\} \d+/);
    assert.match(res.text, /storyverse_stories\{status="ready"\} [1-9]\d*/);
    assert.match(res.text, /storyverse_jobs_queued\{kind="text"\} \d+/);
  });
});

describe('durability', () => {
  test('stories survive a restart, and queued ones are finished after it', async () => {
    const gateway = await new Server({ args: ['--workers', '0'] }).start();
    try {
      const created = await gateway.request('POST', '/api/v1/stories', {
        body: params({ seed: 99, child_name: 'Noor' }),
      });
      assert.equal(created.status, 202);
      const path = `/api/v1/stories/${created.json.id}`;
      assert.equal((await gateway.request('GET', path)).json.status, 'queued');
      const exit = await gateway.stop();
      assert.equal(exit.code, 0, gateway.stderr);

      const again = await new Server({ dataDir: gateway.dataDir }).start();
      try {
        const story = await waitFor(async () => {
          const r = await again.request('GET', path);
          return r.json.status === 'ready' ? r.json : null;
        });
        assert.match(JSON.stringify(story.story), /Noor/);
        assert.equal((await again.stop()).code, 0);
        const third = await new Server({ dataDir: gateway.dataDir }).start();
        try {
          assert.deepEqual((await third.request('GET', path)).json, story);
        } finally {
          await third.stop();
        }
      } finally {
        await again.stop();
      }
    } finally {
      gateway.cleanup();
    }
  });

  test('SIGTERM shuts down cleanly', async () => {
    const s = await new Server().start();
    const exit = await s.stop();
    assert.equal(exit.code, 0);
    assert.match(s.stderr, /"msg":"stopped"/);
    s.cleanup();
  });
});
