// A small stand-in for a ComfyUI server, for the tests of the remote image
// provider. It follows the documented HTTP API of ComfyUI's server.py:
//
//   POST /prompt          {"prompt": {node id: {class_type, inputs}}, "client_id"?}
//                         -> {"prompt_id", "number", "node_errors": {}}, or 400 with
//                            {"error": {type, message, details, extra_info}, "node_errors"}
//   GET  /history/{id}    -> {} until the picture is drawn, then
//                            {id: {"prompt": [...], "outputs": {save node id: {"images":
//                            [{"filename", "subfolder", "type"}]}}, "status": {...}}}
//   GET  /view?filename=&subfolder=&type=   -> the picture's bytes
//
// Instead of running a model it "draws" a solid-colour PNG of the latent's
// size, its colour taken from a hash of the positive prompt, with a tEXt
// comment "comfyui-standin <hash>" so a test can tell where a picture came
// from. No dependencies beyond node's own modules.
//
// Switches for tests: slowMs delays every answer (to trigger a client's
// timeout), drawMs is how long a picture takes, fail answers 500 everywhere,
// notPng answers /view with something that is not a PNG. GET
// /_standin/last-prompt answers the last body POSTed to /prompt (not part of
// ComfyUI's API; for tests written in other languages).
//
// As a script: node comfyui_standin.mjs --port N [--slow-ms N] [--draw-ms N]
// [--fail] [--not-png] prints {"port":N} on stdout once listening (--port 0
// picks a free port) and stops on SIGTERM.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const BODY_MAX = 1 << 20;
const SIDE_MAX = 2048;
const VIEW_TYPES = new Set(['output', 'input', 'temp']);

// ---- a PNG of one colour ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

// An 8-bit RGB PNG, width x height, every pixel rgb, with a tEXt Comment.
export function solidPng(width, height, [r, g, b], comment) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const row = Buffer.alloc(1 + width * 3); // filter byte 0, then the pixels
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.alloc(row.length * height);
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.from(`Comment\0${comment}`, 'latin1')),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- checking a workflow ----

function isLink(v) {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isInteger(v[1]);
}

// Returns an error message, or null when the graph is one we can "run".
function checkGraph(graph) {
  if (!graph || typeof graph !== 'object' || Array.isArray(graph)) return 'prompt is not an object';
  const ids = Object.keys(graph);
  for (const id of ids) {
    const node = graph[id];
    if (!node || typeof node.class_type !== 'string') return `node ${id} has no class_type`;
    if (!node.inputs || typeof node.inputs !== 'object') return `node ${id} has no inputs`;
    for (const [name, v] of Object.entries(node.inputs)) {
      if (isLink(v) && !(v[0] in graph)) return `node ${id} input ${name} links to a missing node`;
    }
  }
  const classes = ids.map((id) => graph[id].class_type);
  if (!classes.includes('SaveImage')) return 'prompt has no outputs (no SaveImage node)';
  if (!classes.includes('KSampler')) return 'prompt has no KSampler node';
  return null;
}

function nodeOf(graph, cls) {
  return Object.keys(graph).find((id) => graph[id].class_type === cls);
}

// The text of the CLIPTextEncode node the sampler's "positive" links to.
function positiveText(graph) {
  const link = graph[nodeOf(graph, 'KSampler')].inputs.positive;
  const text = isLink(link) ? graph[link[0]]?.inputs?.text : undefined;
  return typeof text === 'string' ? text : '';
}

function latentSize(graph) {
  const id = nodeOf(graph, 'EmptyLatentImage');
  const side = (v, d) => (Number.isInteger(v) && v >= 8 && v <= SIDE_MAX ? v : d);
  const inputs = id ? graph[id].inputs : {};
  return [side(inputs.width, 1024), side(inputs.height, 768)];
}

// ---- the server ----

