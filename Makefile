# StoryVerse: `make run` starts the server, `make test` runs every test.
# Both install what is missing first (scripts/deps.sh).

CMAKE_FLAGS ?=
NPM_STAMP := node_modules/.package-lock.json

.PHONY: all deps build build-asan build-fuzz run test bench format lint clean

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

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint: build
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	clang-tidy -p build --quiet $$(git ls-files 'src/*.c')

clean:
	rm -rf build build-asan build-fuzz
