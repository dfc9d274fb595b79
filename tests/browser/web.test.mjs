// Browser test of the StoryVerse web page: starts the real server on a free
// loopback port with a fresh data folder, drives Debian's Chromium through
// playwright-core, and uses the page the way a parent would: pick a world and
// a hero, type a name, create a story, read it, find it in the list, delete it;
// choose the child's pronouns, a family's traditions, worlds that meet and a
// character of their own, and write a story's next episode.
//
// Run: STORYVERSE_BIN=build/storyverse node --test tests/browser/
// Set STORYVERSE_SCREENSHOTS=/some/folder to keep screenshots of each step.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { modelServer } from '../lib/model.mjs';
import { BIN, Server, runBin, sleep } from '../lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = process.env.STORYVERSE_SCREENSHOTS || '';

const START_TIMEOUT_MS = 15000;
const STEP_TIMEOUT_MS = 15000;
const STORY_TIMEOUT_MS = 60000;
const TEST_TIMEOUT_MS = 120000;

let server = null;
let browser = null;
let baseUrl = '';
const pageErrors = [];

async function shot(page, name) {
	if (!SHOTS)
		return;
	fs.mkdirSync(SHOTS, { recursive: true });
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function newPage(viewport = { width: 1200, height: 900 }, url = baseUrl) {
	const context = await browser.newContext({ viewport });
	const page = await context.newPage();
	page.setDefaultTimeout(STEP_TIMEOUT_MS);
	page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
	page.on('pageerror', (err) => pageErrors.push(err.message));
	await page.goto(`${url}/`);
	await page.locator('#create:not([disabled])').waitFor();
	return page;
}

/* Picks the last world in the list and a hero who lives there. */
async function pickUniverseAndHero(page) {
	const universes = await page.locator('#universe option').evaluateAll((opts) => opts.map((o) => o.value));
	assert.ok(universes.length > 0, 'the world list is empty');
	const universe = universes[universes.length - 1];
	await page.selectOption('#universe', universe);
	const heroes = await page.locator('#hero option').evaluateAll((opts) => opts.map((o) => o.value));
	assert.ok(heroes.length > 0, 'the hero list is empty');
	await page.selectOption('#hero', heroes[0]);
	return { universe, hero: heroes[0] };
}

/* Opens "More choices" the way a parent would, by clicking it. */
async function openMore(page) {
	if (!(await page.locator('#more').evaluate((d) => d.open)))
		await page.click('#more > summary');
}

/* The story resource from the API, for checking what the page sent. */
async function getStory(id) {
	const res = await fetch(`${baseUrl}/api/v1/stories/${encodeURIComponent(id)}`, {
		signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
	});
	assert.equal(res.status, 200, `GET story ${id}`);
	return res.json();
}

async function getCatalog() {
	const res = await fetch(`${baseUrl}/api/v1/catalog`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
	assert.equal(res.status, 200);
	return res.json();
}

/* Creates the story the form holds and waits for the book; returns its id and text. */
async function createAndRead(page) {
	await page.click('#create');
	const result = await waitForStory(page);
	assert.equal(result.status, 'ready', `the story did not become ready: ${result.text}\n${server.stderr}`);
	await page.locator('#story').waitFor({ state: 'visible' });
	const id = await page.getAttribute('#story', 'data-id');
	assert.ok(id, 'the book knows which story it shows');
	const text = (await page.locator('#story .page').allTextContents()).join('\n');
	return { id, text };
}

/* Waits until the status line settles and returns it. */
async function waitForStory(page) {
	await page.waitForFunction(
		() => ['ready', 'failed'].includes(document.querySelector('#status')?.dataset.status),
		null,
		{ timeout: STORY_TIMEOUT_MS }
	);
	return {
		status: await page.getAttribute('#status', 'data-status'),
		text: await page.textContent('#status'),
	};
}

describe('web page', { timeout: 10 * TEST_TIMEOUT_MS }, () => {
	before(async () => {
		assert.ok(fs.existsSync(BIN), `no server binary at ${BIN} (build it, or set STORYVERSE_BIN)`);
		/* With pictures and narration: the reader shows the cover and a picture
		 * on every page, and reads each page aloud, lighting up the words. */
		server = await new Server({ images: true, audio: true }).start();
		baseUrl = server.url;
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			headless: true,
			timeout: START_TIMEOUT_MS,
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
			],
		});
	});

	after(async () => {
		try {
			if (browser)
				await Promise.race([browser.close(), sleep(5000)]);
		} finally {
			if (server) {
				await server.stop();
				server.cleanup();
			}
		}
	});

	test('the page loads the catalog into labelled fields', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			assert.match(await page.title(), /StoryVerse/);
			assert.ok((await page.locator('#universe option').count()) > 0);
			assert.ok((await page.locator('#hero option').count()) > 0);
			assert.ok((await page.locator('#hero optgroup').count()) > 0, 'heroes are grouped by world');
			assert.equal(await page.inputValue('#sidekick'), '', 'the sidekick is left to the server');
			/* Every field has a label a screen reader can announce. */
			const unlabelled = await page.evaluate(() =>
				[...document.querySelectorAll('#creator select, #creator input')]
					.filter((el) => el.labels.length === 0)
					.map((el) => el.id)
			);
			assert.deepEqual(unlabelled, []);
			await shot(page, '1-form');
		} finally {
			await page.context().close();
		}
	});

	let storyId = '';
	let storyTitle = '';

	test('creating a story shows it as a book with the child in it', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			await pickUniverseAndHero(page);
			await page.fill('#child-name', 'Maya');
			/* Every line the status shows on the way, to see the progress it reported. */
			await page.evaluate(() => {
				window.statusLines = [];
				new MutationObserver(() => window.statusLines.push(document.querySelector('#status').textContent)).observe(
					document.querySelector('#status'),
					{ childList: true, subtree: true, characterData: true }
				);
			});
			await page.click('#create');
			await page.locator('#status').waitFor({ state: 'visible' });
			const result = await waitForStory(page);
			assert.equal(result.status, 'ready', `the story did not become ready: ${result.text}\n${server.stderr}`);
			const lines = await page.evaluate(() => window.statusLines);
			assert.ok(lines.some((l) => /pages? written so far/.test(l)), JSON.stringify(lines));
			assert.ok(lines.some((l) => /drawn so far/.test(l)), JSON.stringify(lines));

			await page.locator('#story').waitFor({ state: 'visible' });
			storyTitle = (await page.textContent('#story-title')).trim();
			assert.ok(storyTitle.length > 0, 'the story has a title');
			storyId = await page.getAttribute('#story', 'data-id');
			assert.ok(storyId, 'the book knows which story it shows');

			const pages = page.locator('#story .page');
			const count = await pages.count();
			assert.ok(count > 0, 'the story has pages');
			const numbers = await pages.evaluateAll((els) => els.map((el) => el.dataset.page));
			assert.deepEqual(numbers, numbers.map((_, i) => String(i + 1)), 'pages are numbered in order');
			const text = (await pages.allTextContents()).join('\n');
			assert.ok(text.includes('Maya'), "the child's name appears in the story");

			/* Every page has its picture (loaded lazily: each answers), with words for
			 * those who cannot see it; the first one, in view, has loaded. */
			const pictures = await page.locator('#story .page img.page-picture').evaluateAll((imgs) =>
				Promise.all(imgs.map(async (img) => ({ status: (await fetch(img.src)).status, alt: img.alt })))
			);
			assert.equal(pictures.length, count, 'a picture on every page');
			assert.ok(pictures.every((p) => p.status === 200 && p.alt.length > 10), JSON.stringify(pictures.slice(0, 2)));
			const first = page.locator('#story .page img.page-picture').first();
			await first.scrollIntoViewIfNeeded();
			await page.waitForFunction(() => {
				const img = document.querySelector('#story .page img.page-picture');
				return img && img.complete && img.naturalWidth === 1024;
			});
			const cover = page.locator('#story-cover img.book-cover');
			await cover.waitFor({ state: 'visible' });
			assert.equal(await cover.evaluate((img) => img.naturalHeight), 1024);

			/* The page to keep is the worker's HTML export of the same story. */
			const keep = await page.getAttribute('#save-page', 'href');
			assert.equal(keep, `/api/v1/stories/${storyId}/media/story.html`);
			const kept = await page.evaluate(async (href) => {
				const r = await fetch(href);
				return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
			}, keep);
			assert.equal(kept.status, 200);
			assert.match(kept.type, /^text\/html/);
			assert.ok(kept.text.includes('Maya'), 'the kept page is the same story');

			/* Read-along: every page has its player and its words in spans; moving
			 * the first page's audio to a word's time lights that word up. */
			assert.equal(await page.locator('#story .page audio.page-audio').count(), count);
			assert.ok(await page.locator('#story-listen audio.story-audio').isVisible());
			await page.waitForFunction(() => document.querySelectorAll('#story .page')[0]?.querySelectorAll('.word').length > 5);
			const lit = await page.evaluate(async () => {
				const section = document.querySelector('#story .page');
				const audio = section.querySelector('audio.page-audio');
				const timings = await (await fetch(audio.src.replace(/\.opus$/, '.timings.json'))).json();
				const w = timings.words[4];
				audio.preload = 'auto';
				audio.load();
				await new Promise((ok, fail) => {
					audio.addEventListener('loadedmetadata', ok, { once: true });
					audio.addEventListener('error', () => fail(new Error('the page audio does not play here')), { once: true });
				});
				const seeked = new Promise((ok) => audio.addEventListener('seeked', ok, { once: true }));
				audio.currentTime = (w.start_ms + w.end_ms) / 2000;
				await seeked;
				await new Promise((ok) => setTimeout(ok, 50));
				const on = section.querySelector('.word.speaking');
				return { want: w.word, got: on && on.textContent, duration: audio.duration, words: section.textContent.includes(timings.words[0].word) };
			});
			assert.equal(lit.got, lit.want, JSON.stringify(lit));
			assert.ok(lit.duration > 2, JSON.stringify(lit));
			/* The words are all still there, in the same order. */
			const after = (await page.locator('#story .page').allTextContents()).join('\n');
			assert.ok(after.includes('Maya'));
			await shot(page, '2-story');
		} finally {
			await page.context().close();
		}
	});

	test('a bad child name is explained next to the field', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			await pickUniverseAndHero(page);
			await page.fill('#child-name', '<b>');
			await page.click('#create');
			const error = page.locator('#child-name-error');
			await error.waitFor({ state: 'visible' });
			assert.ok((await error.textContent()).trim().length > 0, 'the error says what is wrong');
			assert.equal(await page.getAttribute('#child-name', 'aria-invalid'), 'true');
			assert.equal(await page.locator('#story').isVisible(), false, 'no story is shown');
			/* The message is shown as text, never as markup. */
			assert.equal(await page.locator('#creator b').count(), 0);
			await shot(page, '3-error');

			/* Fixing the name clears the complaint. */
			await page.fill('#child-name', 'Sam');
			await error.waitFor({ state: 'hidden' });
		} finally {
			await page.context().close();
		}
	});

	test('the list shows the story and can open and delete it', { timeout: TEST_TIMEOUT_MS }, async () => {
		assert.ok(storyId, 'needs the story made by the earlier test');
		const page = await newPage();
		try {
			const item = page.locator(`#story-list [data-testid="story-item"][data-id="${storyId}"]`);
			await item.waitFor({ state: 'visible' });
			assert.ok((await item.textContent()).includes(storyTitle), 'the list shows the title');

			await item.locator('[data-action="open"]').click();
			await page.locator(`#story[data-id="${storyId}"]`).waitFor({ state: 'visible' });
			assert.equal((await page.textContent('#story-title')).trim(), storyTitle);
			assert.ok((await page.locator('#story .page').count()) > 0);

			/* Deleting takes two presses. */
			const del = item.locator('[data-action="delete"]');
			await del.click();
			assert.equal(await item.count(), 1, 'one press does not delete');
			await del.click();
			await item.waitFor({ state: 'detached' });
			await page.locator('#story').waitFor({ state: 'hidden' });
			const res = await fetch(`${baseUrl}/api/v1/stories/${storyId}`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
			assert.equal(res.status, 404);
		} finally {
			await page.context().close();
		}
	});

	test('the page fits a phone and works from the keyboard', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage({ width: 375, height: 740 });
		try {
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);

			await page.focus('#child-name');
			await page.keyboard.type('Leo');
			await page.keyboard.press('Enter');
			const result = await waitForStory(page);
			assert.equal(result.status, 'ready', `the story did not become ready: ${result.text}`);
			assert.ok((await page.locator('#story .page').allTextContents()).join('\n').includes('Leo'));
			await shot(page, '4-phone');
		} finally {
			await page.context().close();
		}
	});

	test('a chapter-length story shows its chapter headings', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			await pickUniverseAndHero(page);
			await page.selectOption('#length', 'chapter');
			await page.fill('#child-name', 'Ife');
			await page.click('#create');
			const result = await waitForStory(page);
			assert.equal(result.status, 'ready', `the story did not become ready: ${result.text}`);
			const headings = await page.locator('#story .chapter-title').allTextContents();
			assert.ok(headings.length >= 3, `only ${headings.length} chapter headings`);
			assert.ok(headings.every((h) => h.trim().length > 0));
			await shot(page, '5-chapters');
		} finally {
			await page.context().close();
		}
	});

	test("the child's pronouns and a family's traditions go into the story", { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			const catalog = await getCatalog();
			assert.ok(catalog.cultures.length > 0, 'the catalog has cultures');
			const culture = catalog.cultures[catalog.cultures.length - 1];

			await pickUniverseAndHero(page);
			await page.fill('#child-name', 'Mia');
			assert.ok(await page.isChecked('#pronouns-they'), '"they" is chosen until the parent picks');
			/* The pronouns are a radio group: arrow keys move between them. */
			await page.focus('#pronouns-they');
			await page.keyboard.press('ArrowLeft');
			await page.keyboard.press('ArrowLeft');
			assert.ok(await page.isChecked('#pronouns-she'), 'the arrow keys pick "she"');
			await openMore(page);
			await page.selectOption('#culture', culture.id);
			assert.ok((await page.textContent('#culture-hint')).includes(culture.description.slice(0, 20)));
			await shot(page, '6-pronouns-culture-form');

			const { id, text } = await createAndRead(page);
			const s = await getStory(id);
			assert.equal(s.parameters.pronouns, 'she');
			assert.equal(s.parameters.culture, culture.id);
			assert.equal(s.parameters.child_name, 'Mia');
			assert.ok(text.includes('Mia'), "the child's name appears in the story");
			assert.ok(text.includes(culture.greeting), `the family's greeting "${culture.greeting}" appears`);
			assert.match(text, /\b(she|her)\b/i);
		} finally {
			await page.context().close();
		}
	});

	test('two worlds mixed into one, chosen on a phone', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage({ width: 375, height: 740 });
		try {
			const { universe } = await pickUniverseAndHero(page);
			await openMore(page);
			assert.equal(await page.locator('#worlds').isVisible(), false, 'one world needs no second picker');
			await page.selectOption('#mode', 'fusion');
			await page.locator('#universe2').waitFor({ state: 'visible' });
			assert.equal(await page.locator('#universe3').isVisible(), false, 'a fusion has no third world');
			const others = await page.locator('#universe2 option').evaluateAll(
				(opts, first) => opts.map((o) => o.value).filter((v) => v !== first), universe);
			await page.selectOption('#universe2', others[0]);
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			assert.ok(overflow <= 0, `with every choice open the page is ${overflow}px wider than a phone`);
			await shot(page, '7-fusion-form-phone');

			/* Hopping offers a third world too. */
			await page.selectOption('#mode', 'hopping');
			await page.locator('#universe3').waitFor({ state: 'visible' });
			await page.selectOption('#mode', 'fusion');
			await page.locator('#universe3').waitFor({ state: 'hidden' });

			await page.fill('#child-name', 'Ari');
			const { id, text } = await createAndRead(page);
			const s = await getStory(id);
			assert.equal(s.parameters.mode, 'fusion');
			assert.deepEqual(s.parameters.universes, [universe, others[0]]);
			assert.equal(s.story.universes.length, 2, 'the story has both worlds');
			assert.ok(text.includes('Ari'));
			await shot(page, '8-fusion-story-phone');
		} finally {
			await page.context().close();
		}
	});

	test('a character of your own joins the story', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			await pickUniverseAndHero(page);
			await openMore(page);
			await page.fill('#custom-name', 'Bobo');
			await page.fill('#custom-species', 'dragon');
			await page.fill('#custom-traits', ' shy,kind , ');
			await page.selectOption('#custom-pronoun', 'he');
			const { id, text } = await createAndRead(page);
			assert.ok(text.includes('Bobo'), 'the custom character is in the story');
			assert.ok((await page.textContent('#story-cast')).includes('Bobo'), 'and in the cast list');
			const s = await getStory(id);
			assert.deepEqual(s.parameters.custom, { name: 'Bobo', species: 'dragon', traits: ['shy', 'kind'], pronoun: 'he' });
			await shot(page, '9-custom-story');
		} finally {
			await page.context().close();
		}
	});

	test('problems with the new choices are explained next to their fields', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			await pickUniverseAndHero(page);
			await openMore(page);

			/* The server's complaint about custom.name goes next to the name. */
			await page.fill('#custom-name', '<b>');
			await page.fill('#custom-species', 'dragon');
			await page.fill('#custom-traits', 'shy');
			await page.click('#create');
			const error = page.locator('#custom-name-error');
			await error.waitFor({ state: 'visible' });
			assert.ok((await error.textContent()).trim().length > 0, 'the error says what is wrong');
			assert.equal(await page.getAttribute('#custom-name', 'aria-invalid'), 'true');
			assert.equal(await page.evaluate(() => document.activeElement.id), 'custom-name', 'the field has the focus');
			assert.equal(await page.locator('#form-error').isVisible(), false);
			assert.equal(await page.locator('#story').isVisible(), false, 'no story is shown');
			assert.equal(await page.locator('#creator b').count(), 0, 'the name is shown as text, never as markup');
			await shot(page, '10-custom-error');
			await page.fill('#custom-name', 'Bobo');
			await error.waitFor({ state: 'hidden' });

			/* A name without a kind of creature is caught before sending. */
			await page.fill('#custom-species', '');
			await page.click('#create');
			await page.locator('#custom-species-error').waitFor({ state: 'visible' });
			await page.fill('#custom-species', 'dragon');

			/* Three worlds do not fit in a bedtime story: the worlds picker says so. */
			await page.selectOption('#length', 'bedtime');
			await page.selectOption('#mode', 'hopping');
			const worlds = await page.locator('#universe2 option').evaluateAll((opts) => opts.map((o) => o.value));
			const first = await page.inputValue('#universe');
			const rest = worlds.filter((w) => w !== first);
			await page.selectOption('#universe2', rest[0]);
			await page.selectOption('#universe3', rest[1]);
			await page.click('#create');
			await page.locator('#worlds-error').waitFor({ state: 'visible' });
			assert.equal(await page.getAttribute('#universe2', 'aria-invalid'), 'true');
			assert.equal(await page.locator('#story').isVisible(), false, 'no story is shown');
		} finally {
			await page.context().close();
		}
	});

	test('the next episode continues the story with the same child', { timeout: TEST_TIMEOUT_MS }, async () => {
		const page = await newPage();
		try {
			await pickUniverseAndHero(page);
			await page.fill('#child-name', 'Noor');
			await page.check('#pronouns-he');
			const first = await createAndRead(page);
			const firstTitle = (await page.textContent('#story-title')).trim();
			assert.equal(await page.locator('#story-episode').isVisible(), false, 'a first story has no episode badge');

			await page.click('#next-episode');
			await page.waitForFunction(
				(old) => {
					const book = document.querySelector('#story');
					return !book.hidden && book.dataset.id && book.dataset.id !== old;
				},
				first.id,
				{ timeout: STORY_TIMEOUT_MS }
			);
			assert.equal(await page.getAttribute('#status', 'data-status'), 'ready');
			const id = await page.getAttribute('#story', 'data-id');
			const text = (await page.locator('#story .page').allTextContents()).join('\n');
			assert.ok(text.includes('Noor'), 'the next episode has the same child');
			assert.ok((await page.textContent('#story-for')).includes('Noor'));
			const badge = await page.textContent('#story-episode');
			assert.ok(badge.includes('Episode 2') && badge.includes(firstTitle), `the badge says "${badge}"`);
			assert.equal(await page.isEnabled('#next-episode'), true, 'the new episode can be continued too');

			const s = await getStory(id);
			assert.equal(s.parameters.continue_from, first.id);
			assert.equal(s.parameters.child_name, 'Noor');
			assert.equal(s.parameters.pronouns, 'he');
			assert.equal(s.story.episode, 2);
			/* It is in the list with the others. */
			await page.locator(`#story-list [data-testid="story-item"][data-id="${id}"]`).waitFor();
			await shot(page, '11-next-episode');
		} finally {
			await page.context().close();
		}
	});

	test('a story moderation holds is shown as being checked, and opens once approved', { timeout: TEST_TIMEOUT_MS }, async () => {
		/* A model that writes something no child should read on every page. */
		const model = await modelServer(() => true);
		const held = await new Server({
			args: ['--text-provider', 'openai'],
			env: { STORYVERSE_OPENAI_BASE_URL: model.url },
		}).start();
		const page = await newPage(undefined, held.url);
		try {
			await pickUniverseAndHero(page);
			await page.click('#create');
			await page.waitForFunction(() => document.querySelector('#status')?.dataset.status === 'review', null, {
				timeout: STORY_TIMEOUT_MS,
			});
			assert.match(await page.textContent('#status'), /grown-up is reading this story/);
			const item = page.locator('[data-testid="story-item"][data-status="review"]');
			await item.waitFor();
			assert.match(await item.textContent(), /being checked/);
			assert.match(await item.textContent(), /A story a grown-up is checking/);
			await shot(page, 'held-for-review');
			const id = await item.getAttribute('data-id');
			const approved = await runBin(['review', 'approve', id, '--data', held.dataDir]);
			assert.equal(approved.status, 0, approved.stderr);
			await page.reload();
			await page.click(`[data-testid="story-item"][data-id="${id}"] button[data-action="open"]`);
			const result = await waitForStory(page);
			assert.equal(result.status, 'ready', result.text);
			await page.locator('#story').waitFor({ state: 'visible' });
		} finally {
			await page.context().close();
			await held.stop();
			held.cleanup();
			model.srv.close();
		}
	});

	test('no script errors on the page', () => {
		assert.deepEqual(pageErrors, []);
	});
});
