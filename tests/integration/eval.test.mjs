// `storyverse eval`: its help, its JSON, its table, bad options; and the
// dialogue spans that `generate` writes on every page.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BIN } from '../lib/server.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sv-eval-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });

test('eval --help explains the measures', () => {
  const r = run('eval', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: storyverse eval/);
  for (const word of ['--n', '--seed', '--json', 'Flesch-Kincaid', 'overlap']) {
    assert.match(r.stdout, new RegExp(word));
  }
  assert.match(run('--help').stdout, /eval/);
});

test('eval --json has a row per age band and is the same for the same seed', () => {
  const r = run('eval', '--n', '20', '--json');
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout);
  assert.equal(e.n, 20);
  assert.equal(e.seed, 1);
  assert.deepEqual(e.bands.map((b) => b.age), ['3-5', '6-8', '9-12']);
  const numbers = ['grade_mean', 'grade_low', 'grade_high', 'in_band', 'overlap', 'names', 'bigrams'];
  for (const b of [...e.bands, e.all]) {
    for (const key of ['stories', 'failed', 'repeated', ...numbers]) {
      assert.equal(typeof b[key], 'number', `${b.age}.${key}`);
    }
    assert.equal(b.failed, 0);
    assert.ok(b.in_band >= 0 && b.in_band <= 1);
    assert.ok(b.overlap >= 0 && b.overlap <= 1);
  }
  assert.deepEqual(e.bands.map((b) => b.target), [
    { min: null, max: 2 },
    { min: 2, max: 4 },
    { min: 4, max: 7 },
  ]);
  assert.equal(e.all.age, 'all');
  assert.equal(e.all.stories, 20);
  assert.equal(e.bands.reduce((n, b) => n + b.stories, 0), 20);
  for (const dim of ['universes', 'heroes', 'themes', 'morals', 'ages', 'lengths']) {
    assert.ok(e.coverage[dim].used >= 1 && e.coverage[dim].used <= e.coverage[dim].of, dim);
  }
  assert.equal(e.failure, null);
  assert.equal(run('eval', '--n', '20', '--json').stdout, r.stdout);
  assert.notEqual(run('eval', '--n', '20', '--json', '--seed', '2').stdout, r.stdout);
});

test('eval prints a table by default', () => {
  const r = run('eval', '--n', '6', '--seed', '9');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^age +stories/m);
  for (const age of ['3-5', '6-8', '9-12', 'all']) assert.match(r.stdout, new RegExp(`^${age} `, 'm'));
  assert.match(r.stdout, /coverage: universes \d+\/\d+/);
});

test('eval rejects bad options with exit 2', () => {
  for (const args of [['--n', 'ten'], ['--seed', '-1'], ['--colour'], ['extra']]) {
    const r = run('eval', ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^storyverse eval: /);
  }
});

test('generate records who speaks each quotation on a page', () => {
  const catalog = JSON.parse(run('catalog').stdout);
  const universe = catalog.universes[0].id;
  const hero = catalog.characters.find((c) => c.universe === universe).id;
  const out = path.join(tmp, 'spans');
  const r = run('generate', '--no-images', '--universe', universe, '--hero', hero, '--seed', '4', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const story = JSON.parse(readFileSync(path.join(out, 'story.json'), 'utf8'));
  const roles = new Set(story.cast.map((c) => c.role));
  let count = 0;
  for (const page of story.pages) {
    const bytes = Buffer.from(page.text, 'utf8');
    assert.ok(Array.isArray(page.spans), `page ${page.number}`);
    for (const { start, end, speaker } of page.spans) {
      assert.ok(start >= 1 && end > start && end < bytes.length);
      assert.equal(bytes[start - 1], 0x22, 'a quote mark opens the span');
      assert.equal(bytes[end], 0x22, 'a quote mark closes the span');
      assert.ok(!bytes.subarray(start, end).includes(0x22));
      assert.ok(roles.has(speaker), speaker);
      count++;
    }
  }
  assert.ok(count > 3);
});
