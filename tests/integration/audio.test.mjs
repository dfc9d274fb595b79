// Narration from the outside: `generate --audio` writes every page's Ogg Opus
// and word timings and the whole story as Opus and MP3 with chapters, the same
// bytes for the same seed; the audio stage of the pipeline (in serve, or as
// `worker --kind audio`) stores them as media served with HTTP Range.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCatalog, runBin, Server, storyParams } from '../lib/server.mjs';

let dir, catalog;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-audio-'));
  catalog = loadCatalog();
});
after(() => rmSync(dir, { recursive: true, force: true }));

// Seconds of audio in an Ogg Opus file: the last page's granule position
// (48 kHz samples) less the pre-skip from the OpusHead packet.
function opusSeconds(buf) {
  assert.equal(buf.subarray(0, 4).toString('latin1'), 'OggS');
  const head = buf.indexOf('OpusHead');
  assert.ok(head > 0, 'an OpusHead packet');
  const preSkip = buf.readUInt16LE(head + 10);
  const last = buf.lastIndexOf('OggS');
  const granule = Number(buf.readBigInt64LE(last + 6));
  return (granule - preSkip) / 48000;
}

function generate(out, extra = []) {
  const p = storyParams(catalog, 0, 7);
  return runBin(['generate', '--universe', p.universe, '--hero', p.hero, '--seed', String(p.seed), '--name', 'Mia',
    '--no-images', '--audio', '--out', out, ...extra], 120000);
}

test('generate --audio reads every page aloud with word timings, and the whole story with chapters', async () => {
  const out = path.join(dir, 'one');
  const r = await generate(out);
  assert.equal(r.status, 0, r.stderr);
  const story = JSON.parse(readFileSync(path.join(out, 'story.json'), 'utf8'));
  assert.equal(story.audio.file, 'audio/story.opus');
  assert.equal(story.audio.mp3, 'audio/story.mp3');
  assert.ok(story.audio.voices.narrator && story.audio.voices.hero);
  let total = 0;
  for (const page of story.pages) {
    const opus = readFileSync(path.join(out, page.audio.file));
    const seconds = opusSeconds(opus);
    total += seconds;
    assert.ok(Math.abs(seconds * 1000 - page.audio.duration_ms) < 100, `${page.audio.file}: ${seconds}s vs ${page.audio.duration_ms}ms`);
    const { words } = JSON.parse(readFileSync(path.join(out, page.audio.timings), 'utf8'));
    const spoken = page.text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    assert.ok(words.length >= spoken * 0.8 && words.length <= spoken * 1.3, `${words.length} timings for ${spoken} words`);
    // Plausible speech: 1.2 to 4 words a second.
    const rate = words.length / seconds;
    assert.ok(rate >= 1.2 && rate <= 4, `${rate} words a second`);
    const bytes = Buffer.from(page.text, 'utf8');
    let last = -1;
    for (const w of words) {
      assert.ok(w.start_ms >= last, 'timings in order');
      assert.ok(w.end_ms > w.start_ms, 'each word takes time');
      assert.ok(w.end_ms <= seconds * 1000 + 1, 'inside the audio');
      assert.equal(bytes.subarray(w.char_start, w.char_end).toString('utf8'), w.word);
      last = w.start_ms;
    }
  }
  const whole = readFileSync(path.join(out, 'audio', 'story.opus'));
  assert.ok(Math.abs(opusSeconds(whole) - total) < 0.5);
  assert.ok(whole.includes('CHAPTER001='));
  assert.ok(whole.includes(`CHAPTER${String(story.pages.length).padStart(3, '0')}=`));
  const mp3 = readFileSync(path.join(out, 'audio', 'story.mp3'));
  assert.equal(mp3.subarray(0, 3).toString('latin1'), 'ID3');
  assert.ok(mp3.includes('CHAP') && mp3.includes('CTOC'));

  // The same options and seed: the same sound, byte for byte.
  const again = path.join(dir, 'again');
  assert.equal((await generate(again)).status, 0);
  assert.ok(readFileSync(path.join(again, 'audio', 'story.opus')).equals(whole));
  assert.ok(readFileSync(path.join(again, 'audio', 'page-01.timings.json')).equals(readFileSync(path.join(out, 'audio', 'page-01.timings.json'))));
});

