#!/bin/bash
# The status page of a 16-bay station, as officers see it from two metres
# (issue #17), in headless Chromium: bays named by their physical label
# ([bays]), all 16 in view without scrolling at 1280x800 and 1920x1080, the
# state in words (at least 48 px at 1080p) in English and in Chinese as the
# browser asks (Accept-Language): safe to remove, copying with progress,
# failed with the reason, unlocking, not a recorder (never read), empty. And
# a page whose dockd stops says so within 5 seconds. Screenshots are kept in
# the build directory.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/harness.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
HARNESS_CHILD_OUT=$WORK/harness.out

browser=$HERE/../browser
[ -d "$browser/node_modules/playwright-core" ] || (cd "$browser" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
	fail "cannot install playwright-core from the npm registry"
fc-list :lang=zh | grep -q . || fail "no Chinese font installed (scripts/deps installs fonts-wqy-microhei)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
usb() { echo "pci-0000:00:14.0-usb-0:$1:1.0"; }
conf=$WORK/dockd.conf
{
	printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$port"
	printf '[recorder.f055:d0c0]\ndriver = msc\n'
	printf '[recorder.f055:d0c1]\ndriver = gat947-jl\n'
	printf '[recorder.f055:d0c3]\ndriver = gat947-jl\nunlock_timeout_s = 600\n'
	printf '[bays]\n'
	for i in $(seq 1 16); do echo "$i = $(usb "$i")"; done
} >"$conf"
src=$WORK/src
mkdir -p "$src/DCIM"
make_clip "$src/DCIM/CLIP0001.MP4" 1 2026-12-05T08:00:00Z
make_fat32 "$WORK/small.img" 40 "$src"
head -c $((60 << 20)) /dev/urandom >"$src/DCIM/CLIP0002.MP4"
make_fat32 "$WORK/big.img" 100 "$src"
# bay 5 copies over a 1 MB/s link: still copying while the pages are looked at
mkdir -p "$WORK/mnt"
FAULTYFS_BPS=1000000 "$BUILD/tests/faultyfs" -m "$WORK/mnt" "$WORK/big.img" &
at_exit "fusermount -u -z '$WORK/mnt' 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -e "$WORK/mnt/disk1.img" ] && break; sleep 0.1; done

harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$conf"
harness_cmd add 1 f055 d0c0 CAM-SAFE "$WORK/small.img" >/dev/null
harness_cmd add 2 f055 d0c1 USB-2 "$WORK/small.img" jl.serial=NOCARD2 jl.fault=nocard >/dev/null
harness_cmd add 3 1234 5678 STICK "$WORK/small.img" >/dev/null
harness_cmd add 4 f055 d0c3 USB-4 "$WORK/small.img" jl.serial=LOCKED4 jl.fault=never-card >/dev/null
harness_cmd add 5 f055 d0c0 CAM-SLOW "$WORK/mnt/disk1.img" >/dev/null
wait_status ".bays[] | select(.bay == \"$(usb 1)\") | .safe_to_remove" 60
wait_status ".bays[] | select(.bay == \"$(usb 2)\") | .state == \"failed\" and .reason == \"no-card\"" 30
wait_status ".bays[] | select(.bay == \"$(usb 4)\") | .state == \"unlocking\"" 30
wait_status ".bays[] | select(.bay == \"$(usb 5)\") | .state == \"ingesting\"" 30
wait_status ".not_recorders[] | select(.bay == \"$(usb 3)\") | .label == \"3\"" 30
status_json | jq -e '[.slots[] | .label] == [range(1;17) | tostring]' >/dev/null || fail "the 16 bays are not in /status.json"

cat >"$WORK/expect.json" <<JSON
{"tiles": 16, "words": {
  "en": {"$(usb 1)": ["Safe to remove", "CAM-SAFE"], "$(usb 2)": ["Failed", "no memory card"],
         "$(usb 3)": ["Not a recorder", "never read"], "$(usb 4)": ["Unlocking", "waiting for the card"],
         "$(usb 5)": ["Wait: copying", "CAM-SLOW"], "$(usb 6)": ["Empty"]},
  "zh_CN": {"$(usb 1)": ["可以取下"], "$(usb 2)": ["失败", "没有存储卡", "请交给保管员"],
            "$(usb 3)": ["非记录仪", "未读取"], "$(usb 4)": ["正在解锁", "等待存储卡"],
            "$(usb 5)": ["请稍候", "正在拷贝"], "$(usb 16)": ["空闲"]}}}
JSON
node "$browser/status_bays.mjs" views "http://127.0.0.1:$port/" "$BUILD" "$WORK/expect.json" >"$WORK/views.json" \
	2>"$WORK/views.err" || fail "the browser run failed: $(cat "$WORK/views.err")"
r=$(cat "$WORK/views.json")
jq -e '.views | length == 4' <<<"$r" >/dev/null || fail "not all four views were looked at: $r"
jq -e 'all(.views[]; .bad == [])' <<<"$r" >/dev/null ||
	fail "the status page fails at the dock: $(jq -c '[.views[] | select(.bad != []) | {w, h, lang, bad}]' <<<"$r")"
jq -e '[.views[] | .htmlLang] == ["en", "zh-CN", "en", "zh-CN"]' <<<"$r" >/dev/null || fail "languages not chosen: $r"
pass "16 bays by label, all in view at 1280x800 and 1920x1080, in English and Chinese; state words $(jq -c '[.views[] | {("\(.w)x\(.h) \(.lang)"): .wordPx}] | add' <<<"$r") px (screenshots: $BUILD/status-*.png)"

# /admin holds the alarms; the dock's page does not
curl -sf "http://127.0.0.1:$port/admin" >"$WORK/admin.html" && grep -q '<h2>Alarms</h2>' "$WORK/admin.html" ||
	fail "no admin view at /admin"
curl -sf "http://127.0.0.1:$port/" >"$WORK/dock.html" && ! grep -qi 'alarm' "$WORK/dock.html" || fail "the dock's page shows alarms"
# [station] language wins over the browser's
printf '[station]\nlanguage = zh_CN\n' >>"$conf"
"$BUILD/dockd" -c "$conf" --state "$WORK/s2" --check >/dev/null 2>&1 || fail "language = zh_CN refused by dockd --check"
pass "alarms live on /admin, not on the dock's page"

# The station stops answering: the page says so within 5 s.
mkdir -p "$WORK/flags"
node "$browser/status_bays.mjs" stale "http://127.0.0.1:$port/" "$WORK/flags" >"$WORK/stale.json" 2>"$WORK/stale.err" &
watcher=$!
for ((i = 0; i < 200; i++)); do [ -e "$WORK/flags/ready" ] && break; sleep 0.1; done
[ -e "$WORK/flags/ready" ] || fail "the page did not come up: $(cat "$WORK/stale.err")"
kill -STOP "$DOCKD_PID" # hung, not gone: the page cannot tell the difference, and must not look live
date +%s%3N >"$WORK/flags/killed.tmp" # whole when the page's watcher sees it
mv "$WORK/flags/killed.tmp" "$WORK/flags/killed"
wait "$watcher" || fail "the browser run failed: $(cat "$WORK/stale.err")"
kill -CONT "$DOCKD_PID"
r=$(cat "$WORK/stale.json")
jq -e '.staleBefore == false and .staleAfterMs != null and .staleAfterMs <= 5000 and (.text | test("not answering"))' \
	<<<"$r" >/dev/null || fail "a page of a stopped dockd still looks live: $r"
cp "$WORK/flags/status-stale.png" "$BUILD/" 2>/dev/null || true
pass "dockd stopped: the page says 'Station not answering' after $(jq .staleAfterMs <<<"$r") ms (at most 5000)"
