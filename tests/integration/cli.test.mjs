// The command line: help, version, catalog, generate and its usage errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BIN, Server } from '../lib/server.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sv-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
const catalog = JSON.parse(run('catalog').stdout);
const universe = catalog.universes[0].id;
const hero = catalog.characters.find((c) => c.universe === universe).id;
const visitor = catalog.characters.find((c) => c.universe !== universe).id;

function generate(name, ...args) {
  const out = path.join(tmp, name);
  const r = run('generate', '--no-images', '--universe', universe, '--hero', hero, '--out', out, ...args);
  assert.equal(r.status, 0, r.stderr);
  return {
    json: readFileSync(path.join(out, 'story.json')),
    html: readFileSync(path.join(out, 'story.html'), 'utf8'),
  };
}

test('--help, <command> --help and --version', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  for (const cmd of ['serve', 'generate', 'catalog']) {
    assert.match(help.stdout, new RegExp(cmd));
    const sub = run(cmd, '--help');
    assert.equal(sub.status, 0, cmd);
    assert.match(sub.stdout, /usage: storyverse/);
  }
  assert.match(run('--version').stdout, /^storyverse \d+\.\d+\.\d+\n$/);
  const unknown = run('dance');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'dance'/);
});

test('catalog prints JSON with every dimension', () => {
  for (const key of ['universes', 'characters', 'themes', 'morals', 'ages', 'lengths']) {
    assert.ok(catalog[key].length > 0, key);
  }
  assert.deepEqual(catalog.ages.map((a) => a.id), ['3-5', '6-8', '9-12']);
  assert.deepEqual(catalog.lengths.map((l) => l.id), ['bedtime', 'chapter', 'epic']);
});

test('generate is byte-identical for the same seed and differs for another', () => {
  const a = generate('a', '--seed', '42', '--name', 'Mirela');
  const b = generate('b', '--seed', '42', '--name', 'Mirela');
  const c = generate('c', '--seed', '43', '--name', 'Mirela');
  assert.ok(a.json.equals(b.json));
  assert.ok(!a.json.equals(c.json));
  const story = JSON.parse(a.json);
  assert.ok(story.title && story.parameters && story.cast && story.pages.length > 0);
  assert.ok(story.pages.every((p, i) => p.number === i + 1 && p.text));
  assert.match(story.pages.map((p) => p.text).join(' '), /Mirela/);
  assert.match(a.html, /<html/i);
  assert.match(a.html, /Mirela/);
  assert.doesNotMatch(a.json.toString(), /"(created_at|id)":\s*"?[0-9a-f]{32}/);
});

test('any character can be cast into any universe', () => {
  const r = run('generate', '--no-images', '--universe', universe, '--hero', visitor, '--seed', '5', '--out', path.join(tmp, 'x'));
  assert.equal(r.status, 0, r.stderr);
});

test('every age and length generates', () => {
  for (const age of catalog.ages) {
    for (const length of catalog.lengths) {
      generate(`al-${age.id}-${length.id}`, '--age', age.id, '--length', length.id, '--seed', '3');
    }
  }
});

test('bad flags and unknown ids are one line naming the flag, exit 2', () => {
  const cases = [
    [['--universe', 'atlantis', '--hero', hero], /--universe.*atlantis.*choose one of/],
    [['--universe', universe, '--hero', 'nobody'], /--hero.*nobody/],
    [['--universe', universe, '--hero', hero, '--age', '40'], /--age/],
    [['--universe', universe, '--hero', hero, '--length', 'huge'], /--length/],
    [['--universe', universe, '--hero', hero, '--theme', 'x'], /--theme/],
    [['--universe', universe, '--hero', hero, '--moral', 'x'], /--moral/],
    [['--universe', universe, '--hero', hero, '--seed', 'abc'], /--seed/],
    [['--universe', universe, '--hero', hero, '--seed', '-1'], /--seed/],
    [['--universe', universe, '--hero', hero, '--name', '<b>'], /--name/],
    [['--universe', universe, '--hero', hero, '--name', ''], /--name.*empty/],
    [['--universe', universe, '--hero', hero, '--name', 'x'.repeat(80)], /--name/],
    [['--universe', universe, '--hero', hero, '--name', 'a\tb'], /--name/],
    [['--universe', universe, '--hero', hero, '--sidekick', hero], /--sidekick/],
    [['--universe', universe, '--hero', hero, '--colour', 'red'], /unknown option '--colour'/],
    [['--hero', hero], /--universe/],
  ];
  for (const [args, pattern] of cases) {
    const r = run('generate', ...args, '--out', path.join(tmp, 'bad'));
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const noOut = run('generate', '--universe', universe, '--hero', hero);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--out/);
});

test('serve refuses a port that is already taken', async () => {
  const taken = await new Server().start();
  try {
    const r = run('serve', '--listen', `127.0.0.1:${taken.port}`, '--data', path.join(tmp, 'd2'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /storyverse serve: --listen: cannot listen on/);
  } finally {
    await taken.stop();
    taken.cleanup();
  }
});

test('serve rejects a bad listen address with exit 2', () => {
  const r = run('serve', '--listen', 'nowhere', '--data', path.join(tmp, 'd'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--listen/);
});
