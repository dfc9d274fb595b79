/*
 * StoryVerse web page: the story maker, the progress of a story being written,
 * the reader, and the list of earlier stories.
 *
 * Plain browser JavaScript with no build step and no libraries; it talks only
 * to our own server (docs/api.md). Text from the server is always put on the
 * page with textContent, never as HTML.
 */
'use strict';

(() => {
	const API = '/api/v1';
	const POLL_FIRST_MS = 400;
	const POLL_MAX_MS = 2000;
	const POLL_GIVE_UP_MS = 5 * 60 * 1000;
	const REQUEST_TIMEOUT_MS = 15000;
	const LIST_PAGE_SIZE = 20;
	const SEED_MAX = 9007199254740991; /* 2^53 - 1, the largest seed the server takes */

	/* The form fields, by the name the API uses for them (an error's "field"). */
	const FIELDS = {
		universe: 'universe',
		hero: 'hero',
		sidekick: 'sidekick',
		theme: 'theme',
		moral: 'moral',
		age: 'age',
		length: 'length',
		style: 'style',
		child_name: 'child-name',
		pronouns: 'pronouns',
		culture: 'culture',
		rival: 'rival',
		mentor: 'mentor',
		custom: 'custom-name',
		'custom.name': 'custom-name',
		'custom.species': 'custom-species',
		'custom.traits': 'custom-traits',
		'custom.pronoun': 'custom-pronoun',
		mode: 'mode',
		universes: 'worlds',
		seed: 'seed',
	};

	/* What each way of meeting the worlds means, and how many worlds it takes. */
	const MODES = {
		'': { hint: 'The story stays in the world you chose. Friends from other worlds may still visit.', worlds: 1 },
		crossover: { hint: 'Friends from other worlds come to visit the world you chose.', worlds: 1 },
		fusion: { hint: 'Two worlds mix into one brand-new place.', worlds: 2 },
		hopping: {
			hint: 'The friends travel from one world to the next. Three worlds need a chapter or epic story.',
			worlds: 3,
		},
	};

	/* How the reader names the roles in "Who is in this story". */
	const ROLE_TEXT = {
		rival: 'friendly rival',
		custom: 'your own character',
	};

	/* What the status line says for each story status. */
	const STATUS_TEXT = {
		sending: 'Sending your choices…',
		queued: 'Your story is waiting its turn…',
		generating: 'Writing your story…',
		ready: 'Your story is ready!',
		failed: 'Oh no, this story could not be written.',
		review: 'A grown-up is reading this story before it is shared. Look for it in your stories later.',
		rejected: 'This story was not approved, so it will not be shown. Try different choices?',
		opening: 'Opening the story…',
	};

	/* What the list calls a story that has no title to show. */
	const UNTITLED = {
		failed: 'A story that could not be written',
		review: 'A story a grown-up is checking',
		rejected: 'A story that was not approved',
	};

	/* The little badge beside each story in the list. */
	const BADGE_TEXT = {
		queued: 'waiting',
		generating: 'writing',
		ready: 'ready',
		failed: 'not written',
		review: 'being checked',
		rejected: 'not approved',
	};

	/* Which catalog list fills each of the simple choices. */
	const CATALOG_LISTS = {
		theme: 'themes',
		moral: 'morals',
		age: 'ages',
		length: 'lengths',
		style: 'styles',
	};

	const $ = (id) => document.getElementById(id);

	const state = {
		catalog: null,
		heroTouched: false,
		pollTimer: null,
		pollToken: 0,
		events: null, /* the EventSource following a story, if any */
		nextCursor: null,
		continuing: false,
	};

	/* ---- talking to the server ---- */

	class ApiError extends Error {
		constructor(status, body) {
			const err = (body && body.error) || {};
			super(err.message || `The server answered ${status}.`);
			this.status = status;
			this.code = err.code || 'http_' + status;
			this.field = err.field || '';
		}
	}

	async function api(method, path, body) {
		const ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
		const init = { method, headers: { Accept: 'application/json' }, signal: ctl.signal };
		if (body !== undefined) {
			init.headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		let res;
		try {
			res = await fetch(path, init);
		} catch (e) {
			throw new ApiError(0, {
				error: {
					code: 'network',
					message: 'We could not reach StoryVerse. Please check the connection and try again.',
				},
			});
		} finally {
			clearTimeout(timer);
		}
		if (res.status === 204)
			return null;
		let data = null;
		try {
			data = await res.json();
		} catch (e) {
			data = null;
		}
		if (!res.ok)
			throw new ApiError(res.status, data);
		return data;
	}

	/* ---- small helpers ---- */

	function el(tag, props, ...children) {
		const node = document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === undefined || v === null)
				continue;
			if (k === 'text')
				node.textContent = v;
			else if (k === 'className')
				node.className = v;
			else if (k === 'dataset')
				Object.assign(node.dataset, v);
			else
				node.setAttribute(k, v);
		}
		for (const c of children) {
			if (c !== null && c !== undefined)
				node.append(c);
		}
		return node;
	}

	/* Catalog entries may be plain strings or objects with an id and a name. */
	function idOf(item) {
		return typeof item === 'string' ? item : String(item.id ?? '');
	}

	function nameOf(item) {
		if (typeof item === 'string')
			return item;
		return item.name || item.title || item.label || item.text || String(item.id ?? '');
	}

	function capitalise(text) {
		return text.charAt(0).toUpperCase() + text.slice(1);
	}

	function describe(item) {
		if (!item || typeof item === 'string')
			return '';
		const text = item.description || item.looks || '';
		return text ? capitalise(text) : '';
	}

	function ageLabel(item) {
		if (typeof item !== 'string' && (item.label || item.name))
			return item.label || item.name;
		const m = /^(\d+)-(\d+)$/.exec(idOf(item));
		return m ? `${m[1]} to ${m[2]} years` : idOf(item);
	}

	function lengthLabel(item) {
		const nice = capitalise(nameOf(item));
		const pages = typeof item === 'object' ? item.pages ?? item.page_count : undefined;
		return typeof pages === 'number' ? `${nice} (${pages} pages)` : nice;
	}

	function formatWhen(value) {
		if (value === undefined || value === null || value === '')
			return '';
		let d;
		if (typeof value === 'number')
			d = new Date(value < 1e12 ? value * 1000 : value);
		else
			d = new Date(value);
		if (Number.isNaN(d.getTime()))
			return String(value);
		return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
	}

	/* ---- the story maker ---- */

	function fillSelect(select, items, { label = nameOf, empty } = {}) {
		select.replaceChildren();
		if (empty)
			select.append(el('option', { value: '', text: empty }));
		for (const item of items)
			select.append(el('option', { value: idOf(item), text: label(item) }));
	}

	function universeName(id) {
		const u = (state.catalog.universes || []).find((x) => idOf(x) === id);
		return u ? capitalise(nameOf(u)) : id || 'Other friends';
	}

	/* Characters grouped by universe; the chosen universe's group comes first. */
	function fillCharacters(select, { empty } = {}) {
		const keep = select.value;
		const chosen = $('universe').value;
		const groups = new Map();
		for (const u of state.catalog.universes || [])
			groups.set(idOf(u), []);
		for (const c of state.catalog.characters || []) {
			const u = typeof c === 'object' ? c.universe || '' : '';
			if (!groups.has(u))
				groups.set(u, []);
			groups.get(u).push(c);
		}
		const order = [...groups.keys()].sort((a, b) => (a === chosen ? -1 : b === chosen ? 1 : 0));
		select.replaceChildren();
		if (empty)
			select.append(el('option', { value: '', text: empty }));
		for (const u of order) {
			const chars = groups.get(u);
			if (!chars.length)
				continue;
			const group = el('optgroup', { label: universeName(u) });
			for (const c of chars) {
				const species = typeof c === 'object' && c.species ? ` the ${c.species}` : '';
				group.append(el('option', { value: idOf(c), text: nameOf(c) + species }));
			}
			select.append(group);
		}
		if ([...select.options].some((o) => o.value === keep))
			select.value = keep;
	}

	function charactersOf(universe) {
		return (state.catalog.characters || []).filter(
			(c) => typeof c === 'object' && c.universe === universe
		);
	}

	function findCharacter(id) {
		return (state.catalog.characters || []).find((c) => idOf(c) === id);
	}

	function onUniverseChange() {
		const u = (state.catalog.universes || []).find((x) => idOf(x) === $('universe').value);
		$('universe-hint').textContent = describe(u);
		fillCharacters($('hero'));
		fillCharacters($('sidekick'), { empty: 'Surprise me' });
		fillCharacters($('rival'), { empty: 'No one' });
		fillCharacters($('mentor'), { empty: 'No one' });
		onModeChange();
		/* Until the reader picks a hero, offer one who lives in the chosen world. */
		const local = charactersOf($('universe').value);
		if (!state.heroTouched && local.length)
			$('hero').value = idOf(local[0]);
		onHeroChange();
	}

	function onHeroChange() {
		$('hero-hint').textContent = describe(findCharacter($('hero').value));
	}

	/* The second and third world pickers show for a fusion or a hopping journey. */
	function onModeChange() {
		const mode = MODES[$('mode').value] || MODES[''];
		$('mode-hint').textContent = mode.hint;
		$('worlds').hidden = mode.worlds < 2;
		$('universe3-field').hidden = mode.worlds < 3;
		const first = $('universe').value;
		/* The second world starts as one other than the first. */
		if ($('universe2').value === first) {
			const other = [...$('universe2').options].find((o) => o.value !== first);
			if (other)
				$('universe2').value = other.value;
		}
		$('worlds-hint').textContent = first ? `The story begins in ${universeName(first)}.` : '';
	}

	function onCultureChange() {
		const c = (state.catalog.cultures || []).find((x) => idOf(x) === $('culture').value);
		$('culture-hint').textContent = describe(c) ||
			"Your child can greet friends your family's way and share a favourite food.";
	}

	/* The short description of the chosen theme, lesson, age or length. */
	function onOptionChange(name) {
		const items = state.catalog[CATALOG_LISTS[name]] || [];
		const item = items.find((x) => idOf(x) === $(name).value);
		$(`${name}-hint`).textContent = describe(item);
	}

	function fillForm(catalog) {
		state.catalog = catalog;
		fillSelect($('universe'), catalog.universes || [], { label: (u) => capitalise(nameOf(u)) });
		fillSelect($('theme'), catalog.themes || [], { empty: 'Surprise me' });
		fillSelect($('moral'), catalog.morals || [], { empty: 'Surprise me' });
		fillSelect($('age'), catalog.ages || [], { label: ageLabel, empty: 'No preference' });
		fillSelect($('length'), catalog.lengths || [], { label: lengthLabel, empty: 'No preference' });
		fillSelect($('style'), catalog.styles || []);
		fillSelect($('culture'), catalog.cultures || [], { empty: 'None' });
		const worldLabel = (u) => capitalise(nameOf(u));
		fillSelect($('universe2'), catalog.universes || [], { label: worldLabel });
		fillSelect($('universe3'), catalog.universes || [], { label: worldLabel, empty: 'No third world' });
		onUniverseChange();
		onCultureChange();
		for (const name of Object.keys(CATALOG_LISTS))
			onOptionChange(name);
		$('create').disabled = false;
		$('surprise').disabled = false;
	}

	function pickRandom(select, { allowEmpty = false } = {}) {
		const options = [...select.options].filter((o) => allowEmpty || o.value !== '');
		if (options.length)
			select.value = options[Math.floor(Math.random() * options.length)].value;
	}

	function surprise() {
		pickRandom($('universe'));
		state.heroTouched = false;
		onUniverseChange();
		for (const name of ['theme', 'moral']) {
			pickRandom($(name));
			onOptionChange(name);
		}
		clearErrors();
	}

	async function loadCatalog() {
		const notice = $('catalog-status');
		try {
			fillForm(await api('GET', `${API}/catalog`));
			notice.hidden = true;
		} catch (e) {
			notice.textContent = `We could not load the story choices: ${e.message}`;
			notice.classList.add('problem');
			const retry = el('button', { type: 'button', className: 'secondary', text: 'Try again' });
			retry.addEventListener('click', () => {
				notice.textContent = 'Trying again…';
				notice.classList.remove('problem');
				loadCatalog();
			});
			notice.append(' ', retry);
		}
	}

	/* ---- errors next to the fields ---- */

	/* The controls of a field: the field itself, or those of a group (the pronouns, the worlds). */
	function controlsOf(id) {
		const node = $(id);
		return node.tagName === 'FIELDSET' ? [...node.querySelectorAll('input, select')] : [node];
	}

	function clearFieldError(id) {
		const msg = $(`${id}-error`);
		if (msg) {
			msg.textContent = '';
			msg.hidden = true;
		}
		for (const c of controlsOf(id))
			c.removeAttribute('aria-invalid');
	}

	function clearErrors() {
		for (const id of new Set(Object.values(FIELDS)))
			clearFieldError(id);
		$('form-error').textContent = '';
		$('form-error').hidden = true;
	}

	function showError(field, message) {
		const id = FIELDS[field];
		const more = id && $(id) ? $(id).closest('details') : null;
		if (more)
			more.open = true;
		/* A field that is not on show (a world picker for one world) cannot hold the message. */
		if (id && $(`${id}-error`) && !$(id).closest('[hidden]')) {
			const msg = $(`${id}-error`);
			msg.textContent = message;
			msg.hidden = false;
			const controls = controlsOf(id).filter((c) => !c.closest('[hidden]'));
			for (const c of controls)
				c.setAttribute('aria-invalid', 'true');
			const target = controls.find((c) => c.checked) || controls[0];
			if (target)
				target.focus();
			return;
		}
		$('form-error').textContent = message;
		$('form-error').hidden = false;
		$('form-error').scrollIntoView({ block: 'nearest' });
	}

	function readForm() {
		const body = { universe: $('universe').value, hero: $('hero').value };
		for (const name of ['sidekick', 'theme', 'moral', 'age', 'length', 'style']) {
			if ($(name).value)
				body[name] = $(name).value;
		}
		const child = $('child-name').value.trim();
		if (child)
			body.child_name = child;
		const seed = $('seed').value.trim();
		if (seed) {
			if (!/^\d+$/.test(seed) || Number(seed) > SEED_MAX)
				return {
					error: {
						field: 'seed',
						message: 'The story number must be a whole number, like 42.',
					},
				};
			body.seed = Number(seed);
		}
		const pronouns = document.querySelector('input[name="pronouns"]:checked');
		if (pronouns)
			body.pronouns = pronouns.value;
		for (const name of ['culture', 'rival', 'mentor']) {
			if ($(name).value)
				body[name] = $(name).value;
		}
		const mode = $('mode').value;
		if (mode) {
			body.mode = mode;
			const most = (MODES[mode] || MODES['']).worlds;
			if (most > 1) {
				/* The first world is the one chosen above; a story may give both when they agree. */
				body.universes = [body.universe, $('universe2').value];
				if (most > 2 && $('universe3').value)
					body.universes.push($('universe3').value);
			}
		}
		/* A character of your own comes along only when they have a name. */
		const name = $('custom-name').value.trim();
		if (name) {
			const species = $('custom-species').value.trim();
			const traits = $('custom-traits').value.split(',').map((t) => t.trim()).filter(Boolean);
			if (!species)
				return {
					error: {
						field: 'custom.species',
						message: `What kind of creature is ${name}? For example, a dragon or a bear.`,
					},
				};
			if (!traits.length)
				return {
					error: {
						field: 'custom.traits',
						message: `Tell us what ${name} is like, in a word or a few, like shy, kind.`,
					},
				};
			body.custom = { name, species, traits, pronoun: $('custom-pronoun').value };
		}
		return { body };
	}

	async function onSubmit(event) {
		event.preventDefault();
		clearErrors();
		const { body, error } = readForm();
		if (error) {
			showError(error.field, error.message);
			return;
		}
		const button = $('create');
		button.disabled = true;
		setStatus('sending');
		try {
			const res = await api('POST', `${API}/stories`, body);
			setStatus(res.status || 'queued');
			hideStory();
			follow(res.id);
			refreshList();
		} catch (e) {
			hideStatus();
			showError(e.field, e.message);
		} finally {
			button.disabled = false;
		}
	}

	/* ---- following a story as it is written ---- */

	function setStatus(status, detail) {
		const box = $('status');
		box.hidden = false;
		box.dataset.status = status;
		const text = STATUS_TEXT[status] || status;
		$('status-text').textContent = detail ? `${text} ${detail}` : text;
	}

	function hideStatus() {
		$('status').hidden = true;
		$('status').dataset.status = '';
	}

	function stopPolling() {
		state.pollToken++;
		clearTimeout(state.pollTimer);
		state.pollTimer = null;
		if (state.events) {
			state.events.close();
			state.events = null;
		}
	}

	function pagesWritten(n) {
		return n === 1 ? '1 page written so far.' : `${n} pages written so far.`;
	}

	function pagesDrawn(n, written) {
		return `All ${written} pages written; ${n === 1 ? '1 picture' : `${n} pictures`} drawn so far.`;
	}

	/* Follows the story's progress events (the status line counts the pages
	 * as they are written, then their pictures as they are drawn); at the end, or if the stream fails, asks for the
	 * story itself, which shows it, or goes on asking now and then. */
	function follow(id) {
		stopPolling();
		if (typeof EventSource !== 'function') {
			poll(id);
			return;
		}
		const token = state.pollToken;
		const source = new EventSource(`${API}/stories/${encodeURIComponent(id)}/events`);
		state.events = source;
		let pages = 0;
		const live = () => token === state.pollToken;
		const settle = () => {
			source.close();
			if (live())
				poll(id);
		};
		source.addEventListener('queued', () => live() && setStatus('queued'));
		source.addEventListener('generating', () => live() && setStatus('generating'));
		source.addEventListener('page', (e) => {
			if (!live())
				return;
			let n = pages + 1;
			try {
				n = JSON.parse(e.data).number || n;
			} catch (err) {
				/* keep counting ourselves */
			}
			pages = Math.max(pages, n);
			setStatus('generating', pagesWritten(pages));
		});
		/* Then each page's picture. */
		let drawn = 0;
		source.addEventListener('drawn', (e) => {
			if (!live())
				return;
			let n = drawn + 1;
			try {
				n = JSON.parse(e.data).number || n;
			} catch (err) {
				/* keep counting ourselves */
			}
			drawn = Math.max(drawn, n);
			setStatus('generating', pagesDrawn(drawn, pages));
		});
		source.addEventListener('ready', settle);
		source.addEventListener('failed', settle);
		source.addEventListener('rejected', settle);
		/* A person reads it first: that may take a while, so stop following. */
		source.addEventListener('review', settle);
		source.onerror = settle;
	}

	/* Asks for the story until it is ready or failed, a little less often each time. */
	function poll(id) {
		stopPolling();
		const token = state.pollToken;
		const started = Date.now();
		let delay = POLL_FIRST_MS;
		const tick = async () => {
			let s;
			try {
				s = await api('GET', `${API}/stories/${encodeURIComponent(id)}`);
			} catch (e) {
				if (token !== state.pollToken)
					return;
				if (e.status === 404) {
					setStatus('failed', 'It seems to have been deleted.');
					resetNextEpisode();
					return;
				}
				s = null;
			}
			if (token !== state.pollToken)
				return;
			if (s && s.status === 'ready') {
				setStatus('ready');
				showStory(s);
				refreshList();
				return;
			}
			if (s && (s.status === 'review' || s.status === 'rejected')) {
				setStatus(s.status);
				resetNextEpisode();
				refreshList();
				return;
			}
			if (s && s.status === 'failed') {
				const why = typeof s.error === 'string' ? s.error : (s.error && s.error.message) || '';
				setStatus('failed', why);
				if (state.continuing)
					resetNextEpisode(`The next episode could not be written. ${why}`.trim());
				refreshList();
				return;
			}
			if (s)
				setStatus(s.status);
			if (Date.now() - started > POLL_GIVE_UP_MS) {
				setStatus(s ? s.status : 'queued',
					'This is taking a long time; look for it in your stories later.');
				resetNextEpisode();
				return;
			}
			delay = Math.min(Math.round(delay * 1.5), POLL_MAX_MS);
			state.pollTimer = setTimeout(tick, delay);
		};
		state.pollTimer = setTimeout(tick, 0);
	}

	/* ---- the reader ---- */

	function hideStory() {
		$('story').hidden = true;
		$('story').removeAttribute('data-id');
		resetNextEpisode();
	}

	/* ---- the next episode ---- */

	function resetNextEpisode(problem) {
		state.continuing = false;
		const button = $('next-episode');
		button.disabled = false;
		button.textContent = 'Write the next episode';
		button.removeAttribute('aria-busy');
		$('next-episode-error').textContent = problem || '';
		$('next-episode-error').hidden = !problem;
	}

	/* The same worlds, friends and child; the server picks a new adventure. */
	async function writeNextEpisode() {
		const id = $('story').dataset.id;
		if (!id || state.continuing)
			return;
		resetNextEpisode();
		state.continuing = true;
		const button = $('next-episode');
		button.disabled = true;
		button.setAttribute('aria-busy', 'true');
		button.textContent = 'Writing the next episode…';
		setStatus('sending');
		try {
			const res = await api('POST', `${API}/stories`, { continue_from: id });
			setStatus(res.status || 'queued');
			/* The book stays open until the new episode is ready to read. */
			follow(res.id);
			refreshList();
		} catch (e) {
			hideStatus();
			resetNextEpisode(e.message);
			button.focus();
		}
	}

	function paragraphs(text) {
		return String(text || '')
			.split(/\n+/)
			.map((line) => line.trim())
			.filter(Boolean)
			.map((line) => el('p', { text: line }));
	}

	/* The page's paragraphs with each timed word in a span of its own, for
	 * read-along. Timings count bytes of the UTF-8 text; the page counts
	 * characters, so each offset is turned into a string index first. */
	function timedParagraphs(text, words) {
		const bytes = new TextEncoder().encode(text);
		const decoder = new TextDecoder();
		const index = (b) => decoder.decode(bytes.subarray(0, b)).length;
		const out = [];
		let p = el('p');
		let at = 0;
		const addText = (chunk) => {
			chunk.split(/\n+/).forEach((part, j) => {
				if (j > 0 && p.childNodes.length) {
					out.push(p);
					p = el('p');
				}
				if (part)
					p.append(p.childNodes.length ? part : part.trimStart());
			});
		};
		words.forEach((w, i) => {
			const from = index(w.char_start);
			const to = index(w.char_end);
			if (from < at || to <= from)
				return;
			addText(text.slice(at, from));
			p.append(el('span', { className: 'word', dataset: { w: String(i) }, text: text.slice(from, to) }));
			at = to;
		});
		addText(text.slice(at));
		if (p.childNodes.length)
			out.push(p);
		return out;
	}

	/* Lights up the word being spoken while the page's audio plays (and
	 * where it is when paused or moved). */
	function readAlong(audio, section, words) {
		let current = -1;
		const show = () => {
			const ms = audio.currentTime * 1000;
			let k = -1;
			while (k + 1 < words.length && words[k + 1].start_ms <= ms)
				k++;
			if (k === current)
				return;
			section.querySelector(`.word[data-w="${current}"]`)?.classList.remove('speaking');
			section.querySelector(`.word[data-w="${k}"]`)?.classList.add('speaking');
			current = k;
		};
		const loop = () => {
			show();
			if (!audio.paused)
				requestAnimationFrame(loop);
		};
		audio.addEventListener('play', loop);
		audio.addEventListener('timeupdate', show);
		audio.addEventListener('seeked', show);
	}

	/* A page's player, and its words set up for read-along once its timings come. */
	function pageAudio(section, p, media) {
		const a = p && p.audio;
		if (!a || !/^audio\/page-\d+\.opus$/.test(a.file) || !/^audio\/page-\d+\.timings\.json$/.test(a.timings))
			return null;
		const audio = el('audio', { className: 'page-audio', controls: '', preload: 'none', src: media(a.file), dataset: { testid: 'page-audio' } });
		fetch(media(a.timings))
			.then((r) => (r.ok ? r.json() : null))
			.then((t) => {
				if (!t || !Array.isArray(t.words))
					return;
				const text = String(p.text || '');
				section.querySelectorAll('p').forEach((n) => n.remove());
				section.querySelector('.page-number').before(...timedParagraphs(text, t.words));
				readAlong(audio, section, t.words);
			})
			.catch(() => {});
		return audio;
	}

	function showStory(s) {
		const doc = s.story || {};
		const book = $('story');
		book.dataset.id = s.id;
		$('story-title').textContent = doc.title || 'Your story';
		const child = (doc.parameters && doc.parameters.child_name) ||
			(s.parameters && s.parameters.child_name);
		$('story-for').textContent = child ? `A story for ${child}` : '';
		$('story-for').hidden = !child;
		const episode = Number.isInteger(doc.episode) && doc.episode > 1 ? doc.episode : 0;
		const before = doc.previous && typeof doc.previous.title === 'string' ? doc.previous.title : '';
		$('story-episode').textContent = episode
			? `Episode ${episode}${before ? `, after “${before}”` : ''}`
			: '';
		$('story-episode').hidden = !episode;

		const cast = Array.isArray(doc.cast) ? doc.cast.filter((c) => c && c.name) : [];
		$('story-cast-list').replaceChildren(
			...cast.map((c) => {
				/* "(child)", not "(child, child)" */
				const role = c.role && c.role !== c.species ? ROLE_TEXT[c.role] || c.role : '';
				const about = [c.species, role].filter(Boolean).join(', ');
				return el(
					'li',
					{},
					el('span', { className: 'cast-name', text: c.name }),
					about ? el('span', { className: 'cast-about', text: ` (${about})` }) : null,
					c.looks ? el('span', { className: 'cast-looks', text: c.looks }) : null
				);
			})
		);
		$('story-cast').hidden = cast.length === 0;

		/* Pictures, when the story has them, come from its media. */
		const media = (name) => `/api/v1/stories/${encodeURIComponent(s.id)}/media/${name}`;
		const picture = (p, className, width, height) =>
			p && typeof p.image === 'string' && /^images\/[a-z0-9.-]+\.png$/.test(p.image)
				? el('img', { className, src: media(p.image), alt: p.alt || '', width, height, loading: 'lazy' })
				: null;
		const cover = picture(doc.cover, 'book-cover', 768, 1024);
		$('story-cover').replaceChildren(...(cover ? [cover] : []));
		$('story-cover').hidden = !cover;
		/* The whole story read aloud, when it has been. */
		const whole = doc.audio && /^audio\/story\.opus$/.test(doc.audio.file)
			? el('audio', { className: 'story-audio', controls: '', preload: 'none', src: media(doc.audio.file), dataset: { testid: 'story-audio' } })
			: null;
		$('story-listen').replaceChildren(...(whole ? [el('span', { text: 'Listen to the whole story' }), whole] : []));
		$('story-listen').hidden = !whole;

		const pages = Array.isArray(doc.pages) ? doc.pages : [];
		$('story-pages').replaceChildren(
			...pages.flatMap((p, i) => {
				const n = Number.isInteger(p.number) ? p.number : i + 1;
				const page = el(
					'section',
					{ className: 'page', 'aria-label': `Page ${n}`, dataset: { testid: 'page', page: String(n) } },
					picture(p.picture, 'page-picture', 1024, 768),
					...paragraphs(p.text),
					el('span', { className: 'page-number', 'aria-hidden': 'true', text: String(n) })
				);
				const audio = pageAudio(page, p, media);
				if (audio)
					page.querySelector('.page-number').before(audio);
				/* Longer stories come in chapters: a heading where each one begins. */
				return typeof p.chapter_title === 'string'
					? [el('h3', { className: 'chapter-title', id: `chapter-page-${n}`, text: p.chapter_title }), page]
					: [page];
			})
		);
		/* ...and a table of contents that jumps to each heading. */
		const chapters = Array.isArray(doc.chapters)
			? doc.chapters.filter((c) => c && typeof c.title === 'string' && $(`chapter-page-${c.first_page}`))
			: [];
		$('story-contents-list').replaceChildren(
			...chapters.map((c) => el('li', {}, el('a', { href: `#chapter-page-${c.first_page}`, text: c.title })))
		);
		$('story-contents').hidden = chapters.length === 0;

		const hero = cast.find((c) => c.role === 'hero');
		const kid = cast.find((c) => c.role === 'child');
		const who = [hero && hero.name, kid && kid.name].filter(Boolean).join(' and ');
		$('next-episode-hint').textContent = who
			? `Loved it? ${who} can have another adventure together.`
			: 'Loved it? The same friends can have another adventure together.';
		resetNextEpisode();
		const words = doc.word_count;
		$('story-words').textContent = typeof words === 'number' ? `${words} words` : '';
		$('story-words').hidden = typeof words !== 'number';

		/* The same story as one page the family can keep, made by the worker. */
		$('save-page').href = `/api/v1/stories/${encodeURIComponent(s.id)}/media/story.html`;

		book.hidden = false;
		history.replaceState(null, '', `#story=${encodeURIComponent(s.id)}`);
		$('story-title').focus({ preventScroll: true });
		book.scrollIntoView({ behavior: 'smooth', block: 'start' });
	}

	function openStory(id) {
		clearErrors();
		hideStory();
		setStatus('opening');
		follow(id);
	}

	/* ---- earlier stories ---- */

	function storyItem(s) {
		const title = s.title || UNTITLED[s.status] || 'A story being written…';
		const button = (label, action, className) =>
			el('button', {
				type: 'button',
				className,
				text: label,
				dataset: { action },
				'aria-label': `${label} ${title}`,
			});
		const openBtn = button('Read', 'open', 'small');
		const delBtn = button('Delete', 'delete', 'small danger');
		openBtn.addEventListener('click', () => openStory(s.id));
		delBtn.addEventListener('click', () => askDelete(delBtn, s.id, title));
		return el(
			'li',
			{ className: 'story-item', dataset: { testid: 'story-item', id: s.id, status: s.status } },
			el(
				'div',
				{ className: 'story-item-text' },
				el('span', { className: 'story-item-title', text: title }),
				el(
					'span',
					{ className: 'story-item-meta' },
					el('span', {
						className: `badge badge-${s.status}`,
						text: BADGE_TEXT[s.status] || s.status,
					}),
					' ',
					formatWhen(s.created_at)
				)
			),
			el('div', { className: 'story-item-actions' }, openBtn, delBtn)
		);
	}

	/* Deleting takes two presses, so a stray tap never loses a story. */
	function askDelete(button, id, title) {
		if (button.dataset.confirm !== 'yes') {
			button.dataset.confirm = 'yes';
			button.textContent = 'Sure?';
			button.setAttribute('aria-label', `Press again to delete ${title} for good`);
			setTimeout(() => {
				if (button.isConnected && button.dataset.confirm === 'yes') {
					button.dataset.confirm = '';
					button.textContent = 'Delete';
					button.setAttribute('aria-label', `Delete ${title}`);
				}
			}, 4000);
			return;
		}
		deleteStory(id);
	}

	async function deleteStory(id) {
		try {
			await api('DELETE', `${API}/stories/${encodeURIComponent(id)}`);
		} catch (e) {
			if (e.status !== 404) {
				$('library-status').textContent = `We could not delete that story: ${e.message}`;
				return;
			}
		}
		if ($('story').dataset.id === id) {
			stopPolling();
			hideStory();
			hideStatus();
			history.replaceState(null, '', location.pathname);
		}
		refreshList();
	}

	async function loadList(append) {
		const list = $('story-list');
		const notice = $('library-status');
		let url = `${API}/stories?limit=${LIST_PAGE_SIZE}`;
		if (append && state.nextCursor)
			url += `&cursor=${encodeURIComponent(state.nextCursor)}`;
		try {
			const res = await api('GET', url);
			const stories = res.stories || [];
			if (append)
				list.append(...stories.map(storyItem));
			else
				list.replaceChildren(...stories.map(storyItem));
			state.nextCursor = res.next_cursor || null;
			$('more-stories').hidden = !state.nextCursor;
			notice.textContent = list.children.length
				? ''
				: 'No stories yet. Your first one is just a click away!';
		} catch (e) {
			notice.textContent = `We could not load your stories: ${e.message}`;
		}
	}

	function refreshList() {
		return loadList(false);
	}

	/* ---- start ---- */

	function start() {
		$('creator').addEventListener('submit', onSubmit);
		$('universe').addEventListener('change', onUniverseChange);
		$('hero').addEventListener('change', () => {
			state.heroTouched = true;
			onHeroChange();
		});
		for (const name of Object.keys(CATALOG_LISTS))
			$(name).addEventListener('change', () => onOptionChange(name));
		$('surprise').addEventListener('click', surprise);
		$('more-stories').addEventListener('click', () => loadList(true));
		$('print').addEventListener('click', () => window.print());
		$('next-episode').addEventListener('click', writeNextEpisode);
		$('mode').addEventListener('change', onModeChange);
		$('culture').addEventListener('change', onCultureChange);
		$('new-story').addEventListener('click', () => {
			stopPolling();
			hideStory();
			hideStatus();
			history.replaceState(null, '', location.pathname);
			$('creator-title').focus();
			$('creator-title').scrollIntoView({ behavior: 'smooth', block: 'start' });
		});
		for (const id of new Set(Object.values(FIELDS))) {
			/* Typing or choosing again clears that field's complaint. */
			$(id).addEventListener('input', () => {
				const msg = $(`${id}-error`);
				if (msg && !msg.hidden)
					clearFieldError(id);
			});
		}
		/* A complaint about the worlds may be about the first one, or the mode. */
		$('universe').addEventListener('input', () => clearFieldError('worlds'));
		$('mode').addEventListener('input', () => clearFieldError('worlds'));
		loadCatalog();
		refreshList();
		const m = /^#story=(.+)$/.exec(location.hash);
		if (m)
			openStory(decodeURIComponent(m[1]));
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
