// `storyverse moderate`: one JSON object per stdin line with byte offsets,
// --age policies, --eval on a labelled file, and bad usage.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { BIN, loadCatalog, Server, storyParams } from '../lib/server.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sv-moderate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (input, ...args) =>
  spawnSync(BIN, ['moderate', ...args], { input, encoding: 'utf8', timeout: 30000 });

test('moderate --help', () => {
  const r = run('', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: storyverse moderate/);
  assert.match(r.stdout, /--eval/);
});

test('one JSON object per line, offsets in bytes into the line', () => {
  const lines = [
    'The fox and the hen were friends.',
    'Zoë said: “we will k.i.l.l him”',
    'Let us play cards to kill time.',
    'email me at kid@example.com',
  ];
  const r = run(lines.join('\n') + '\n');
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(out.length, 4);
  assert.deepEqual(out[0], { allowed: true, categories: [], severity: 0, matches: [] });
  assert.equal(out[1].allowed, false);
  assert.deepEqual(out[1].categories, ['violence']);
  const m = out[1].matches[0];
  const bytes = Buffer.from(lines[1]);
  assert.equal(bytes.subarray(m.start, m.end).toString(), 'k.i.l.l');
  assert.equal(m.category, 'violence');
  assert.equal(out[2].allowed, true);
  assert.deepEqual(out[3].categories, ['personal_data']);
  const found = out[3].matches.map((x) => lines[3].slice(x.start, x.end));
  assert.ok(found.includes('kid@example.com'), found.join(', '));
});

test('--age: mild peril is flagged at 3-5 and allowed at 9-12', () => {
  const peril = 'A ghost floated through the haunted castle.\n';
  assert.equal(JSON.parse(run(peril).stdout).allowed, false);
  assert.equal(JSON.parse(run(peril, '--age', '3-5').stdout).allowed, false);
  assert.equal(JSON.parse(run(peril, '--age', '9-12').stdout).allowed, true);
  assert.equal(JSON.parse(run('what the fuck\n', '--age', '9-12').stdout).allowed, false);
});

