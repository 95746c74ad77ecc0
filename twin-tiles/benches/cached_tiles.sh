#!/usr/bin/env bash
# Cached vector tiles under load: a release `citytwin serve` with 100k live entities (posted by the
# load harness), then wrk on loopback over 64 distinct z14 tiles of central Đà Nẵng with gzip.
# Needs: `cargo build --release -p citytwin -p twin-tests` and wrk (apt-get install -y wrk).
#   twin-tiles/benches/cached_tiles.sh [duration, default 30s] [connections, default 64]
# Prints wrk's report (req/s and latency percentiles). Nothing here is a test: see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-30s}
CONNECTIONS=${2:-64}
BIN=${CITYTWIN_BIN:-target/release/citytwin}
LOAD=${LOAD_BIN:-target/release/load}
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat >"$WORK/city.toml" <<TOML
[city]
name = "Bench"
bbox = [107.9, 15.8, 108.5, 16.3]
[store]
fsync = "interval"
TOML
# Tiles need a signed-in caller: an admin account, then its bearer token on every request.
echo bench-password | "$BIN" users --data-dir "$WORK/data" add bench --role admin >/dev/null 2>&1
"$BIN" serve --config "$WORK/city.toml" --data-dir "$WORK/data" --listen 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 600); do grep -q "listening on" "$WORK/out" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/out" | head -1)
[ -n "$URL" ] || { cat "$WORK/err"; exit 1; }
TOKEN=$(curl -s -d grant_type=password -d username=bench -d password=bench-password "$URL/auth/token" |
  sed 's/.*"access_token":"\([^"]*\)".*/\1/')
export CITYTWIN_TOKEN=$TOKEN
"$LOAD" --url "$URL" --entities 100000 --observations 100000 --skip-freshness >"$WORK/load.txt"

# 8 × 8 z14 tiles around (108.21, 16.06).
cat >"$WORK/tiles.lua" <<'LUA'
local paths = {}
local n = 2 ^ 14
local cx = math.floor((108.21 + 180) / 360 * n)
local lat = math.rad(16.06)
local cy = math.floor((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
for dx = -4, 3 do
  for dy = -4, 3 do
    paths[#paths + 1] = string.format("/tiles/live/14/%d/%d.mvt", cx + dx, cy + dy)
  end
end
local headers = { ["Accept-Encoding"] = "gzip", ["Authorization"] = "Bearer " .. os.getenv("CITYTWIN_TOKEN") }
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
LUA
# Warm the cache, then measure.
wrk -t1 -c4 -d2s -s "$WORK/tiles.lua" "$URL" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/tiles.lua" "$URL"
