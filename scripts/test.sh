#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with Rust (rustup), cargo-nextest, Node.js 20 + npm
# and PostgreSQL running on 127.0.0.1:5432 (trust auth): installs the system packages the tests use
# (root, apt), starts the services they talk to, builds the web viewer, checks formatting, lints and
# types, then runs every test. README.md names this script as the test command; CI runs exactly it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DEBIAN_FRONTEND=noninteractive

# System packages the test suite uses:
#   gdal-bin, libgdal-dev       GDAL client (ogrinfo/ogr2ogr read our OGC API and tiles) and the `gdal` feature
#   libsqlite3-dev              the system SQLite for MBTiles export (the same library libgdal uses)
#   postgresql-15-postgis-3     PostGIS for the `postgis` feature (PostgreSQL 15 itself runs on the machine)
#   chromium                    the browser the viewer's end-to-end tests drive
#   mosquitto                   MQTT broker binary (the reconnect test starts a private one)
#   ffmpeg                      decodes video files for camera sources (the camera tests replay data/video)
packages=(gdal-bin libgdal-dev libsqlite3-dev postgresql-15-postgis-3 chromium mosquitto ffmpeg)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: the tests need these Debian packages: ${missing[*]} (run this script as root, or install them)" >&2
    exit 2
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo-nextest >/dev/null || {
  echo "error: cargo-nextest is missing (cargo install cargo-nextest --locked)" >&2
  exit 2
}

# Services the tests talk to; start any that stopped.
pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
(exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null || mosquitto -d -c /etc/mosquitto/mosquitto.conf
(exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null || start-stop-daemon --start --oknodo --background \
  --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE EXTENSION IF NOT EXISTS postgis"

# The web viewer (TypeScript + Vite): dependencies from package-lock.json, types, then the static build
# the server serves at / and /wall.
npm ci --prefix web-viewer --no-audit --no-fund
# The viewer's API types are generated from the server's reviewed OpenAPI snapshot: they must be current.
npm run --prefix web-viewer api-types
git diff --exit-code -- web-viewer/src/api-types.ts || {
  echo "error: web-viewer/src/api-types.ts is stale: run npm run --prefix web-viewer api-types and commit it" >&2
  exit 1
}
npm run --prefix web-viewer typecheck -- --noEmit
npm test --prefix web-viewer
npm run build --prefix web-viewer

features=twin-layers/gdal,twin-layers/postgis,citytwin/postgis
# House rules: formatting and lints, warnings are errors.
cargo fmt --all --check
cargo clippy --workspace --all-targets --features "$features" -- -D warnings
# A build without burn (no cameras) must keep compiling.
cargo check -p citytwin --no-default-features
cargo nextest run --workspace --features "$features" --no-fail-fast