test('--eval prints precision, recall and false-positive rate', () => {
  const file = path.join(tmp, 'eval.tsv');
  writeFileSync(
    file,
    [
      'label\ttext\tcategory',
      'safe\tThe bunny hopped home.',
      'safe\tShoot for the stars!',
      'unsafe\tI will k1ll you\tviolence',
      'unsafe\tthat is sh1t\tprofanity',
      'unsafe\tcall 555 123 4567\tpersonal_data',
      'unsafe\tsomething nice',
      '',
    ].join('\n'),
  );
  const r = spawnSync(BIN, ['moderate', '--eval', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const overall = r.stdout.split('\n').find((l) => l.startsWith('overall'));
  assert.ok(overall, r.stdout);
  const [, lines, precision, recall, fpr] = overall.trim().split(/\s+/);
  assert.equal(Number(lines), 6);
  assert.equal(Number(precision), 1);
  assert.equal(Number(recall), 0.75);
  assert.equal(Number(fpr), 0);
  assert.match(r.stdout, /^violence\s+1\s+1\.000\s+1\.000/m);
});

// Each labelled set with what it must keep up. The eval set and held-out
// sets 1-28 train the model (each was measured blind once before it did):
// they must meet the goal (recall 0.95, false positives 0.02). Sets 29 and
// on train nothing: each was measured blind once, and is guarded at today's
// level (tests/data/README.md has the numbers).
const SETS = [
  { file: 'moderation-eval.tsv', lines: 750, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout.tsv', lines: 500, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-2.tsv', lines: 500, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-3.tsv', lines: 500, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-4.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-5.tsv', lines: 500, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-6.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-7.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-8.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-9.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-10.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-11.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-12.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-13.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-14.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-15.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-16.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-17.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-18.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-19.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-20.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-21.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-22.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-23.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-24.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-25.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-26.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-27.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-28.tsv', lines: 550, recall: 0.95, fpr: 0.02 },
  { file: 'moderation-heldout-29.tsv', lines: 550, recall: 0.97, fpr: 0.055 },
  { file: 'moderation-heldout-30.tsv', lines: 550, recall: 0.98, fpr: 0.015 },
  { file: 'moderation-heldout-31.tsv', lines: 550, recall: 0.98, fpr: 0.015 },
  { file: 'moderation-heldout-32.tsv', lines: 550, recall: 0.97, fpr: 0.03 },
  { file: 'moderation-heldout-33.tsv', lines: 550, recall: 0.95, fpr: 0.015 },
  { file: 'moderation-heldout-34.tsv', lines: 550, recall: 0.99, fpr: 0.035 },
  { file: 'moderation-heldout-35.tsv', lines: 550, recall: 0.98, fpr: 0.035 },
  { file: 'moderation-heldout-36.tsv', lines: 550, recall: 0.96, fpr: 0.025 },
  { file: 'moderation-heldout-37.tsv', lines: 550, recall: 0.98, fpr: 0.02 },
];

for (const set of SETS) {
  test(`${set.file}: recall >= ${set.recall}, false positives <= ${set.fpr} at 6-8`, () => {
    const file = fileURLToPath(new URL(`../data/${set.file}`, import.meta.url));
    const r = spawnSync(BIN, ['moderate', '--eval', file, '--age', '6-8'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const overall = r.stdout.split('\n').find((l) => l.startsWith('overall'));
    assert.ok(overall, r.stdout);
    const [, lines, , recall, fpr] = overall.trim().split(/\s+/);
    assert.ok(Number(lines) > set.lines, r.stdout);
    assert.ok(Number(recall) >= set.recall, `recall below ${set.recall}:\n${r.stdout}`);
    assert.ok(Number(fpr) <= set.fpr, `false-positive rate above ${set.fpr}:\n${r.stdout}`);
  });
}

test('--train learns a model from labelled files, the same every time', () => {
  const file = path.join(tmp, 'train.tsv');
  const lines = [];
  for (const pet of ['puppy', 'kitten', 'hamster', 'rabbit']) {
    lines.push(`unsafe\tThe man held the ${pet} under the water until it went still.\tviolence`);
    lines.push(`safe\tThe ${pet} splashed in the warm bath and then had a nap.`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const out = [path.join(tmp, 'a.json'), path.join(tmp, 'b.json')];
  for (const o of out) {
    const r = spawnSync(BIN, ['moderate', '--train', o, file], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /a model from \d+ examples/);
  }
  const model = JSON.parse(readFileSync(out[0], 'utf8'));
  assert.equal(model.classes[0], 'safe');
  assert.ok(model.classes.includes('violence'));
  assert.ok(model.features.water, 'a word from the examples is a feature');
  assert.deepEqual(readFileSync(out[0]), readFileSync(out[1]));
  // --model reads a model from a file in place of the built-in one: words
  // only this model knows are flagged with it, and not without it.
  const odd = [];
  for (const who of ['wug', 'blick', 'dax', 'toma']) {
    odd.push(`unsafe\tThe zorblat glimmed the ${who} until it was quite flonked.\tviolence`);
    odd.push(`safe\tThe ${who} had a picnic by the river with its friends.`);
  }
  writeFileSync(file, odd.join('\n') + '\n');
  let r = spawnSync(BIN, ['moderate', '--train', out[0], file], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  const line = 'The zorblat glimmed the fep until it was quite flonked.\n';
  r = spawnSync(BIN, ['moderate', '--age', '9-12', '--model', out[0]], { input: line, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).categories, ['violence']);
  r = spawnSync(BIN, ['moderate', '--age', '9-12'], { input: line, encoding: 'utf8' });
  assert.equal(JSON.parse(r.stdout).allowed, true);
  writeFileSync(out[1], '{"classes":["safe"]}');
  for (const bad of [out[1], path.join(tmp, 'none.json')]) {
    r = spawnSync(BIN, ['moderate', '--model', bad], { input: line, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^storyverse moderate: --model: .+\n$/);
  }
  // An unsafe line must say what it is; a missing file is a usage error.
  writeFileSync(file, 'unsafe\tsomething bad\n');
  r = spawnSync(BIN, ['moderate', '--train', out[0], file], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /needs a category on every unsafe line/);
  r = spawnSync(BIN, ['moderate', '--train', out[0]], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--train needs one or more labelled files/);
  r = spawnSync(BIN, ['moderate', '--train', out[0], path.join(tmp, 'none.tsv')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--train: cannot open/);
});

test('bad usage is one line and exit 2', () => {
  for (const args of [['--age', '13'], ['--age'], ['--bogus'], ['--eval', path.join(tmp, 'none.tsv')], ['extra']]) {
    const r = run('', ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /storyverse moderate/);
  }
});

test('the story role refuses unsafe words in what a request brings, naming the field and category', async () => {
  const catalog = loadCatalog();
  const server = await new Server().start();
  try {
    const base = storyParams(catalog, 0);
    const cases = [
      [{ ...base, child_name: 'Shithead' }, 'child_name', 'profanity'],
      [{ ...base, custom: { name: 'Zog', species: 'dragon', traits: ['kind', 'drunk'] } }, 'custom.traits', 'drugs'],
      [{ ...base, custom: { name: 'Murderer', species: 'dragon', traits: ['kind'] } }, 'custom.name', 'violence'],
    ];
    for (const [body, field, category] of cases) {
      const r = await server.request('POST', '/api/v1/stories', { body });
      assert.equal(r.status, 422, r.text);
      assert.equal(r.json.error.code, 'unsafe_content');
      assert.equal(r.json.error.field, field);
      assert.equal(r.json.error.category, category);
      for (const word of ['Shithead', 'drunk', 'Murderer']) assert.ok(!r.text.includes(word), 'the text is not echoed');
    }
    // Nothing was stored; an ordinary request still goes through.
    assert.equal((await server.request('GET', '/api/v1/stories')).json.stories.length, 0);
    const ok = await server.request('POST', '/api/v1/stories', { body: { ...base, child_name: 'Mia', custom: { name: 'Zog', species: 'baby dragon', traits: ['shy', 'kind'] } } });
    assert.equal(ok.status, 202, ok.text);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
