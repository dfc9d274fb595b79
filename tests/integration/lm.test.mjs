// The language model from the outside: `storyverse lm` on small random
// checkpoints made by the fixture tool, the OpenAI-compatible /v1/completions
// the text role serves (whole and streamed), and the text providers: local,
// and openai talking to our own server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog, runBin, Server, storyParams } from '../lib/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = process.env.STORYVERSE_LM_FIXTURE || path.join(ROOT, 'build', 'tests', 'storyverse-lm-fixture');

let dir, model, tokenizer, shared;

function fixture(args) {
  const r = spawnSync(FIXTURE, args, { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-lm-'));
  model = path.join(dir, 'model.bin');
  tokenizer = path.join(dir, 'tokenizer.bin');
  shared = path.join(dir, 'shared.bin');
  const shape = ['--dim', '64', '--hidden', '192', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--vocab', '512', '--seq-len', '512'];
  fixture([...shape, '--unshared', '--seed', '1', '--model', model, '--tokenizer', tokenizer]);
  // The classifier is the embedding here, as in most small llama2.c models.
  fixture([...shape, '--seed', '2', '--model', shared]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const lm = (args) => runBin(['lm', ...args]);
const gen = (extra) => lm(['generate', '--model', model, '--tokenizer', tokenizer, '--prompt', 'Once upon a time', ...extra]);

test('lm generate prints the prompt and its continuation, the same on every kernel path', async () => {
  const outputs = {};
  for (const kernels of ['reference', 'portable', 'avx2', 'avxvnni']) {
    const r = await gen(['--temperature', '0', '--steps', '40', '--kernels', kernels]);
    if (r.status === 2 && /cannot run/.test(r.stderr)) continue; // not this CPU
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith('Once upon a time'), r.stdout);
    assert.ok(r.stdout.length > 'Once upon a time'.length + 10);
    outputs[kernels] = r.stdout;
  }
  assert.ok(outputs.reference && outputs.portable);
  for (const [k, out] of Object.entries(outputs)) assert.equal(out, outputs.reference, `${k} differs from reference`);
});

test('lm generate samples the same text for the same seed, another for another', async () => {
  const a = await gen(['--temperature', '1', '--top-p', '0.9', '--seed', '7', '--steps', '40']);
  const b = await gen(['--temperature', '1', '--top-p', '0.9', '--seed', '7', '--steps', '40']);
  const c = await gen(['--temperature', '1', '--top-p', '0.9', '--seed', '8', '--steps', '40']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.notEqual(a.stdout, c.stdout);
});

test('lm quantize writes int8 that runs, the same as quantizing on load', async () => {
  const q8 = path.join(dir, 'model.q8.bin');
  const q = await lm(['quantize', model, q8]);
  assert.equal(q.status, 0, q.stderr);
  const fromFile = await lm(['generate', '--model', q8, '--tokenizer', tokenizer, '--prompt', 'The fox', '--temperature', '0', '--steps', '30']);
  const onLoad = await gen(['--int8', '--prompt', 'The fox', '--temperature', '0', '--steps', '30']);
  assert.equal(fromFile.status, 0, fromFile.stderr);
  assert.equal(onLoad.status, 0, onLoad.stderr);
  assert.equal(fromFile.stdout, onLoad.stdout);
  assert.ok(fromFile.stdout.startsWith('The fox'));
  // An int8 file is not quantized again.
  const again = await lm(['quantize', q8, path.join(dir, 'again.bin')]);
  assert.equal(again.status, 2);
});

test('lm bench ends with the aggregate decode speed', async () => {
  for (const m of [model, shared]) {
    const r = await lm(['bench', '--model', m, '--tokenizer', tokenizer, '--steps', '16', '--batch', '4', '--threads', '2']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines.at(-1), /^\d+(\.\d+)? tok\/s$/);
    assert.ok(lines.some((l) => l.startsWith('prefill')));
    assert.ok(lines.some((l) => /batch 4/.test(l)));
  }
});

test('lm refuses bad input with one line and exit 2', async () => {
  const whole = readFileSync(model);
  const cut = path.join(dir, 'cut.bin');
  writeFileSync(cut, whole.subarray(0, whole.length - 100));
  const junk = path.join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.from('this is not a tokenizer at all'));
  const cases = [
    [['generate', '--model', cut, '--tokenizer', tokenizer], /not a usable checkpoint/],
    [['generate', '--model', model, '--tokenizer', junk], /tokenizer/],
    [['generate', '--model', path.join(dir, 'none.bin'), '--tokenizer', tokenizer], /none\.bin/],
    [['generate', '--tokenizer', tokenizer], /--model/],
    [['frobnicate'], /unknown command/],
    [['generate', '--model', model, '--tokenizer', tokenizer, '--temperature', '-1'], /--temperature/],
    [['bench', '--model', model, '--tokenizer', tokenizer, '--batch', '99'], /--batch/],
    [['generate', '--model', model, '--tokenizer', tokenizer, '--kernels', 'gpu'], /--kernels/],
    [['generate', '--model', model, '--tokenizer', tokenizer, '--prompt', 'a long prompt that does not fit', '--steps', '3'], /steps/],
    [['quantize', model], /IN and OUT/],
  ];
  for (const [args, pattern] of cases) {
    const r = await lm(args);
    assert.ok(r.status === 2 || r.status === 1, `${args.join(' ')}: exit ${r.status}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

// ---- the OpenAI-compatible API ----

async function complete(server, body) {
  return server.request('POST', '/v1/completions', { body });
}

// Reads a streamed completion: the text pieces, the last finish_reason, whether [DONE] came.
async function completeStreamed(server, body) {
  const res = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
    signal: AbortSignal.timeout(20000),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const raw = await res.text();
  const events = raw.split('\n\n').filter((e) => e.startsWith('data: '));
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  return {
    chunks,
    text: chunks.map((c) => c.choices[0].text).join(''),
    finish: chunks.at(-1).choices[0].finish_reason,
  };
}

test('the text role serves /v1/completions from its model, whole and streamed', async () => {
  const server = await new Server({ command: 'worker', args: ['--kind', 'text', '--lm-model', model, '--lm-tokenizer', tokenizer] }).start();
  try {
    const models = await server.request('GET', '/v1/models');
    assert.equal(models.status, 200);
    assert.equal(models.json.data[0].id, 'model.bin');

    const body = { model: 'model.bin', prompt: 'Once upon a time', max_tokens: 12, temperature: 0 };
    const whole = await complete(server, body);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.object, 'text_completion');
    const text = whole.json.choices[0].text;
    assert.ok(text.length > 0);
    assert.ok(whole.json.usage.prompt_tokens > 0);
    assert.ok(whole.json.usage.completion_tokens >= 1 && whole.json.usage.completion_tokens <= 12);
    assert.equal(whole.json.usage.total_tokens, whole.json.usage.prompt_tokens + whole.json.usage.completion_tokens);
    assert.ok(['length', 'stop'].includes(whole.json.choices[0].finish_reason));
    // Greedy is deterministic, and the stream says the same as the whole answer.
    assert.equal((await complete(server, body)).json.choices[0].text, text);
    const streamed = await completeStreamed(server, body);
    assert.equal(streamed.text, text);
    assert.ok(streamed.chunks.length >= 2);
    assert.equal(streamed.finish, whole.json.choices[0].finish_reason);

    // A stop sequence ends the text before it, whole or streamed.
    // (Two plain letters after the start: the model's text may hold raw bytes,
    // which reach the client as U+FFFD and so cannot be asked for back.)
    const at = text.slice(1).search(/[a-z]{2}/i) + 1;
    const stop = text.slice(at, at + 2);
    assert.ok(at > 0, `no two letters to stop at in ${JSON.stringify(text)}`);
    {
      const stopped = await complete(server, { ...body, stop: [stop] });
      assert.equal(stopped.json.choices[0].text, text.slice(0, text.indexOf(stop)));
      assert.equal(stopped.json.choices[0].finish_reason, 'stop');
      const s2 = await completeStreamed(server, { ...body, stop });
      assert.equal(s2.text, text.slice(0, text.indexOf(stop)));
    }

    // Several callers at once are decoded together and get what they would alone.
    const prompts = ['The little fox', 'In the sea', 'A kind dragon', 'Stars over the hill', 'Hello there', 'Snow'];
    const alone = [];
    for (const prompt of prompts) alone.push((await complete(server, { prompt, max_tokens: 10, temperature: 0 })).json.choices[0].text);
    const together = await Promise.all(prompts.map((prompt) => complete(server, { prompt, max_tokens: 10, temperature: 0 })));
    assert.deepEqual(together.map((r) => r.json.choices[0].text), alone);

    // Bad requests name the field.
    const bad = [
      [{ prompt: 'hi', max_tokens: 0 }, 'max_tokens'],
      [{ prompt: 'hi', max_tokens: 100000 }, 'max_tokens'],
      [{ prompt: 'hi', temperature: 'hot' }, 'temperature'],
      [{ prompt: 'hi', top_p: 2 }, 'top_p'],
      [{ max_tokens: 4 }, 'prompt'],
      [{ prompt: 7 }, 'prompt'],
      [{ prompt: 'hi', n: 3 }, 'n'],
      [{ prompt: 'hi', stop: [1] }, 'stop'],
      [{ prompt: 'hi', stream: 'yes' }, 'stream'],
      [{ prompt: 'word '.repeat(2000) }, 'prompt'],
    ];
    for (const [b, field] of bad) {
      const r = await complete(server, b);
      assert.equal(r.status, 400, `${JSON.stringify(b).slice(0, 60)}: ${r.text}`);
      assert.equal(r.json.error.field, field);
    }
    const notJson = await server.request('POST', '/v1/completions', { body: '{nope', raw: true, headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);

    const metrics = await server.request('GET', '/metrics');
    assert.match(metrics.text, /storyverse_lm_requests_total\{outcome="ok"\} \d+/);
    assert.match(metrics.text, /storyverse_lm_requests_total\{outcome="invalid"\} \d+/);
    assert.match(metrics.text, /storyverse_lm_tokens_total\{kind="completion"\} \d+/);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('a server stopped while it streams a completion exits cleanly', async () => {
  const server = await new Server({ command: 'worker', args: ['--kind', 'text', '--lm-model', model, '--lm-tokenizer', tokenizer] }).start();
  try {
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 400, stream: true }),
    });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    await reader.read(); // the stream has begun
    const exit = await server.stop();
    assert.equal(exit.code, 0, server.stderr);
    await reader.cancel().catch(() => {});
  } finally {
    server.cleanup();
  }
});

test('without a model, /v1/completions says so', async () => {
  const server = await new Server({ command: 'worker', args: ['--kind', 'text'] }).start();
  try {
    const r = await complete(server, { prompt: 'hi' });
    assert.equal(r.status, 503);
    assert.match(r.json.error.message, /--lm-model/);
    assert.deepEqual((await server.request('GET', '/v1/models')).json.data, []);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

function requestsServed(metricsText) {
  const m = metricsText.match(/storyverse_lm_requests_total\{outcome="ok"\} (\d+)/);
  return m ? Number(m[1]) : 0;
}

test('the local provider writes every page with the model, keeping drafts that fail the checks', async () => {
  const catalog = loadCatalog();
  const server = await new Server({ args: ['--text-provider', 'local', '--lm-model', model, '--lm-tokenizer', tokenizer] }).start();
  try {
    const story = await server.createAndWait(storyParams(catalog, 0), 60000);
    assert.equal(story.status, 'ready', JSON.stringify(story.error));
    for (const page of story.story.pages) {
      assert.ok(['local', 'grammar'].includes(page.text_provider), page.text_provider);
      assert.ok(page.text.length > 0);
    }
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('the openai provider writes through our own server', async () => {
  const catalog = loadCatalog();
  const text = await new Server({ command: 'worker', args: ['--kind', 'text', '--lm-model', model, '--lm-tokenizer', tokenizer] }).start();
  const writer = await new Server({
    args: ['--text-provider', 'openai', '--openai-api', 'completions', '--openai-model', 'model.bin'],
    env: { STORYVERSE_OPENAI_BASE_URL: text.url, STORYVERSE_OPENAI_API_KEY: 'test-key' },
  }).start();
  try {
    const before = requestsServed((await text.request('GET', '/metrics')).text);
    const story = await writer.createAndWait(storyParams(catalog, 1), 60000);
    assert.equal(story.status, 'ready', JSON.stringify(story.error));
    const pages = story.story.pages;
    for (const page of pages) assert.ok(['openai', 'grammar'].includes(page.text_provider), page.text_provider);
    // Every page was asked of the text server.
    const served = requestsServed((await text.request('GET', '/metrics')).text) - before;
    assert.equal(served, pages.length);
  } finally {
    await writer.stop();
    await text.stop();
    writer.cleanup();
    text.cleanup();
  }
});

test('serve refuses a text provider it cannot use, naming the flag', async () => {
  const cases = [
    [['--text-provider', 'local'], /--text-provider/],
    [['--text-provider', 'openai'], /STORYVERSE_OPENAI_BASE_URL/],
    [['--text-provider', 'gpt'], /--text-provider/],
    [['--lm-model', model], /--lm-tokenizer/],
    [['--lm-model', path.join(dir, 'none.bin'), '--lm-tokenizer', tokenizer], /--lm-model/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runBin(['serve', '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data'), ...args], 20000);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
