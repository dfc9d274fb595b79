// Output moderation and the review queue, end to end: the text worker asks an
// OpenAI-compatible model (a small one written here, since no real model runs
// in a test) for each page; a page moderation refuses is asked for again, and
// a story whose pages are still refused waits for a person instead of being
// delivered. `storyverse review` lists, approves and rejects such stories.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { modelServer } from '../lib/model.mjs';
import { Server, loadCatalog, runBin, storyParams, waitFor } from '../lib/server.mjs';

async function writer(model, options = {}) {
  return new Server({
    args: ['--text-provider', 'openai'],
    env: { STORYVERSE_OPENAI_BASE_URL: model.url },
    ...options,
  }).start();
}

async function settle(server, id, statuses) {
  return waitFor(
    async () => {
      const r = await server.request('GET', `/api/v1/stories/${id}`);
      return statuses.includes(r.json?.status) ? r.json : null;
    },
    { timeoutMs: 30000, what: `story ${id} to be ${statuses.join(' or ')}` },
  );
}

async function create(server, params) {
  const r = await server.request('POST', '/api/v1/stories', { body: params });
  assert.equal(r.status, 202, r.text);
  return r.json.id;
}

test('a page moderation refuses is written again, and the story is delivered', async () => {
  const model = await modelServer(({ rewrite }) => !rewrite);
  const server = await writer(model);
  try {
    const id = await create(server, { ...storyParams(loadCatalog(), 2), age: '6-8' });
    const story = await settle(server, id, ['ready', 'failed', 'review']);
    assert.equal(story.status, 'ready', JSON.stringify(story.error));
    const written = story.story.pages.filter((p) => p.text_provider === 'openai');
    assert.ok(written.length > 0);
    for (const p of written) {
      assert.ok(!p.text.includes('stabbed'), p.text);
      assert.equal(p.moderation.rewrites, 1);
    }
    assert.equal(model.seen.rewrites, written.length);
  } finally {
    await server.stop();
    server.cleanup();
    model.srv.close();
  }
});

test('a story still refused waits for review: nothing is shown until a person approves it', async () => {
  const model = await modelServer(() => true);
  const server = await writer(model, { images: true });
  const data = ['--data', server.dataDir];
  try {
    const id = await create(server, { ...storyParams(loadCatalog(), 3), age: '6-8' });
    const held = await settle(server, id, ['ready', 'failed', 'review']);
    assert.equal(held.status, 'review');
    assert.equal(held.story, undefined);
    assert.equal(held.title, undefined);
    const media = await server.request('GET', `/api/v1/stories/${id}/media`);
    assert.equal(media.status, 409);
    assert.equal(media.json.error.code, 'in_review');

    const listed = await runBin(['review', 'list', ...data]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(id));
    assert.match(listed.stdout, /violence "stabbed"/);
    const json = await runBin(['review', 'list', '--json', ...data]);
    const row = JSON.parse(json.stdout.trim().split('\n')[0]);
    assert.equal(row.id, id);
    assert.equal(row.review.age, '6-8');
    const flag = row.review.flags[0];
    assert.equal(flag.field, 'text');
    assert.equal(flag.rewrites, 2);
    assert.ok(flag.categories.includes('violence'));
    // Each refused page was asked for twice more before the story was held.
    const pages = row.review.flags.filter((f) => f.field === 'text').length;
    assert.ok(pages > 0);
    assert.equal(model.seen.rewrites, 2 * pages);

    // Approval sends it on to the pictures, then it is delivered as written.
    const approved = await runBin(['review', 'approve', id, ...data]);
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(approved.stdout, /approved: it is now generating/);
    const ready = await settle(server, id, ['ready', 'failed']);
    assert.equal(ready.status, 'ready', JSON.stringify(ready.error));
    assert.ok(ready.story.pages.some((p) => p.text.includes('stabbed')));
    const pictures = await server.request('GET', `/api/v1/stories/${id}/media`);
    assert.ok(pictures.json.media.some((m) => m.name === 'images/page-01.png'));
    const again = await runBin(['review', 'approve', id, ...data]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /no story .* is waiting for review/);
  } finally {
    await server.stop();
    server.cleanup();
    model.srv.close();
  }
});

test('generate writes nothing when the words are still refused, and says why in one line', async () => {
  const model = await modelServer(() => true);
  const out = mkdtempSync(path.join(os.tmpdir(), 'sv-held-'));
  try {
    const { universe, hero } = storyParams(loadCatalog(), 5);
    const args = ['generate', '--universe', universe, '--hero', hero, '--age', '6-8', '--text-provider', 'openai'];
    const r = await runBin([...args, '--out', path.join(out, 'book')], 60000, { STORYVERSE_OPENAI_BASE_URL: model.url });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /the text of page \d+ failed moderation \(violence\) after 2 rewrites; nothing was written/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(path.join(out, 'book', 'story.json')));
  } finally {
    rmSync(out, { recursive: true, force: true });
    model.srv.close();
  }
});

test('a rejected story is never shared, and review refuses bad input', async () => {
  const model = await modelServer(() => true);
  const server = await writer(model);
  const data = ['--data', server.dataDir];
  try {
    const id = await create(server, { ...storyParams(loadCatalog(), 4), age: '9-12' });
    assert.equal((await settle(server, id, ['ready', 'failed', 'review'])).status, 'review');
    const rejected = await runBin(['review', 'reject', id, '--note', 'too violent for a bedtime story', ...data]);
    assert.equal(rejected.status, 0, rejected.stderr);
    const story = await settle(server, id, ['rejected']);
    assert.equal(story.error, 'too violent for a bedtime story');
    assert.equal(story.story, undefined);
    const media = await server.request('GET', `/api/v1/stories/${id}/media/story.html`);
    assert.equal(media.status, 410);
    assert.equal(media.json.error.code, 'rejected');
    const empty = await runBin(['review', 'list', ...data]);
    assert.match(empty.stdout, /no stories are waiting for review/);

    const bad = [
      [['review'], /say list, approve ID or reject ID/],
      [['review', 'frobnicate'], /say list, approve ID or reject ID/],
      [['review', 'approve'], /approve takes one story id/],
      [['review', 'approve', 'not-an-id'], /is not a story id/],
      [['review', 'approve', 'f'.repeat(32)], /no story .* is waiting for review/],
      [['review', 'approve', id, '--note', 'x'], /--note goes with reject/],
      [['review', 'list', '--frob'], /--frob/],
    ];
    for (const [args, message] of bad) {
      const r = await runBin([...args, ...data]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    await server.stop();
    server.cleanup();
    model.srv.close();
  }
});
