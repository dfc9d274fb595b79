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

# The moderator's learned model, from our labelled sets. Held-out sets 1-28
# were each measured blind once and then joined the training; sets 29 and
# on are kept out of it, to guard how the moderator does on text it did not
# learn from (tests/data/README.md).
MODERATION_TRAIN = $(addprefix tests/data/moderation-,eval.tsv heldout.tsv \
	$(foreach n,2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28,heldout-$(n).tsv) \
	$(foreach x,a b c d e f g h i j k l m n o p q r s t,train-$(x).tsv))
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
