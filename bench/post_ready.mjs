// Creates stories one after another and prints the mean milliseconds from
// POST /api/v1/stories to a ready story, then the id of the last one.
// usage: node bench/post_ready.mjs BASE_URL UNIVERSE HERO COUNT
const [base, universe, hero, countArg] = process.argv.slice(2);
const count = Number(countArg || 10);
let total = 0;
let id;
for (let i = 0; i < count; i++) {
  const start = performance.now();
  const res = await fetch(`${base}/api/v1/stories`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ universe, hero, seed: i }),
  });
  ({ id } = await res.json());
  for (let polls = 0; ; polls++) {
    const story = await (await fetch(`${base}/api/v1/stories/${id}`)).json();
    if (story.status === 'ready') break;
    if (story.status === 'failed' || polls > 20000) throw new Error(`story ${id}: ${story.status}`);
    await new Promise((r) => setTimeout(r, 1));
  }
  total += performance.now() - start;
}
console.log((total / count).toFixed(2), id);
