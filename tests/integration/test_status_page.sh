#!/bin/bash
# The status page at the dock, in headless Chromium (Debian's, driven by
# Playwright): a simulated recorder docks behind a slow link; its tile
# appears, shows progress while it ingests, and turns "SAFE TO REMOVE" in
# place, without a reload. The screenshot is kept in the build directory.
source "$(dirname "$0")/common.sh"
# shellcheck source=../lib/harness.sh
source "$HERE/../lib/harness.sh"

browser=$HERE/../browser
[ -d "$browser/node_modules/playwright-core" ] || (cd "$browser" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
	fail "cannot install playwright-core from the npm registry"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf=$WORK/dockd.conf
printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$port" >"$conf"
src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-11-25T08:00:00Z
head -c $((48 << 20)) /dev/urandom >"$src/DCIM/CLIP0002.MP4"
make_fat32 "$WORK/rec.img" 100 "$src"
# a 16 MB/s link: the ingest takes a few seconds, long enough to watch
mkdir -p "$WORK/mnt"
FAULTYFS_BPS=16000000 "$BUILD/tests/faultyfs" -m "$WORK/mnt" "$WORK/rec.img" &
at_exit "fusermount -u -z '$WORK/mnt' 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -e "$WORK/mnt/disk1.img" ] && break; sleep 0.1; done

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$conf"
shot=$BUILD/status-page.png
rm -f "$shot"
node "$browser/status_page.mjs" "http://127.0.0.1:$port/" CAM-PAGE "$shot" >"$WORK/page.json" 2>"$WORK/page.err" &
watcher=$!
sleep 2         # the page is open and polling before the recorder docks
harness_cmd add 1 f055 d0c0 CAM-PAGE "$WORK/mnt/disk1.img" >/dev/null
wait "$watcher" || fail "the browser run failed: $(cat "$WORK/page.err")"
r=$(cat "$WORK/page.json")
jq -e '.appeared and .safe and .reloads == 0' <<<"$r" >/dev/null || fail "status page: $r"
jq -e '.states | index("ingesting") != null and .[-1] == "complete"' <<<"$r" >/dev/null ||
	fail "the tile did not show the ingest, then complete: $r"
jq -e '.progress | length >= 3 and .[-1] == "100%"' <<<"$r" >/dev/null || fail "no progress shown: $r"
[ -s "$shot" ] || fail "no screenshot at $shot"
pass "the tile appeared, moved through $(jq -c .states <<<"$r") with $(jq '.progress | length' <<<"$r") progress steps, and turned SAFE TO REMOVE without a reload (screenshot: $shot)"