function send(res, status, body, type = 'application/json') {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': data.length });
  res.end(data);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let n = 0;
    req.on('data', (d) => {
      n += d.length;
      if (n > BODY_MAX) reject(Object.assign(new Error('body too large'), { status: 413 }));
      else parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function promptError(message) {
  return { error: { type: 'invalid_prompt', message, details: '', extra_info: {} }, node_errors: {} };
}

class Standin {
  constructor({ slowMs = 0, drawMs = 80, fail = false, notPng = false } = {}) {
    Object.assign(this, { slowMs, drawMs, fail, notPng });
    this.jobs = new Map(); // prompt_id -> { number, graph, clientId, doneAt, outputs }
    this.files = new Map(); // "type/subfolder/filename" -> PNG bytes
    this.last = null;
    this.number = 0;
    this.timers = new Set();
  }

  later(ms, fn) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  async handle(req, res) {
    const url = new URL(req.url, 'http://standin');
    if (this.fail) return send(res, 500, 'Internal Server Error', 'text/plain');
    if (req.method === 'POST' && url.pathname === '/prompt') return this.queue(req, res);
    if (req.method === 'GET' && url.pathname.startsWith('/history/'))
      return this.history(res, decodeURIComponent(url.pathname.slice('/history/'.length)));
    if (req.method === 'GET' && url.pathname === '/view') return this.view(res, url.searchParams);
    if (req.method === 'GET' && url.pathname === '/_standin/last-prompt')
      return this.last ? send(res, 200, this.last) : send(res, 404, { error: 'no prompt yet' });
    return send(res, 404, '404: Not Found', 'text/plain');
  }

  async queue(req, res) {
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      return send(res, e.status || 400, promptError('the body is not JSON'));
    }
    this.last = body;
    const problem = checkGraph(body?.prompt);
    if (problem) return send(res, 400, promptError(problem));
    const id = randomUUID();
    const job = { number: this.number++, graph: body.prompt, clientId: body.client_id, doneAt: Date.now() + this.drawMs };
    this.jobs.set(id, job);
    return send(res, 200, { prompt_id: id, number: job.number, node_errors: {} });
  }

  // "Draws" the job's picture once, the way SaveImage names its files.
  draw(job) {
    if (job.outputs) return job.outputs;
    const saveId = nodeOf(job.graph, 'SaveImage');
    const prefix = String(job.graph[saveId].inputs.filename_prefix ?? 'ComfyUI');
    const slash = prefix.lastIndexOf('/');
    const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
    const filename = `${prefix.slice(slash + 1)}_${String(job.number + 1).padStart(5, '0')}_.png`;
    const hash = createHash('sha256').update(positiveText(job.graph)).digest();
    const [w, h] = latentSize(job.graph);
    const png = solidPng(w, h, [hash[0], hash[1], hash[2]], `comfyui-standin ${hash.toString('hex', 0, 8)}`);
    this.files.set(`output/${subfolder}/${filename}`, png);
    job.outputs = { [saveId]: { images: [{ filename, subfolder, type: 'output' }] } };
    return job.outputs;
  }

  history(res, id) {
    const job = this.jobs.get(id);
    if (!job || Date.now() < job.doneAt) return send(res, 200, {});
    const outputs = this.draw(job);
    const status = { status_str: 'success', completed: true, messages: [] };
    const prompt = [job.number, id, job.graph, { client_id: job.clientId }, Object.keys(outputs)];
    return send(res, 200, { [id]: { prompt, outputs, status } });
  }

  view(res, q) {
    const type = q.get('type') || 'output';
    const filename = q.get('filename') || '';
    const subfolder = q.get('subfolder') || '';
    if (!VIEW_TYPES.has(type) || !filename || filename.includes('..') || subfolder.includes('..'))
      return send(res, 400, '400: Bad Request', 'text/plain');
    const png = this.files.get(`${type}/${subfolder}/${filename}`);
    if (!png) return send(res, 404, '404: Not Found', 'text/plain');
    if (this.notPng) return send(res, 200, '<html><body>not a picture</body></html>', 'image/png');
    return send(res, 200, png, 'image/png');
  }
}

// Starts the stand-in; returns { url, port, lastPrompt(), stop() }.
export async function startComfyStandin({ port = 0, host = '127.0.0.1', ...opts } = {}) {
  const standin = new Standin(opts);
  const server = http.createServer((req, res) => {
    const go = () =>
      standin.handle(req, res).catch((e) => {
        if (!res.headersSent) send(res, 500, { error: String(e) });
      });
    if (standin.slowMs > 0) standin.later(standin.slowMs, go);
    else go();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actual = server.address().port;
  return {
    port: actual,
    url: `http://${host}:${actual}`,
    lastPrompt: () => standin.last,
    stop() {
      for (const t of standin.timers) clearTimeout(t);
      standin.timers.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function parseArgs(argv) {
  const opts = { port: 0 };
  const num = (i) => {
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${argv[i]} needs a whole number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = num(i++);
    else if (a === '--slow-ms') opts.slowMs = num(i++);
    else if (a === '--draw-ms') opts.drawMs = num(i++);
    else if (a === '--fail') opts.fail = true;
    else if (a === '--not-png') opts.notPng = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

async function main() {
  const s = await startComfyStandin(parseArgs(process.argv.slice(2)));
  process.on('SIGTERM', () => s.stop().finally(() => process.exit(0)));
  process.on('SIGINT', () => s.stop().finally(() => process.exit(0)));
  process.stdout.write(JSON.stringify({ port: s.port }) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(2);
  });
}
