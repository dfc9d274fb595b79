// The story options of issue 3 from the outside: cast roles (--rival,
// --mentor, --custom), pronouns, universe modes, cultures and series, on the
// command line (exit 2 and one line naming the flag) and through the API (422
// naming the field), and continue_from across the store.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, Server } from '../lib/server.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sv-options-'));
const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
const catalog = JSON.parse(run('catalog').stdout);
const inUniverse = (u) => catalog.characters.filter((c) => c.universe === u).map((c) => c.id);
const [u1, u2, u3] = catalog.universes.map((u) => u.id);
const [hero, sidekick, rival, mentor] = inUniverse(u1);

let server;
before(async () => {
  server = await new Server().start();
});
after(async () => {
  await server.stop();
  server.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

// Runs generate and returns the story it wrote.
function generate(name, ...args) {
  const out = path.join(tmp, name);
  const r = run('generate', '--no-images', '--out', out, ...args);
  assert.equal(r.status, 0, r.stderr);
  return { out, story: JSON.parse(readFileSync(path.join(out, 'story.json'), 'utf8')) };
}

const text = (story) => story.pages.map((p) => p.text).join('\n');
const role = (story, r) => story.cast.find((c) => c.role === r);

function assertError(res, field) {
  assert.equal(res.status, 422, res.text);
  assert.equal(typeof res.json?.error?.code, 'string', res.text);
  assert.ok(res.json.error.message.length > 0);
  assert.equal(res.json.error.field, field, res.text);
}

describe('command line', () => {
  test('--help documents every new option', () => {
    const help = run('generate', '--help').stdout;
    for (const flag of ['--rival', '--mentor', '--custom', '--pronouns', '--mode', '--culture', '--continue']) {
      assert.match(help, new RegExp(flag), flag);
    }
    for (const mode of ['single', 'crossover', 'fusion', 'hopping']) assert.match(help, new RegExp(mode));
  });

  test('rival, mentor, custom character and pronouns', () => {
    const { story } = generate(
      'roles', '--universe', u1, '--hero', hero, '--sidekick', sidekick, '--rival', rival, '--mentor', mentor,
      '--custom', 'name=Zog,species=baby dragon,traits=shy;curious', '--pronouns', 'she', '--name', 'Mia', '--seed', '4',
    );
    assert.equal(role(story, 'rival').id, rival);
    assert.equal(role(story, 'mentor').id, mentor);
    assert.equal(role(story, 'custom').name, 'Zog');
    assert.deepEqual(role(story, 'custom').traits, ['shy', 'curious']);
    assert.equal(role(story, 'child').pronoun, 'she');
    assert.equal(story.parameters.pronouns, 'she');
    assert.match(text(story), /Zog/);
    assert.match(text(story), /\bher own bed\b|\bshe\b|\bher\b/i);
  });

  test('fusion, hopping and crossover', () => {
    const fusion = generate('fusion', '--universe', u1, '--universe', u2, '--mode', 'fusion', '--hero', hero, '--seed', '2').story;
    assert.equal(fusion.universe.id, `${u1}+${u2}`);
    assert.deepEqual(fusion.universe.from, [u1, u2]);
    assert.deepEqual(fusion.parameters.universes, [u1, u2]);
    assert.equal(fusion.universes.length, 2);
    const hop = generate(
      'hopping', '--universe', u1, '--universe', u2, '--universe', u3, '--mode', 'hopping', '--length', 'epic', '--hero', hero, '--seed', '2',
    ).story;
    // one universe after another, and home again at the end
    assert.deepEqual([...new Set(hop.plan.map((b) => b.universe))], [u1, u2, u3]);
    assert.equal(hop.plan.at(-1).universe, u1);
    assert.equal(hop.plan.at(-2).universe, u3);
    const cross = generate('crossover', '--universe', u1, '--mode', 'crossover', '--hero', hero, '--seed', '2').story;
    assert.equal(cross.parameters.mode, 'crossover');
    assert.equal(role(cross, 'sidekick').visitor, true);
  });

  test('--culture weaves in a greeting and a food', () => {
    const culture = catalog.cultures[0];
    const { story } = generate('culture', '--universe', u1, '--hero', hero, '--culture', culture.id, '--seed', '6');
    assert.equal(story.parameters.culture, culture.id);
    assert.ok(text(story).includes(culture.greeting), culture.greeting);
    assert.ok(culture.foods.some((f) => text(story).includes(f)));
  });

  test('--continue writes the next episode', () => {
    const one = generate('ep1', '--universe', u1, '--hero', hero, '--name', 'Noor', '--seed', '8');
    const two = generate('ep2', '--continue', one.out, '--seed', '9');
    assert.equal(one.story.episode, 1);
    assert.ok(one.story.thread.kind && one.story.thread.what);
    assert.equal(two.story.episode, 2);
    assert.deepEqual(two.story.previous, { episode: 1, title: one.story.title });
    for (const key of ['universe', 'hero', 'sidekick', 'child_name', 'pronouns']) {
      assert.equal(two.story.parameters[key], one.story.parameters[key], key);
    }
    assert.match(two.story.pages[0].text, new RegExp(role(one.story, 'friend').name));
    const again = generate('ep2b', '--continue', one.out, '--seed', '9');
    assert.deepEqual(again.story, two.story);
    const three = generate('ep3', '--continue', two.out, '--seed', '10');
    assert.equal(three.story.episode, 3);
  });

  test('bad options are one line naming the flag, exit 2', () => {
    const base = ['--universe', u1, '--hero', hero];
    mkdirSync(path.join(tmp, 'notastory'), { recursive: true });
    writeFileSync(path.join(tmp, 'notastory', 'story.json'), '{"title": 1}');
    const cases = [
      [[...base, '--rival', hero], /--rival: .*hero/],
      [[...base, '--mentor', 'nobody'], /--mentor: .*nobody/],
      [[...base, '--sidekick', rival, '--rival', rival], /--rival: .*sidekick/],
      [[...base, '--custom', 'Zog'], /--custom: .*name=/],
      [[...base, '--custom', 'name=Zog,species=cat'], /--custom: .*traits/],
      [[...base, '--custom', 'name=<b>,species=cat,traits=shy'], /--custom: .*letters/],
      [[...base, '--custom', 'name=Zog,species=cat9,traits=shy'], /--custom: .*species/],
      [[...base, '--custom', 'name=Zog,species=cat,traits=a;b;c;d;e;f'], /--custom: .*traits/],
      [[...base, '--pronouns', 'xe'], /--pronouns: .*she, he, they/],
      [[...base, '--mode', 'fusion'], /--universe: .*exactly 2/],
      [[...base, '--universe', u2], /--mode: .*fusion or hopping/],
      [[...base, '--universe', u2, '--mode', 'single'], /--universe: .*exactly 1/],
      [[...base, '--universe', u2, '--universe', u3, '--mode', 'hopping'], /--universe: .*longer story/],
      [[...base, '--mode', 'warp'], /--mode: .*single, crossover/],
      [[...base, '--mode', 'crossover', '--sidekick', sidekick], /--mode: .*visitor/],
      [[...base, '--culture', 'atlantean'], /--culture: .*atlantean/],
      [['--continue', path.join(tmp, 'nowhere')], /--continue: cannot read/],
      [['--continue', path.join(tmp, 'notastory')], /--continue: /],
    ];
    for (const [args, pattern] of cases) {
      const r = run('generate', ...args, '--out', path.join(tmp, 'bad'));
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('a continued story keeps its cast: changing it names the flag', () => {
    const one = generate('keep1', '--universe', u1, '--hero', hero, '--seed', '3');
    const r = run('generate', '--no-images', '--continue', one.out, '--hero', rival, '--out', path.join(tmp, 'keep2'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--hero: hero must stay/);
    const same = run('generate', '--continue', one.out, '--out', one.out);
    assert.equal(same.status, 2);
    assert.match(same.stderr, /--out/);
  });
});

describe('API', () => {
  const post = (body) => server.request('POST', '/api/v1/stories', { body });

  test('the catalog lists cultures', async () => {
    const cat = (await server.request('GET', '/api/v1/catalog')).json;
    assert.ok(cat.cultures.length >= 4);
    for (const c of cat.cultures) assert.ok(c.id && c.name && c.greeting && c.festival?.name && c.foods.length);
  });

  test('old requests still work, and every new field is accepted', async () => {
    const old = await server.createAndWait({ universe: u1, hero, seed: 1 });
    assert.equal(old.status, 'ready', old.error);
    assert.equal(old.story.parameters.mode, 'single');
    const all = await server.createAndWait({
      universe: u1, hero, sidekick, rival, mentor, seed: 2, pronouns: 'he', culture: catalog.cultures[1].id,
      custom: { name: 'Zog', species: 'dragon', traits: ['brave', 'silly'] },
    });
    assert.equal(all.status, 'ready', all.error);
    assert.equal(role(all.story, 'custom').name, 'Zog');
    assert.equal(role(all.story, 'child').pronoun, 'he');
    const fusion = await server.createAndWait({ universes: [u1, u2], mode: 'fusion', hero, seed: 3 });
    assert.equal(fusion.status, 'ready', fusion.error);
    assert.equal(fusion.story.universe.id, `${u1}+${u2}`);
    const hop = await server.createAndWait({ universes: [u1, u2], mode: 'hopping', hero, length: 'chapter', seed: 3 });
    assert.equal(hop.status, 'ready', hop.error);
    assert.ok(hop.story.plan.some((b) => b.universe === u2));
  });

  test('bad fields are 422 naming the field', async () => {
    const base = { universe: u1, hero };
    const cases = [
      [{ ...base, rival: hero }, 'rival'],
      [{ ...base, mentor: 'nobody' }, 'mentor'],
      [{ ...base, sidekick: mentor, mentor }, 'mentor'],
      [{ ...base, custom: 'Zog' }, 'custom'],
      [{ ...base, custom: { name: 'Zog', species: 'cat' } }, 'custom.traits'],
      [{ ...base, custom: { name: '', species: 'cat', traits: ['shy'] } }, 'custom.name'],
      [{ ...base, custom: { name: 'Zog', species: 'cat 9', traits: ['shy'] } }, 'custom.species'],
      [{ ...base, custom: { name: 'Zog', species: 'cat', traits: ['very shy'] } }, 'custom.traits'],
      [{ ...base, custom: { name: 'Zog', species: 'cat', traits: [] } }, 'custom.traits'],
      [{ ...base, pronouns: 'xe' }, 'pronouns'],
      [{ ...base, pronouns: 1 }, 'pronouns'],
      [{ ...base, mode: 'fusion' }, 'universes'],
      [{ ...base, mode: 'warp' }, 'mode'],
      [{ universes: [u1, u2], hero }, 'mode'],
      [{ universes: [u1, u2, u3], hero, mode: 'fusion' }, 'universes'],
      [{ universes: [u1, u1], hero, mode: 'fusion' }, 'universes'],
      [{ universes: u1, hero }, 'universes'],
      [{ universes: [], hero }, 'universes'],
      [{ universe: u2, universes: [u1, u2], hero, mode: 'fusion' }, 'universe'],
      [{ ...base, culture: 'atlantean' }, 'culture'],
      [{ ...base, culture: 5 }, 'culture'],
      [{ continue_from: 'f'.repeat(32) }, 'continue_from'],
      [{ continue_from: 'not-an-id' }, 'continue_from'],
      [{ continue_from: 12 }, 'continue_from'],
    ];
    for (const [body, field] of cases) assertError(await post(body), field);
  });

  test('continue_from writes the next episode of a stored story', async () => {
    const one = await server.createAndWait({ universe: u1, hero, child_name: 'Noor', seed: 5 });
    assert.equal(one.status, 'ready', one.error);
    const two = await server.createAndWait({ continue_from: one.id, seed: 6 });
    assert.equal(two.status, 'ready', two.error);
    assert.equal(two.parameters.continue_from, one.id);
    assert.equal(two.story.episode, 2);
    assert.deepEqual(two.story.previous, { episode: 1, title: one.story.title });
    assert.equal(two.story.parameters.hero, hero);
    assert.equal(two.story.parameters.child_name, 'Noor');
    assert.match(two.story.pages[0].text, new RegExp(role(one.story, 'friend').name));
    const three = await server.createAndWait({ continue_from: two.id, seed: 7, length: 'chapter' });
    assert.equal(three.story.episode, 3);
    assertError(await post({ continue_from: one.id, hero: rival }), 'hero');
  });

  test('a story that is not ready yet cannot be continued', async () => {
    const idle = await new Server({ args: ['--workers', '0'] }).start();
    try {
      const created = await idle.request('POST', '/api/v1/stories', { body: { universe: u1, hero } });
      assert.equal(created.status, 202, created.text);
      const res = await idle.request('POST', '/api/v1/stories', { body: { continue_from: created.json.id } });
      assertError(res, 'continue_from');
      assert.match(res.json.error.message, /not ready/);
    } finally {
      await idle.stop();
      idle.cleanup();
    }
  });
});
