//! Damaged logs: a torn tail is cut with a warning; a corrupt record in the middle stops start-up
//! with the file and byte offset named, unless `--repair` is given.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use twin_tests::logfile::{parse_segment, segment_files, Segment};
use twin_tests::obs::{attr_str, features, now_ms, observation, DA_NANG_BBOX};
use twin_tests::server::{serve_args, tail, START_TIMEOUT};
use twin_tests::{temp_dir, write_test_config, Client, Launch, Server};

const BATCHES: usize = 8;
const PER_BATCH: usize = 5;

fn external_id(batch: usize, j: usize) -> String {
    format!("rec-{batch}-{j}")
}

/// Starts a server, posts `BATCHES` acknowledged batches one after the other (one log record each)
/// and kills it, so no shutdown code tidies the log.
fn fill(config: &Path, data: &Path) {
    let mut server = Server::serve(config, data, &[]);
    let client = Client::default();
    let t0 = now_ms();
    for b in 0..BATCHES {
        let batch: Vec<Value> = (0..PER_BATCH)
            .map(|j| {
                observation(
                    "police_unit",
                    &external_id(b, j),
                    t0 + (b * PER_BATCH + j) as i64,
                    108.2 + b as f64 * 0.001,
                    16.05 + j as f64 * 0.001,
                )
            })
            .collect();
        client.ingest_all(server.base_url(), &batch);
    }
    server.kill9();
}

/// The newest segment that holds records.
fn last_segment(data: &Path) -> Segment {
    segment_files(data)
        .iter()
        .rev()
        .filter_map(|p| parse_segment(p))
        .find(|s| !s.records.is_empty())
        .unwrap_or_else(|| panic!("no segment with valid records under {}", data.display()))
}

fn present_ids(server: &Server) -> BTreeSet<String> {
    let all = Client::default().get_json(&server.url("/api/entities?kind=police_unit&limit=10000"));
    features(&all).iter().filter_map(|f| attr_str(f, "external_id").map(str::to_owned)).collect()
}

fn batch_ids(batches: impl IntoIterator<Item = usize>) -> BTreeSet<String> {
    batches.into_iter().flat_map(|b| (0..PER_BATCH).map(move |j| external_id(b, j))).collect()
}

/// Index of the batch whose ids a record's payload carries, if any (ids are stored as raw UTF-8).
fn batch_in(segment: &Segment, record: usize) -> Option<usize> {
    let payload = segment.payload(&segment.records[record]);
    (0..BATCHES).find(|b| contains(payload, external_id(*b, 0).as_bytes()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `number` appears in `text` as a whole decimal number.
fn mentions_number(text: &str, number: u64) -> bool {
    text.split(|c: char| !c.is_ascii_digit()).any(|tok| tok == number.to_string())
}

fn setup(prefix: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = temp_dir(prefix);
    let config = write_test_config(dir.path(), "E2E", DA_NANG_BBOX);
    let data = dir.path().join("data");
    fill(&config, &data);
    (dir, config, data)
}

#[test]
fn torn_tail_is_cut_with_a_warning_and_data_kept() {
    let (_dir, config, data) = setup("e2e-torn-");
    let seg = last_segment(&data);
    let original_len = seg.bytes.len() as u64;
    // Half a record: a frame header promising 1000 bytes, then only a few of them.
    let mut torn = 1000u32.to_le_bytes().to_vec();
    torn.extend_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
    torn.extend_from_slice(b"partial payload");
    OpenOptions::new().append(true).open(&seg.path).unwrap().write_all(&torn).unwrap();

    let server = Server::serve(&config, &data, &[]);
    let output = server.output_text();
    let name = seg.path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    assert!(
        output.lines().any(|l| l.to_lowercase().contains("warn") && l.contains(name)),
        "no warning naming {name} about the torn tail:\n{}",
        tail(&output, 3000)
    );
    assert_eq!(present_ids(&server), batch_ids(0..BATCHES), "data lost after a torn tail");
    drop(server);
    // The garbage was cut off at the end of the last whole record (the server may append after it).
    let after = std::fs::read(&seg.path).unwrap();
    let appended = after.get(original_len as usize..).unwrap_or_default();
    assert!(!contains(appended, b"partial payload"), "torn bytes still in {}", seg.path.display());
}

/// Flips a payload byte of the first record that carries batch 2 (batches 0 and 1 lie before it,
/// later ones after it). Returns (segment, record offset, payload offset, damaged batch).
fn corrupt_early_record(data: &Path) -> (PathBuf, u64, u64, usize) {
    let seg = last_segment(data);
    assert_eq!(seg.header_len, 12, "segment header should be magic (8) + version (4)");
    let victim = (0..seg.records.len()).find(|r| batch_in(&seg, *r) == Some(2)).unwrap_or_else(|| {
        panic!("no record carrying batch 2 in {} ({} records)", seg.path.display(), seg.records.len())
    });
    assert!(victim + 1 < seg.records.len(), "the damaged record must not be the last one");
    let span = seg.records[victim];
    let mut bytes = seg.bytes.clone();
    // Past the 8-byte sequence number, inside the observations.
    let at = (span.payload_offset() + 8 + (span.len - 8) / 2) as usize;
    bytes[at] ^= 0x5A;
    std::fs::write(&seg.path, &bytes).unwrap();
    (seg.path.clone(), span.offset, span.payload_offset(), 2)
}

#[test]
fn corrupt_middle_record_stops_start_up_naming_file_and_offset() {
    let (_dir, config, data) = setup("e2e-corrupt-");
    let (path, record_offset, payload_offset, _) = corrupt_early_record(&data);

    match Server::launch(&serve_args(&config, &data, &[]), START_TIMEOUT) {
        Launch::Listening(server) => {
            panic!("started despite a corrupt record in the middle:\n{}", tail(&server.output_text(), 3000))
        }
        Launch::Exited { status, stderr, .. } => {
            assert!(!status.success(), "exit status should be non-zero: {status}");
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            assert!(stderr.contains(name), "stderr should name {name}:\n{}", tail(&stderr, 3000));
            assert!(
                mentions_number(&stderr, record_offset) || mentions_number(&stderr, payload_offset),
                "stderr should name byte offset {record_offset}:\n{}",
                tail(&stderr, 3000)
            );
        }
    }
}

#[test]
fn repair_starts_and_keeps_the_records_before_the_damage() {
    let (_dir, config, data) = setup("e2e-repair-");
    let (_, _, _, damaged) = corrupt_early_record(&data);

    let server = Server::serve(&config, &data, &["--repair"]);
    let present = present_ids(&server);
    let before = batch_ids(0..damaged);
    assert!(before.is_subset(&present), "records before the damage lost: have {present:?}");
    let damaged_ids = batch_ids([damaged]);
    assert!(present.is_disjoint(&damaged_ids), "the corrupt record was applied: {present:?}");
    drop(server);

    // The repaired log starts cleanly again without --repair.
    let server = Server::serve(&config, &data, &[]);
    assert!(before.is_subset(&present_ids(&server)), "records lost on the second start after repair");
}
