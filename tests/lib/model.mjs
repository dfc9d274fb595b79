// A small OpenAI-compatible chat server for tests of output moderation: no
// real model runs in a test, so this one answers each page request with a
// page of about the length asked for, naming the page's first character, and
// with one sentence that moderation must refuse when `unsafe` says so.
import http from 'node:http';

export const UNSAFE = 'Then the fox stabbed the rabbit with a knife until it bled.';
export const SAFE = 'Then the fox and the rabbit shared a big slice of honey cake.';

// A page of about `words` words naming `name`, with `middle` in it.
function page(name, words, middle) {
  const filler = [
    `${name} walked along the sunny path, humming a happy little song.`,
    'The birds were singing in the tall green trees by the river.',
    `"What a lovely day for an adventure!" said ${name} with a smile.`,
    'Everyone laughed and waved at the boats going by on the water.',
  ];
  const out = [filler[0], middle];
  for (let i = 1; out.join(' ').split(' ').length < words; i++) out.push(filler[i % filler.length]);
  return out.join(' ');
}

// An OpenAI-compatible chat server: `unsafe(request)` says whether to answer
// with a page moderation must refuse.
export async function modelServer(unsafe) {
  const seen = { calls: 0, rewrites: 0 };
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const ask = JSON.parse(body);
      const system = ask.messages.find((m) => m.role === 'system').content;
      const prompt = ask.messages.find((m) => m.role === 'user').content;
      const name = /Characters on this page: ([^(;]+?) \(/.exec(prompt)?.[1] ?? 'Pip';
      const words = Number(/Write about (\d+) words/.exec(prompt)?.[1] ?? 60);
      const rewrite = system.includes('Your last try');
      seen.calls++;
      if (rewrite) seen.rewrites++;
      const content = page(name, words, unsafe({ rewrite }) ? UNSAFE : SAFE);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }));
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { srv, seen, url: `http://127.0.0.1:${srv.address().port}` };
}

