#!/usr/bin/env bash
# Installs the Debian packages StoryVerse needs to build, test and benchmark,
# only those missing, with apt-get (through sudo when not root). Quiet and
# quick when everything is already there. Node.js comes with the machine.
set -euo pipefail

packages=(
	build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
	clang-format clang-tidy
	libjansson-dev libmicrohttpd-dev libsqlite3-dev libpq-dev libcmocka-dev
	libsodium-dev libcurl4-openssl-dev libcairo2-dev libpango1.0-dev libarchive-dev
	libespeak-ng-dev flite1-dev libfluidsynth-dev timgm6mb-soundfont libspeexdsp-dev
	libebur128-dev libopusenc-dev libopusfile-dev libmp3lame-dev libmpg123-dev libutf8proc-dev
	postgresql
	wrk curl bc chromium ca-certificates
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ "$status" == ii* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	echo "installing: ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		"${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null 2>&1; then
	echo "deps: Node.js 20 is needed for the integration and browser tests" >&2
	exit 1
fi
