//! `citytwin decode` run as a program: AIS against gpsd's own JSON decode of its sample log,
//! GTFS-realtime against the official bindings, OsmAnd lines, and undecodable input.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_citytwin");
const INGEST_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../twin-ingest/tests/data");
/// Message types whose every gpsd field we decode.
const SUPPORTED: [u64; 9] = [1, 2, 3, 4, 5, 18, 19, 21, 27];

fn decode(format: &str, input: &str, stdin: Option<&[u8]>) -> (i32, Vec<Value>) {
    let mut child = Command::new(BIN)
        .args(["decode", format, input])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            pipe.write_all(bytes).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let values = text.lines().map(|l| serde_json::from_str(l).expect("every output line is JSON")).collect();
    (out.status.code().unwrap_or(-1), values)
}

fn same(g: &Value, o: &Value) -> bool {
    match (g, o) {
        (Value::Number(a), Value::Number(b)) => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= 2e-7,
        _ => g == o,
    }
}

#[test]
fn ais_output_matches_gpsd_json() {
    let (code, ours) = decode("ais", &format!("{INGEST_DATA}/ais/gpsd/sample.aivdm"), None);
    assert_eq!(code, 0);
    let golden: Vec<Value> = std::fs::read_to_string(format!("{INGEST_DATA}/ais/gpsd/sample.aivdm.js.chk"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: Vec<&Value> = ours.iter().filter(|v| v.get("error").is_none()).collect();
    let mut g = 0;
    let mut compared = 0;
    let mut problems = Vec::new();
    for o in records {
        let Some(gold) = golden.get(g) else { break };
        // gpsd emits type 24 only as merged A+B pairs; align on type and MMSI.
        if gold["type"] != o["type"] || gold["mmsi"] != o["mmsi"] {
            continue;
        }
        g += 1;
        if !SUPPORTED.contains(&gold["type"].as_u64().unwrap()) {
            continue;
        }
        compared += 1;
        for (k, gv) in gold.as_object().unwrap() {
            if matches!(k.as_str(), "class" | "device" | "scaled") {
                continue;
            }
            match o.get(k) {
                Some(ov) if same(gv, ov) => {}
                other => {
                    problems.push(format!("type {} mmsi {} {k}: gpsd {gv} ours {other:?}", gold["type"], gold["mmsi"]))
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(g, golden.len(), "every gpsd message found in our output");
    assert!(compared >= 20, "compared {compared}");
}

#[test]
fn ais_errors_name_their_line_and_stdin_works() {
    let input =
        b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B\nhello\n";
    let (code, out) = decode("ais", "-", Some(input));
    assert_eq!(code, 0);
    assert_eq!(out[0]["mmsi"], 371798000);
    assert_eq!(out[0]["speed"], 12.3);
    let errors: Vec<&Value> = out.iter().filter(|v| v.get("error").is_some()).collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[0]["reason"], "bad_checksum");
    assert_eq!(errors[1]["line"], 3);
}

#[test]
fn gtfs_rt_entities_match_the_official_bindings() {
    let (code, out) = decode("gtfs-rt", &format!("{INGEST_DATA}/gtfs/usf_bullrunner_vehicle_positions.pb"), None);
    assert_eq!(code, 0);
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{INGEST_DATA}/gtfs/golden/usf_bullrunner_vehicle_positions.decoded.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out.as_slice(), golden["entity"].as_array().unwrap().as_slice());
    let (code, out) = decode("gtfs-rt", "-", Some(b"\x0a\xff\xff"));
    assert_eq!(code, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["line"], 1);
    assert!(out[0]["error"].is_string());
}

#[test]
fn osmand_lines() {
    let input = b"id=amb-07&lat=16.0678&lon=108.2208&timestamp=1700000000&speed=10\n\
GET /?id=ft-2&lat=16.05&lon=108.21 HTTP/1.1\n\
{\"device_id\":\"x\",\"location\":{\"coords\":{\"latitude\":16,\"longitude\":108}}}\n\
id=bad&lat=99&lon=108\n";
    let (code, out) = decode("osmand", "-", Some(input));
    assert_eq!(code, 0);
    assert_eq!(out.len(), 4);
    assert_eq!(out[0]["id"], "amb-07");
    assert_eq!(out[0]["time"], 1_700_000_000_000i64);
    assert!((out[0]["speed"].as_f64().unwrap() - 10.0 * 1852.0 / 3600.0).abs() < 1e-12);
    assert_eq!(out[1]["id"], "ft-2");
    assert_eq!(out[2]["id"], "x");
    assert_eq!(out[3]["line"], 4);
    assert_eq!(out[3]["reason"], "bad_position");
}

#[test]
fn unreadable_file_fails() {
    let (code, out) = decode("ais", "/nonexistent/feed.nmea", None);
    assert_ne!(code, 0);
    assert!(out.is_empty());
}
