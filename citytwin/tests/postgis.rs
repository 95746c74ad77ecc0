//! The PostGIS backend end to end: the real `citytwin` binary with a `[postgis]` section, against the
//! real PostgreSQL/PostGIS on 127.0.0.1:5432 (database `test`, or `$CITYTWIN_TEST_POSTGRES`). Tables
//! are made with `psql`; tiles are fetched over HTTP and decoded; snapshots are read back with `psql`.
//! Without the `postgis` feature the same binary must refuse the section at start-up.

#![allow(clippy::unwrap_used)] // tests may unwrap
// Without the feature only the start-up refusal is tested; the HTTP and SQL helpers go unused.
#![cfg_attr(not(feature = "postgis"), allow(dead_code))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn pg_url() -> String {
    std::env::var("CITYTWIN_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs SQL with psql; returns its unaligned, tuples-only output.
fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([pg_url().as_str(), "-v", "ON_ERROR_STOP=1", "-qAtX", "-F", "|", "-c", sql])
        .output()
        .expect("psql must be installed (postgresql-client)");
    assert!(out.status.success(), "psql failed on {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn write_config(dir: &Path, postgis: &str) -> std::path::PathBuf {
    let path = dir.join("city.toml");
    let text = format!(
        "[city]\nname = \"Test\"\nbbox = [107.9, 15.9, 108.35, 16.2]\n[store]\nfsync = \"interval\"\n\n{postgis}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A running `citytwin serve`; killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Started {
    Listening(Server),
    Exited(String),
}

/// The bearer token of the admin `serve` adds; `http` sends it.
static TOKEN: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn serve(config: &Path, data: &Path) -> Started {
    std::fs::create_dir_all(data).unwrap();
    let mut users = twin_auth::UserStore::new();
    users.add_user("pg-admin", twin_auth::Role::Admin, None, "pg-admin-password", &mut rand::rngs::OsRng).unwrap();
    users.save(&data.join(twin_auth::service::USERS_FILE)).unwrap();
    let started = spawn(config, data);
    if let Started::Listening(s) = &started {
        let form = b"grant_type=password&username=pg-admin&password=pg-admin-password";
        let r = http(&s.addr, "POST", "/auth/token", &[("Content-Type", "application/x-www-form-urlencoded")], form);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        *TOKEN.lock().unwrap() = v["access_token"].as_str().unwrap().to_owned();
    }
    started
}

fn spawn(config: &Path, data: &Path) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // stderr is drained on a thread so the child never blocks on a full pipe.
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(addr) = line.strip_prefix("listening on http://") {
            return Started::Listening(Server { child, addr: addr.trim().to_owned() });
        }
    }
    let _ = child.wait();
    Started::Exited(err.join().unwrap_or_default())
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`, so the body ends at EOF).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    let token = TOKEN.lock().unwrap().clone();
    if !token.is_empty() && path != "/auth/token" {
        req.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().split(';').next().unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

/// Tile x/y of a point and its position inside the tile in units of 4096, by the Web Mercator
/// formulas (written out here rather than taken from twin-tiles).
fn tile_and_pixel(lon: f64, lat: f64, z: u8) -> ((u32, u32), (f64, f64)) {
    let n = f64::from(1u32 << z);
    let fx = (lon + 180.0) / 360.0 * n;
    let r = lat.to_radians();
    let fy = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    ((fx as u32, fy as u32), (fx.fract() * 4096.0, fy.fract() * 4096.0))
}

#[cfg(feature = "postgis")]
mod with_postgis {
    use std::io::Read as _;
    use std::time::Instant;

    use geozero::mvt::{tile, Message as _, Tile};
    use serde_json::Value;

    use super::*;

    /// Three stations near the Dragon Bridge (one z14 tile) and one in Hội An, far from it.
    const STATIONS: [(i32, &str, f64, bool, f64, f64); 4] = [
        (7, "Cầu Rồng", 12.5, true, 108.2270, 16.0612),
        (8, "Bạch Đằng", 3.0, false, 108.2240, 16.0660),
        (9, "Trần Phú", 20.0, true, 108.2205, 16.0640),
        (10, "Hội An", 15.0, true, 108.3280, 15.8800),
    ];

    fn make_table(schema: &str) {
        psql(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; \
             CREATE TABLE {schema}.stations (gid int PRIMARY KEY, name text, speed float8, open boolean, \
               geom geometry(Point, 4326));"
        ));
        let values: Vec<String> = STATIONS
            .iter()
            .map(|(gid, name, speed, open, lon, lat)| {
                format!("({gid}, '{name}', {speed}, {open}, ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326))")
            })
            .collect();
        psql(&format!("INSERT INTO {schema}.stations VALUES {}", values.join(", ")));
    }

    fn attr(layer: &tile::Layer, f: &tile::Feature, key: &str) -> Option<tile::Value> {
        let k = layer.keys.iter().position(|x| x == key)? as u32;
        let v = f.tags.chunks(2).find(|kv| kv[0] == k)?[1];
        layer.values.get(v as usize).cloned()
    }

    /// The single point of a feature, decoded from the MVT command stream.
    fn point(f: &tile::Feature) -> (i64, i64) {
        assert_eq!(f.r#type, Some(tile::GeomType::Point as i32));
        assert_eq!(f.geometry[0], 9, "MoveTo ×1");
        let unzig = |v: u32| i64::from((v >> 1) as i32 ^ -((v & 1) as i32));
        (unzig(f.geometry[1]), unzig(f.geometry[2]))
    }

    #[test]
    fn postgis_tables_are_served_as_tile_layers_and_entities_are_snapshotted() {
        let schema = "t_server_pg_e2e";
        make_table(schema);
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(
            dir.path(),
            &format!(
                "[postgis]\nurl = \"{}\"\nsnapshot_table = \"{schema}.entities\"\nsnapshot_interval_s = 1\n\
                 [[postgis.layers]]\nname = \"stations\"\ntable = \"{schema}.stations\"\nid_column = \"gid\"\n\
                 properties = [\"name\", \"speed\", \"open\"]\nminzoom = 10\nmaxzoom = 18\n\
                 [[postgis.layers]]\nname = \"fast_stations\"\n\
                 sql = \"SELECT gid, name, geom FROM {schema}.stations WHERE speed > 10\"\nid_column = \"gid\"\n\
                 properties = [\"name\"]\n",
                pg_url()
            ),
        );
        let server = match serve(&config, &dir.path().join("data")) {
            Started::Listening(s) => s,
            Started::Exited(err) => panic!("server did not start:\n{err}"),
        };
        let addr = server.addr.clone();

        // The tile with the three Đà Nẵng stations.
        let ((x, y), _) = tile_and_pixel(STATIONS[0].4, STATIONS[0].5, 14);
        for s in &STATIONS[..3] {
            assert_eq!(tile_and_pixel(s.4, s.5, 14).0, (x, y), "test stations must share a z14 tile");
        }
        let r = http(&addr, "GET", &format!("/tiles/stations/14/{x}/{y}.mvt"), &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/vnd.mapbox-vector-tile"));
        let etag = r.header("etag").unwrap().to_owned();
        let t = Tile::decode(r.body.as_slice()).unwrap();
        assert_eq!(t.layers.len(), 1);
        let l = &t.layers[0];
        assert_eq!((l.name.as_str(), l.extent), ("stations", Some(4096)));
        assert_eq!(l.features.len(), 3, "Hội An is outside the tile");
        for f in &l.features {
            let gid = f.id.unwrap() as i32;
            let (_, name, speed, open, lon, lat) = *STATIONS.iter().find(|s| s.0 == gid).unwrap();
            assert_eq!(attr(l, f, "name").unwrap().string_value.as_deref(), Some(name));
            assert_eq!(attr(l, f, "speed").unwrap().double_value, Some(speed));
            assert_eq!(attr(l, f, "open").unwrap().bool_value, Some(open));
            assert!(attr(l, f, "gid").is_none(), "the id column is the feature id, not an attribute");
            let (px, py) = point(f);
            let (_, (ex, ey)) = tile_and_pixel(lon, lat, 14);
            assert!((px as f64 - ex).abs() <= 1.0 && (py as f64 - ey).abs() <= 1.0, "{gid}: {px},{py} vs {ex},{ey}");
        }

        // Revalidation, gzip, empty tiles, zooms outside the layer's range.
        let path = format!("/tiles/stations/14/{x}/{y}.mvt");
        assert_eq!(http(&addr, "GET", &path, &[("If-None-Match", &etag)], b"").status, 304);
        let gz = http(&addr, "GET", &path, &[("Accept-Encoding", "gzip")], b"");
        assert_eq!((gz.status, gz.header("content-encoding")), (200, Some("gzip")));
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(gz.body.as_slice()).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, r.body);
        assert_eq!(http(&addr, "GET", &format!("/tiles/stations/14/{}/{y}.mvt", x + 5), &[], b"").status, 204);
        let ((x8, y8), _) = tile_and_pixel(STATIONS[0].4, STATIONS[0].5, 8);
        assert_eq!(http(&addr, "GET", &format!("/tiles/stations/8/{x8}/{y8}.mvt"), &[], b"").status, 204);
        assert_eq!(http(&addr, "GET", "/tiles/stations/14/99999/1.mvt", &[], b"").status, 400);

        // The SQL layer holds only what its query selects.
        let r = http(&addr, "GET", &format!("/tiles/fast_stations/14/{x}/{y}.mvt"), &[], b"");
        assert_eq!(r.status, 200);
        let t = Tile::decode(r.body.as_slice()).unwrap();
        let mut ids: Vec<u64> = t.layers[0].features.iter().map(|f| f.id.unwrap()).collect();
        ids.sort_unstable();
        assert_eq!((t.layers[0].name.as_str(), ids), ("fast_stations", vec![7, 9]));

        // TileJSON with the column types.
        let r = http(&addr, "GET", "/tiles/stations.json", &[], b"");
        assert_eq!(r.status, 200);
        let doc: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(doc["tilejson"], "3.0.0");
        assert_eq!((doc["minzoom"].as_u64(), doc["maxzoom"].as_u64()), (Some(10), Some(18)));
        assert!(doc["tiles"][0].as_str().unwrap().ends_with("/tiles/stations/{z}/{x}/{y}.mvt"));
        let vl = &doc["vector_layers"][0];
        assert_eq!(vl["id"], "stations");
        assert_eq!(vl["fields"], serde_json::json!({"name": "String", "speed": "Number", "open": "Boolean"}));
        assert_eq!(http(&addr, "GET", "/tiles/nothing.json", &[], b"").status, 404);
        assert_eq!(http(&addr, "GET", "/tiles/nothing/1/0/0.mvt", &[], b"").status, 404);

        // Entity snapshots reach the table within a few intervals.
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let obs = serde_json::json!([
            {"kind": "bus", "id": "pg-bus-1", "time": now, "lon": 108.2208, "lat": 16.0678, "speed": 7.5},
            {"kind": "ambulance", "id": "pg-amb-1", "time": now, "lon": 108.2100, "lat": 16.0500, "status": "en_route"},
        ]);
        let r = http(
            &addr,
            "POST",
            "/ingest/observations",
            &[("Content-Type", "application/json")],
            obs.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let query = format!(
            "SELECT kind, external_id, round(ST_X(geom)::numeric, 4), round(ST_Y(geom)::numeric, 4), \
             coalesce(speed::text, ''), coalesce(status, '') FROM {schema}.entities ORDER BY external_id"
        );
        let deadline = Instant::now() + Duration::from_secs(120);
        let rows = loop {
            let rows = psql(&query);
            if rows.lines().count() == 2 || Instant::now() > deadline {
                break rows;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(
            rows.lines().collect::<Vec<_>>(),
            ["ambulance|pg-amb-1|108.2100|16.0500||en_route", "bus|pg-bus-1|108.2208|16.0678|7.5|"]
        );
        drop(server);
    }

    #[test]
    fn a_postgis_layer_that_cannot_be_served_stops_start_up() {
        let schema = "t_server_pg_bad";
        psql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"));
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(
            dir.path(),
            &format!(
                "[postgis]\nurl = \"{}\"\nsnapshot_interval_s = 0\n[[postgis.layers]]\nname = \"ghost\"\n\
                 table = \"{schema}.missing\"\n",
                pg_url()
            ),
        );
        match serve(&config, &dir.path().join("data")) {
            Started::Listening(_) => panic!("started with a layer on a missing table"),
            Started::Exited(err) => {
                assert!(err.contains("[[postgis.layers]] \"ghost\""), "{err}");
                assert!(err.contains("missing"), "{err}");
            }
        }
        // A name already taken by a live kind is refused too.
        let config = write_config(
            dir.path(),
            &format!(
                "[postgis]\nurl = \"{}\"\nsnapshot_interval_s = 0\n[[postgis.layers]]\nname = \"bus\"\n\
                 sql = \"SELECT 1 AS gid, ST_MakePoint(0, 0) AS geom\"\n",
                pg_url()
            ),
        );
        match serve(&config, &dir.path().join("data2")) {
            Started::Listening(_) => panic!("started with a PostGIS layer named like a live kind"),
            Started::Exited(err) => assert!(err.contains("\"bus\" is already taken"), "{err}"),
        }
    }
}

#[cfg(not(feature = "postgis"))]
#[test]
fn a_postgis_section_needs_the_postgis_feature() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[postgis]\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n[[postgis.layers]]\nname = \"p\"\ntable = \"t\"\n",
    );
    match serve(&config, &dir.path().join("data")) {
        Started::Listening(_) => panic!("a build without PostGIS ignored [postgis]"),
        Started::Exited(err) => assert!(err.contains("built without PostGIS support"), "{err}"),
    }
}