test('generate --audio speaks with flite too, and without music', async () => {
  const out = path.join(dir, 'flite');
  const r = await generate(out, ['--tts', 'flite', '--no-music']);
  assert.equal(r.status, 0, r.stderr);
  const story = JSON.parse(readFileSync(path.join(out, 'story.json'), 'utf8'));
  assert.equal(story.audio.voices.narrator.provider, 'flite');
  assert.ok(opusSeconds(readFileSync(path.join(out, 'audio', 'page-01.opus'))) > 2);
});

test('bad narration options are one line and exit 2', async () => {
  const r = await generate(path.join(dir, 'bad'), ['--tts', 'robot']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--tts/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

async function checkServedAudio(server, story) {
  const id = story.id;
  assert.ok(story.story.audio, 'the story names its audio');
  const page = story.story.pages[0];
  const file = await fetch(`${server.url}/api/v1/stories/${id}/media/${page.audio.file}`);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('content-type'), 'audio/ogg');
  assert.equal(file.headers.get('accept-ranges'), 'bytes');
  const body = Buffer.from(await file.arrayBuffer());
  assert.ok(opusSeconds(body) > 1);
  const part = await fetch(`${server.url}/api/v1/stories/${id}/media/${page.audio.file}`, { headers: { Range: 'bytes=0-99' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 0-99/${body.length}`);
  assert.ok(Buffer.from(await part.arrayBuffer()).equals(body.subarray(0, 100)));
  const tail = await fetch(`${server.url}/api/v1/stories/${id}/media/${page.audio.file}`, { headers: { Range: 'bytes=-10' } });
  assert.equal(tail.status, 206);
  assert.ok(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(body.length - 10)));
  const outside = await fetch(`${server.url}/api/v1/stories/${id}/media/${page.audio.file}`, { headers: { Range: `bytes=${body.length + 5}-` } });
  assert.equal(outside.status, 416);
  assert.equal(outside.headers.get('content-range'), `bytes */${body.length}`);
  const timings = await server.request('GET', `/api/v1/stories/${id}/media/${page.audio.timings}`);
  assert.equal(timings.status, 200);
  assert.match(timings.headers.get('content-type'), /application\/json/);
  assert.ok(timings.json.words.length > 5);
  const mp3 = await fetch(`${server.url}/api/v1/stories/${id}/media/audio/story.mp3`);
  assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
}

test('serve reads stories aloud as the last stage, and serves the sound with Range', async () => {
  const server = await new Server({ audio: true }).start();
  try {
    const story = await server.createAndWait(storyParams(catalog, 2), 120000);
    assert.equal(story.status, 'ready', JSON.stringify(story.error));
    await checkServedAudio(server, story);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('worker --kind audio reads the stories a text worker hands on', async () => {
  const api = await new Server({ audio: true, args: ['--roles', 'gateway,story,text'] }).start();
  const audio = await new Server({ audio: true, command: 'worker', dataDir: api.dataDir, args: ['--kind', 'audio'] }).start();
  try {
    const story = await api.createAndWait(storyParams(catalog, 3), 120000);
    assert.equal(story.status, 'ready', JSON.stringify(story.error));
    await checkServedAudio(api, story);
    const metrics = await audio.request('GET', '/metrics');
    assert.match(metrics.text, /storyverse_job_attempts_total\{kind="audio",outcome="succeeded"\} 1/);
  } finally {
    await audio.stop();
    await api.stop();
    audio.cleanup();
    api.cleanup();
  }
});
