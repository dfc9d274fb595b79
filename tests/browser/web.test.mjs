// Browser test of the StoryVerse web page: starts the real server on a free
// loopback port with a fresh data folder, drives Debian's Chromium through
// playwright-core, and uses the page the way a parent would: pick a world and
// a hero, type a name, create a story, read it, find it in the list, delete it.
//
// Run: STORYVERSE_BIN=build/storyverse node --test tests/browser/
// Set STORYVERSE_SCREENSHOTS=/some/folder to keep screenshots of each step.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, Server, sleep } from '../lib/server.mjs';

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

async function newPage(viewport = { width: 1200, height: 900 }) {
	const context = await browser.newContext({ viewport });
	const page = await context.newPage();
	page.setDefaultTimeout(STEP_TIMEOUT_MS);
	page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
	page.on('pageerror', (err) => pageErrors.push(err.message));
	await page.goto(`${baseUrl}/`);
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

describe('web page', { timeout: 5 * TEST_TIMEOUT_MS }, () => {
	before(async () => {
		assert.ok(fs.existsSync(BIN), `no server binary at ${BIN} (build it, or set STORYVERSE_BIN)`);
		server = await new Server().start();
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
			await page.click('#create');
			await page.locator('#status').waitFor({ state: 'visible' });
			const result = await waitForStory(page);
			assert.equal(result.status, 'ready', `the story did not become ready: ${result.text}\n${server.stderr}`);

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

	test('no script errors on the page', () => {
		assert.deepEqual(pageErrors, []);
	});
});
