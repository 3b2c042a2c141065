#!/bin/bash
# Monitoring that ships (issue #17): the Prometheus alerting rules pass
# promtool, fire on what dockd exports (promtool test rules), and cover every
# alarm dockd can raise; the Grafana dashboard loads as a dashboard and asks
# only for metrics a real dockd exports. Both are installed by the package.
source "$(dirname "$0")/common.sh"
source "$HERE/../lib/harness.sh"
SRC=$HERE/../..
rules=$SRC/packaging/monitoring/dockd-alerts.yml
dash=$SRC/packaging/monitoring/dockd-dashboard.json

promtool check rules "$rules" >"$WORK/check.txt" 2>&1 || fail "promtool check rules: $(cat "$WORK/check.txt")"
(cd "$SRC/tests/monitoring" && promtool test rules alerts_test.yml) >"$WORK/test.txt" 2>&1 ||
	fail "promtool test rules: $(cat "$WORK/test.txt")"
# every alarm the code can raise (alarms.c: add(l, "NAME" and "NAME:%s") has a rule
grep -o 'add(l, "[a-z-]*"\|"[a-z-]*:%\.32s"' "$SRC/daemon/common/alarms.c" | grep -o '[a-z][a-z-]*[a-z]' | grep -v '^add$' |
	sort -u >"$WORK/alarms.txt"
[ "$(wc -l <"$WORK/alarms.txt")" -ge 13 ] || fail "found only $(wc -l <"$WORK/alarms.txt") alarms in alarms.c"
while read -r a; do
	grep -q "dockd_alarm: $a\$" "$rules" || fail "alarm $a has no alerting rule in $rules"
done <"$WORK/alarms.txt"
pass "alerting rules: promtool checks them, they fire with the target and what to do, and cover all $(wc -l <"$WORK/alarms.txt") alarms"

# the metrics the rules and the dashboard ask for, against a real scrape
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$port" >"$WORK/dockd.conf"
harness_start "$BUILD/tests/bayharness"
at_exit "harness_stop >/dev/null 2>&1"
dockd_start -c "$WORK/dockd.conf"
curl -fsS "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt" || fail "no /metrics"
python3 - "$dash" "$rules" "$WORK/metrics.txt" <<'PY' || fail "the dashboard or the rules ask for what dockd does not export (above)"
import json, re, sys
dash = json.load(open(sys.argv[1]))
exported = {l.split()[2] for l in open(sys.argv[3]) if l.startswith("# TYPE ")}
exported |= {n + s for n in list(exported) for s in ("_bucket", "_sum", "_count")}
bad = []
assert dash.get("title") and dash.get("uid") and isinstance(dash.get("schemaVersion"), int), "not a dashboard"
ids = [p["id"] for p in dash["panels"]]
if len(ids) != len(set(ids)):
    bad.append("panel ids repeat")
exprs = []
for p in dash["panels"]:
    g = p.get("gridPos", {})
    if not all(k in g for k in "xywh") or g["x"] + g["w"] > 24:
        bad.append("panel %s: bad gridPos %s" % (p.get("title"), g))
    if not p.get("targets"):
        bad.append("panel %s: no query" % p.get("title"))
    exprs += [(p["title"], t["expr"]) for t in p.get("targets", [])]
exprs += [("rule", m) for m in re.findall(r"expr: (.*)", open(sys.argv[2]).read())]
for where, e in exprs:
    for name in re.findall(r"\b(dockd_[a-z_]+)", e):
        if name not in exported:
            bad.append("%s asks for %s, which dockd does not export" % (where, name))
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
pass "the dashboard's $(jq '.panels | length' "$dash") panels and the rules ask only for metrics dockd exports"
