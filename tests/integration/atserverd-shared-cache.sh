#!/bin/bash
# Keys another atSign shares with me, as sshnp --list-devices finds them (spec §6.2):
# - "scan:@d <regex>" on @c's server is answered by @d's server after from + pol (another
#   process), or from @d's store when @d is hosted in the same process;
# - @d's update of "@c:k@d" with ttr is notified to @c's server, which keeps
#   "cached:@c:k@d" (local scan, llookup:cached:, lookup answered while @d's server is down);
# - @d's delete cascades to the cached copy only when it was shared with ccd:true.
# Upstream: at_server scan_verb_handler.dart, notify_verb_handler.dart, lookup_verb_handler.dart.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
SOURCE_DIR=${SOURCE_DIR:-$(dirname "$0")/../..}
SERVER="$BUILD_DIR/src/atserverd/atserverd"
CLIENT="$SOURCE_DIR/tests/integration/atserverd_client.py"
PY=/usr/bin/python3
T=$(mktemp -d)
PA= PB=
cleanup() {
        for p in $PA $PB; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
        rm -rf "$T"
}
trap cleanup EXIT
root_of() { echo "localhost:$(grep -o "Root directory on 127.0.0.1:[0-9]*" "$1" | cut -d: -f2)"; }
wait_log() { for _ in $(seq 100); do grep -q "Root directory on" "$1" && return 0; sleep 0.1; done; return 1; }

# process A hosts @c and @e, process B hosts @d
"$SERVER" --data-dir "$T/a" --add-atsign @c > "$T/secret-c"
"$SERVER" --data-dir "$T/a" --add-atsign @e > "$T/secret-e"
"$SERVER" --data-dir "$T/b" --add-atsign @d > "$T/secret-d"
"$SERVER" --data-dir "$T/a" --root-port 0 --directory "$T/directory" > "$T/log-a" 2>&1 &
PA=$!
wait_log "$T/log-a"
"$SERVER" --data-dir "$T/b" --root-port 0 --directory "$T/directory" --tls-cert "$T/a/server.pem" \
        --tls-key "$T/a/server-key.pem" --ca-file "$T/a/ca.pem" > "$T/log-b" 2>&1 &
PB=$!
wait_log "$T/log-b"
RA=$(root_of "$T/log-a")
RB=$(root_of "$T/log-b")
CA="$T/a/ca.pem"
"$PY" "$CLIENT" onboard "$RA" "$CA" @c "$(cat "$T/secret-c")" "$T/keys" >/dev/null
"$PY" "$CLIENT" onboard "$RA" "$CA" @e "$(cat "$T/secret-e")" "$T/keys" >/dev/null
"$PY" "$CLIENT" onboard "$RB" "$CA" @d "$(cat "$T/secret-d")" "$T/keys" >/dev/null

# the python part needs to stop process B half-way
export PB
"$PY" - "$CLIENT" "$RA" "$RB" "$CA" "$T/keys" <<'PYEOF'
import importlib.util, json, os, signal, sys, time
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
ra, rb, ca, keys = sys.argv[2:6]

def login(root, atsign):
    s = c.secondary(root, ca, atsign)
    assert c.pkam(s, atsign, c.load_key(keys, atsign)) == "data:success"
    return s

def data_json(r):
    assert r.startswith("data:"), r
    return json.loads(r[5:])

def eventually(f, what, timeout=10):
    end = time.time() + timeout
    while True:
        v = f()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)

d = login(rb, "@d")
cc = login(ra, "@c")
e = login(ra, "@e")

# sshnpd's put of device_info (ttr -1, ccd true, 30 days) and username (ttr -1, no cascade)
for line in ("update:ttl:2592000000:ttr:-1:ccd:true:@c:device_info.dev.sshnp@d info-v1",
             "update:ttr:-1:ccd:false:@c:username.dev.sshnp@d alice",
             "update:@c:nottr.dev.sshnp@d plain",
             "update:@x:device_info.other.sshnp@d not-for-c"):
    r = d.cmd(line)
    assert r.startswith("data:"), (line, r)

# 1. scan:@d, answered by @d's server (other process) after pol
r = cc.cmd("scan:@d device_info\\..*\\.sshnp")
assert data_json(r) == ["device_info.dev.sshnp@d"], r
r = cc.cmd("scan:@d")
assert sorted(data_json(r)) == ["device_info.dev.sshnp@d", "nottr.dev.sshnp@d", "username.dev.sshnp@d"], r
# the same scan on @d's own connection is a plain local scan
assert "@c:device_info.dev.sshnp@d" in data_json(d.cmd("scan:@d device_info"))
# unauthenticated: refused
raw = c.secondary(ra, ca, "@c")
r = raw.cmd("scan:@d")
assert r.startswith("error:") and "AT0401" in r, r
raw.close()
print("ok   scan:@d lists what @d shares with @c, from @d's server in another process")

# 2. @e (same process as @c) shares with @c
r = e.cmd("update:ttr:-1:ccd:true:@c:device_info.edev.sshnp@e info-e")
assert r.startswith("data:"), r
r = cc.cmd("scan:@e device_info\\..*\\.sshnp")
assert data_json(r) == ["device_info.edev.sshnp@e"], r
print("ok   scan:@e answered from @e's store in the same process")

