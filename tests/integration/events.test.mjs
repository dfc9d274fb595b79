// A story's progress as Server-Sent Events (GET /api/v1/stories/{id}/events):
// a new story's stream ends with ready; a ready story's stream is ready at
// once; an unknown id is a 404; a gateway-only server follows a story written
// by a separate worker process (queued, generating, each page, ready); past
// 256 open streams the next is a 503; and SIGTERM with a stream open still exits 0 promptly. Every wait is bounded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Server, loadCatalog, sleep, storyParams, waitFor } from '../lib/server.mjs';

const catalog = loadCatalog();
const params = (i = 0) => storyParams(catalog, i, 2000);

async function create(server, p) {
  const r = await server.request('POST', '/api/v1/stories', { body: p });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

// One event block: its name and its JSON data; null for a comment.
function parseEvent(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    if (field === 'data') data.push(value);
  }
  return data.length ? { event: name, data: JSON.parse(data.join('\n')) } : null;
}

// Opens the stream; events are pushed to `events` as they come, and `ended`
// resolves (with the events) when the stream ends: events.clean tells
// whether the server ended it properly rather than cutting it.
async function openEvents(server, id, { timeoutMs = 30000 } = {}) {
  const res = await fetch(`${server.url}/api/v1/stories/${id}/events`, {
    headers: { accept: 'text/event-stream' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const events = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buf = '';
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        events.clean = false;
        return events;
      }
      const { done, value } = chunk;
      events.clean = done;
      if (done) return events;
      buf += decoder.decode(value, { stream: true });
      for (let i; (i = buf.indexOf('\n\n')) >= 0; buf = buf.slice(i + 2)) {
        const ev = parseEvent(buf.slice(0, i));
        if (ev) events.push(ev);
      }
    }
  })();
  return { events, ended };
}

// The page events are 1, 2, ... n and the stream's last event is ready with n pages.
function assertWholeStory(events) {
  const last = events.at(-1);
  assert.equal(last.event, 'ready', JSON.stringify(events));
  assert.equal(events.filter((e) => ['ready', 'failed'].includes(e.event)).length, 1);
  const pages = events.filter((e) => e.event === 'page').map((e) => e.data.number);
  assert.deepEqual(pages, pages.map((_, i) => i + 1));
  assert.ok(last.data.pages > 0);
  // Every page is drawn once its words are written.
  const drawn = events.filter((e) => e.event === 'drawn').map((e) => e.data.number);
  assert.deepEqual(drawn, pages);
  const firstDrawn = events.findIndex((e) => e.event === 'drawn');
  assert.ok(firstDrawn > events.findIndex((e) => e.event === 'page'), 'words come before pictures');
  assert.ok(last.data.title);
}

describe('story events on one server', () => {
  let server;
  before(async () => {
    server = await new Server({ images: true }).start();
  });
  after(async () => {
    const exit = await server.stop();
    assert.equal(exit.code, 0, server.stderr);
    server.cleanup();
  });

  test("a new story's events end with ready", async () => {
    const id = await create(server, params(0));
    const { ended } = await openEvents(server, id);
    const events = await ended;
    assert.equal(events.clean, true);
    assertWholeStory(events);
    assert.equal(events.at(-1).data.id, id);
  });

  test("a ready story's stream says ready at once and ends", async () => {
    const story = await server.createAndWait(params(1));
    assert.equal(story.status, 'ready');
    const started = Date.now();
    const { ended } = await openEvents(server, story.id, { timeoutMs: 5000 });
    const events = await ended;
    assert.ok(Date.now() - started < 2000, 'the stream ended late');
    assert.deepEqual(
      events.map((e) => e.event),
      ['ready'],
    );
    assert.equal(events[0].data.title, story.title);
    assert.equal(events[0].data.pages, story.story.pages.length);
  });

  test('an unknown id is a 404 with a JSON error', async () => {
    for (const id of ['0123456789abcdef0123456789abcdef', 'not-an-id']) {
      const r = await server.request('GET', `/api/v1/stories/${id}/events`);
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, 'not_found');
    }
  });
});

describe('story events with a gateway and a separate worker', () => {
  let dataDir;
  let gateway;
  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sv-events-'));
    // The gateway draws too: the separate worker writes the words.
    gateway = await new Server({ dataDir, images: true, args: ['--roles', 'gateway,story,image'] }).start();
  });
  after(async () => {
    if (gateway.proc.exitCode === null) await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('events written by another process arrive: queued, generating, pages, ready', async () => {
    const id = await create(gateway, params(2));
    const { events, ended } = await openEvents(gateway, id);
    await waitFor(() => events.length > 0, { what: 'the queued event', timeoutMs: 5000 });
    assert.deepEqual(events[0], { event: 'queued', data: { id, status: 'queued' } });
    // The pause between the pages and the job's end lets the stream see the pages first.
    const worker = await new Server({
      dataDir,
      command: 'worker',
      images: true,
      args: ['--kind', 'text'],
      env: { STORYVERSE_FAULT_JOB_DELAY_MS: '600' },
    }).start();
    try {
      const all = await ended;
      assertWholeStory(all);
      assert.deepEqual(all[1], { event: 'generating', data: { id, status: 'generating' } });
      assert.equal(all.filter((e) => e.event === 'page').length, all.at(-1).data.pages);
    } finally {
      const exit = await worker.stop();
      assert.equal(exit.code, 0, worker.stderr);
    }
  });

  test('past 256 open streams the next one is a 503; closing one makes room', async () => {
    const id = await create(gateway, params(4)); // no worker: it stays queued
    const url = `${gateway.url}/api/v1/stories/${id}/events`;
    const controllers = Array.from({ length: 256 }, () => new AbortController());
    try {
      const opened = await Promise.all(controllers.map((c) => fetch(url, { signal: c.signal })));
      assert.ok(opened.every((r) => r.status === 200));
      const refused = await gateway.request('GET', `/api/v1/stories/${id}/events`);
      assert.equal(refused.status, 503);
      assert.equal(refused.json.error.code, 'unavailable');
    } finally {
      for (const c of controllers) c.abort();
    }
    // The server notices a gone client at its next write, at the latest with the keep-alive.
    await waitFor(
      async () => {
        const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
        r.body?.cancel().catch(() => {});
        return r.status === 200;
      },
      { what: 'a free stream slot', timeoutMs: 25000, intervalMs: 500 },
    );
    await sleep(1000); // and the rest of the slots, for the next test
  });

  test('SIGTERM with a stream open exits 0 promptly and ends the stream', async () => {
    const id = await create(gateway, params(3)); // no worker: it stays queued
    const { events, ended } = await openEvents(gateway, id);
    await waitFor(() => events.length > 0, { what: 'the queued event', timeoutMs: 5000 });
    const started = Date.now();
    const exit = await gateway.stop({ timeoutMs: 5000 });
    assert.equal(exit.code, 0, gateway.stderr);
    assert.ok(Date.now() - started < 3000, `the server took ${Date.now() - started} ms to stop`);
    await ended;
    assert.equal(events.clean, true, 'the stream was cut, not ended');
    assert.deepEqual(
      events.map((e) => e.event),
      ['queued'],
    );
  });
});
