# StoryVerse: `make run` starts the server, `make test` runs every test.
# Both install what is missing first (scripts/deps.sh).

CMAKE_FLAGS ?=
NPM_STAMP := node_modules/.package-lock.json

.PHONY: all deps build build-asan build-fuzz run test bench format lint clean moderation-model

all: build

deps:
	@scripts/deps.sh

build: deps
	@test -f build/build.ninja || cmake -S . -B build -G Ninja $(CMAKE_FLAGS)
	@ninja -C build

build-asan: deps
	@test -f build-asan/build.ninja || cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
		-DSV_SANITIZE=ON -DSV_BROWSER_TESTS=OFF $(CMAKE_FLAGS)
	@ninja -C build-asan

build-fuzz: deps
	@test -f build-fuzz/build.ninja || CC=clang cmake -S . -B build-fuzz -G Ninja \
		-DCMAKE_BUILD_TYPE=Debug -DSV_FUZZ=ON -DSV_BROWSER_TESTS=OFF $(CMAKE_FLAGS)
	@ninja -C build-fuzz fuzz

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: build
	./build/storyverse serve

test: build build-asan build-fuzz $(NPM_STAMP)
	@scripts/test.sh

bench: build
	@bench/run.sh

# The moderator's learned model, from our labelled sets. Held-out sets 1-8
# were each measured blind once and then joined the training; sets 9-25 are
# kept out of it, to guard how the moderator does on text it did not learn
# from (tests/data/README.md).
MODERATION_TRAIN = $(addprefix tests/data/moderation-,eval.tsv heldout.tsv heldout-2.tsv \
	heldout-3.tsv heldout-4.tsv heldout-5.tsv heldout-6.tsv heldout-7.tsv heldout-8.tsv \
	train-a.tsv train-b.tsv train-c.tsv train-d.tsv train-e.tsv train-f.tsv train-g.tsv \
	train-h.tsv train-i.tsv train-j.tsv train-k.tsv train-l.tsv train-m.tsv train-n.tsv train-o.tsv \
	train-p.tsv train-q.tsv train-r.tsv train-s.tsv train-t.tsv)
moderation-model: build
	build/storyverse moderate --train data/en/moderation-model.json $(MODERATION_TRAIN)
	cmake --build build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint: build
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	clang-tidy -p build --quiet $$(git ls-files 'src/*.c')

clean:
	rm -rf build build-asan build-fuzz
