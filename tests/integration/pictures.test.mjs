// The pictures from the command line: `generate` draws a cover and a picture
// for every page (with thumbnails) unless --no-images, records alt text in
// story.json, shows them in story.html, in the chosen --style, the same bytes
// for the same seed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startComfyStandin } from '../lib/comfyui_standin.mjs';
import { BIN, runBin } from '../lib/server.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sv-pictures-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
const catalog = JSON.parse(run('catalog').stdout);
const universe = catalog.universes[1].id;
const hero = catalog.characters.find((c) => c.universe === universe).id;

function generate(name, ...args) {
  const out = path.join(tmp, name);
  const r = run('generate', '--universe', universe, '--hero', hero, '--name', 'Ines', '--out', out, ...args);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

// A PNG's width and height, from its IHDR chunk.
function pngSize(file) {
  const b = readFileSync(file);
  assert.deepEqual(b.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), file);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

const out = generate('a', '--seed', '11');
const story = JSON.parse(readFileSync(path.join(out, 'story.json'), 'utf8'));

test('a cover and a picture for every page, each with a 320-pixel thumbnail', () => {
  const n = story.pages.length;
  const files = readdirSync(path.join(out, 'images')).sort();
  const expected = ['cover.png', 'cover.thumb.png'];
  for (let i = 1; i <= n; i++) {
    const stem = `page-${String(i).padStart(2, '0')}`;
    expected.push(`${stem}.png`, `${stem}.thumb.png`);
  }
  assert.deepEqual(files, expected.sort());
  assert.deepEqual(pngSize(path.join(out, 'images', 'page-01.png')), [1024, 768]);
  assert.deepEqual(pngSize(path.join(out, 'images', 'page-01.thumb.png')), [320, 240]);
  assert.deepEqual(pngSize(path.join(out, 'images', 'cover.png')), [768, 1024]);
  assert.equal(pngSize(path.join(out, 'images', 'cover.thumb.png'))[0], 320);
});

test('story.json names every picture with alt text; story.html shows them', () => {
  const html = readFileSync(path.join(out, 'story.html'), 'utf8');
  for (const page of story.pages) {
    const stem = `images/page-${String(page.number).padStart(2, '0')}`;
    assert.equal(page.picture.image, `${stem}.png`);
    assert.equal(page.picture.thumbnail, `${stem}.thumb.png`);
    assert.ok(page.picture.alt.length > 20, page.picture.alt);
    assert.ok(page.picture.alt.includes(page.scene.place_name), page.picture.alt);
    assert.ok(html.includes(`src="${stem}.png"`), stem);
  }
  assert.equal(story.cover.image, 'images/cover.png');
  assert.ok(html.includes('src="images/cover.png"'));
});

test('pictures are the same bytes for the same seed and differ between pages', () => {
  const again = generate('b', '--seed', '11');
  for (const f of readdirSync(path.join(out, 'images'))) {
    assert.deepEqual(readFileSync(path.join(again, 'images', f)), readFileSync(path.join(out, 'images', f)), f);
  }
  const pages = story.pages.map((p) => readFileSync(path.join(out, p.picture.image)).toString('base64'));
  assert.equal(new Set(pages).size, pages.length, 'every page is a different picture');
});

test('--style picks the art style; an unknown one is a usage error', () => {
  const flat = generate('flat', '--seed', '11', '--style', 'flat');
  const stored = JSON.parse(readFileSync(path.join(flat, 'story.json'), 'utf8'));
  assert.equal(stored.parameters.style, 'flat');
  assert.equal(story.parameters.style, 'watercolour');
  assert.notDeepEqual(readFileSync(path.join(flat, 'images', 'page-01.png')), readFileSync(path.join(out, 'images', 'page-01.png')));
  const bad = run('generate', '--universe', universe, '--hero', hero, '--style', 'oil', '--out', path.join(tmp, 'bad'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^storyverse generate: --style: .*watercolour/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('--no-images writes the words only', () => {
  const words = generate('words', '--seed', '11', '--no-images');
  assert.equal(existsSync(path.join(words, 'images')), false);
  const doc = JSON.parse(readFileSync(path.join(words, 'story.json'), 'utf8'));
  assert.equal(doc.pages[0].picture, undefined);
  assert.doesNotMatch(readFileSync(path.join(words, 'story.html'), 'utf8'), /<img/);
});

test('sheet draws a character in every expression; mistakes are one line and exit 2', () => {
  const file = path.join(tmp, 'sheet.png');
  const r = run('sheet', '--character', hero, '--style', 'crayon', '--out', file);
  assert.equal(r.status, 0, r.stderr);
  const [w, h] = pngSize(file);
  assert.ok(w >= 600 && h >= 400, `${w}x${h}`);
  for (const [args, pattern] of [
    [['--character', 'nobody', '--out', file], /--character: unknown character 'nobody'/],
    [['--character', hero, '--style', 'oil', '--out', file], /--style/],
    [['--character', hero], /--out/],
  ]) {
    const bad = run('sheet', ...args);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, pattern);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  }
});

test('--image-provider comfyui asks a ComfyUI server for each page, and draws here what it cannot give', async () => {
  const args = (out, url) => ['generate', '--universe', universe, '--hero', hero, '--name', 'Ines', '--seed', '11',
    '--image-provider', 'comfyui', '--comfyui-url', url, '--out', out];
  const comfy = await startComfyStandin({ drawMs: 10 });
  try {
    const out = path.join(tmp, 'comfy');
    const r = await runBin(args(out, comfy.url));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(path.join(out, 'images', 'page-01.png')).includes('comfyui-standin'), 'the page came from the server');
    assert.ok(!readFileSync(path.join(out, 'images', 'cover.png')).includes('comfyui-standin'), 'the cover is ours');
    assert.deepEqual(pngSize(path.join(out, 'images', 'page-01.thumb.png')), [320, 240]);
  } finally {
    await comfy.stop();
  }
  const broken = await startComfyStandin({ fail: true });
  try {
    const out = path.join(tmp, 'comfy-broken');
    const r = await runBin(args(out, broken.url));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /remote picture failed; drawing it here/);
    const page = readFileSync(path.join(out, 'images', 'page-01.png'));
    assert.ok(!page.includes('comfyui-standin'));
    assert.deepEqual(page, readFileSync(path.join(out, '..', 'a', 'images', 'page-01.png')), 'the local picture');
  } finally {
    await broken.stop();
  }
});