# 3. cached copies on @c's server, listed by a local scan
def cached():
    return set(k for k in data_json(cc.cmd("scan")) if k.startswith("cached:"))
want = {"cached:@c:device_info.dev.sshnp@d", "cached:@c:username.dev.sshnp@d", "cached:@c:device_info.edev.sshnp@e"}
eventually(lambda: cached() == want, "cached keys %s (have %s)" % (want, cached()))
assert cc.cmd("llookup:cached:@c:device_info.dev.sshnp@d") == "data:info-v1"
meta = data_json(cc.cmd("llookup:meta:cached:@c:device_info.dev.sshnp@d"))
assert meta["ttr"] == -1 and meta["ccd"] is True and meta["ttl"] == 2592000000, meta
assert cc.cmd("llookup:cached:@c:device_info.edev.sshnp@e") == "data:info-e"
print("ok   @c's server keeps cached:@c:<key>@d for keys shared with ttr (not without), seen by scan and llookup")

# 4. an update refreshes the cached copy
r = d.cmd("update:ttr:-1:ccd:true:@c:device_info.dev.sshnp@d info-v2")
assert r.startswith("data:"), r
eventually(lambda: cc.cmd("llookup:cached:@c:device_info.dev.sshnp@d") == "data:info-v2", "refreshed cache")
# update:meta is notified too, without a value: the cached copy keeps its value, takes the metadata
r = d.cmd("update:meta:@c:username.dev.sshnp@d:ttl:3600000")
assert r.startswith("data:"), r
eventually(lambda: data_json(cc.cmd("llookup:meta:cached:@c:username.dev.sshnp@d"))["ttl"] == 3600000, "meta update")
assert cc.cmd("llookup:cached:@c:username.dev.sshnp@d") == "data:alice"
print("ok   a later update (or update:meta) of the shared key refreshes the cached copy")

# 5. delete cascades when ccd is true only
assert d.cmd("delete:@c:device_info.dev.sshnp@d").startswith("data:")
assert d.cmd("delete:@c:username.dev.sshnp@d").startswith("data:")
assert e.cmd("delete:@c:device_info.edev.sshnp@e").startswith("data:")
eventually(lambda: cached() == {"cached:@c:username.dev.sshnp@d"}, "cascade delete (have %s)" % cached())
assert data_json(cc.cmd("scan:@d device_info")) == []
print("ok   deleting a key shared with ccd:true removes @c's cached copy; ccd:false keeps it")

# 6. a remote lookup maintains the cache: an answer with ttr is cached again, "does not exist"
# drops the copy (cache_manager.dart remoteLookUp)
r = d.cmd("update:ttr:86400000:@c:remote.dev.sshnp@d r1")
assert r.startswith("data:"), r
eventually(lambda: "cached:@c:remote.dev.sshnp@d" in cached(), "cached remote key")
assert cc.cmd("delete:cached:@c:remote.dev.sshnp@d").startswith("data:")
assert "cached:@c:remote.dev.sshnp@d" not in cached()
assert cc.cmd("lookup:remote.dev.sshnp@d") == "data:r1"
assert "cached:@c:remote.dev.sshnp@d" in cached()
meta = data_json(cc.cmd("lookup:meta:remote.dev.sshnp@d"))
assert meta["ttr"] == 86400000, meta
r = cc.cmd("lookup:bypassCache:true:username.dev.sshnp@d")
assert r.startswith("error:") and "AT0015" in r, r
assert "cached:@c:username.dev.sshnp@d" not in cached()
print("ok   a remote lookup caches an answer with ttr and drops the copy of a key that is gone")

# 7. lookup answered from the cache while @d's server is down; bypassCache goes to @d
r = d.cmd("update:ttr:-1:ccd:true:@c:device_info.dev.sshnp@d info-v3")
assert r.startswith("data:"), r
eventually(lambda: cc.cmd("llookup:cached:@c:device_info.dev.sshnp@d") == "data:info-v3", "cache again")
d.close()
os.kill(int(os.environ["PB"]), signal.SIGTERM)
time.sleep(0.5)
assert cc.cmd("lookup:device_info.dev.sshnp@d") == "data:info-v3"
r = cc.cmd("lookup:bypassCache:true:device_info.dev.sshnp@d", timeout=30)
assert r.startswith("error:"), r
# no ttr: nothing cached, so no answer without @d's server
r = cc.cmd("lookup:nottr.dev.sshnp@d", timeout=30)
assert r.startswith("error:"), r
print("ok   lookup is answered from a fresh cached copy while @d's server is down; bypassCache is not")
PYEOF
grep -q "pol authenticated atsign=@d" "$T/log-b" || { echo "FAIL: @c's server never logged in to @d's (scan)"; exit 1; }
grep -q "pol authenticated atsign=@c" "$T/log-a" || { echo "FAIL: @d's server never logged in to @c's (notify)"; exit 1; }
echo "TEST PASSED"
