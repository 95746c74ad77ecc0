//! Start-up: pick the newest valid snapshot, replay the log after it, cut a torn tail, and either
//! stop at damage in the middle of the log or (with `repair`) move everything from there aside.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::extension::{ExtensionSections, ReplaySink};
use super::segment::{self, HeaderState, Segment, FRAME_HEADER_LEN, HEADER_LEN, LOG_MAGIC, LOG_VERSION};
use super::snapshot::{self, SnapshotContents, SnapshotProblem};
use super::{io_err, records, LogRecord, RecoveryReport, StoreConfig, StoreError};
use crate::rules::RuleSet;
use crate::{Twin, TwinConfig};

/// The recovered model and where appending continues.
pub(crate) struct Recovered {
    pub twin: Twin,
    pub report: RecoveryReport,
    /// Sequence number the next appended record gets.
    pub next_seq: u64,
    /// Segment to append to; `None` means start a new one named `next_seq`.
    pub active: Option<Segment>,
    /// Bytes of log replayed after the snapshot.
    pub replayed_bytes: u64,
}

/// A record or segment that cannot be read: where and why.
struct Damage {
    segment: usize,
    offset: usize,
    reason: String,
}

pub(crate) fn recover(
    config: &StoreConfig,
    twin_config: TwinConfig,
    rules: RuleSet,
    sink: &mut dyn ReplaySink,
) -> Result<Recovered, StoreError> {
    let log_dir = config.dir.join("log");
    let snap_dir = config.dir.join("snapshots");
    for dir in [&log_dir, &snap_dir] {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let segments = segment::list_segments(&log_dir)?;
    let mut report = RecoveryReport::default();
    let (twin, base_seq, sections) = load_snapshot(&snap_dir, &segments, twin_config, rules, &mut report)?;
    report.snapshot_seq = (base_seq > 0).then_some(base_seq);
    sink.restore(report.snapshot_seq, sections).map_err(|source| StoreError::Replay { seq: None, source })?;

    let mut replay = Replay { config, segments, twin, report, base_seq, replayed_bytes: 0, sink };
    let (next_seq, active) = replay.run()?;
    let Replay { twin, mut report, replayed_bytes, .. } = replay;
    // The log can end before the snapshot (an unsynced tail lost with the machine): continue
    // after the snapshot in a new segment so that no new record hides behind it.
    let (next_seq, active) = if next_seq <= base_seq {
        report
            .warnings
            .push(format!("the log ends at seq {} but the snapshot covers up to seq {base_seq}", next_seq - 1));
        (base_seq.saturating_add(1), None)
    } else {
        (next_seq, active)
    };
    Ok(Recovered { twin, report, next_seq, active, replayed_bytes })
}

/// Loads the newest snapshot that validates and returns the model with the seq it covers (0 without)
/// and its extension sections.
fn load_snapshot(
    snap_dir: &Path,
    segments: &[Segment],
    twin_config: TwinConfig,
    rules: RuleSet,
    report: &mut RecoveryReport,
) -> Result<(Twin, u64, ExtensionSections), StoreError> {
    // Invalid rules are a configuration error, not a reason to distrust a snapshot.
    let fresh = Twin::with_rules(twin_config.clone(), rules.clone())?;
    let mut first_failure: Option<(PathBuf, String)> = None;
    for (name_seq, path) in snapshot::list_snapshots(snap_dir)?.into_iter().rev() {
        let problem = match snapshot::read_snapshot(&path) {
            Err(SnapshotProblem::Fatal(e)) => return Err(e),
            Err(SnapshotProblem::Invalid(reason)) => reason,
            Ok(SnapshotContents { seq, .. }) if seq != name_seq => format!("holds seq {seq}, its name says {name_seq}"),
            Ok(SnapshotContents { seq, parts, sections }) => {
                match Twin::from_parts(twin_config.clone(), rules.clone(), parts) {
                    Ok(twin) => return Ok((twin, seq, sections)),
                    Err(e) => format!("cannot rebuild the model: {e}"),
                }
            }
        };
        report.warnings.push(format!("snapshot {} is unusable ({problem}); trying an older one", path.display()));
        first_failure.get_or_insert((path, problem));
    }
    // Without a snapshot the log must start at the very first record.
    if let Some(first) = segments.first().filter(|s| s.first_seq > 1) {
        let (path, reason) = first_failure.unwrap_or_else(|| (snap_dir.to_path_buf(), "no snapshot found".into()));
        return Err(StoreError::Snapshot {
            path,
            reason: format!("{reason}, and the log before seq {} was already deleted", first.first_seq),
        });
    }
    if let Some((path, reason)) = first_failure {
        if segments.is_empty() {
            return Err(StoreError::Snapshot {
                path,
                reason: format!("{reason}, and there is no log to rebuild from"),
            });
        }
    }
    Ok((fresh, 0, ExtensionSections::new()))
}

struct Replay<'a> {
    config: &'a StoreConfig,
    segments: Vec<Segment>,
    twin: Twin,
    report: RecoveryReport,
    base_seq: u64,
    replayed_bytes: u64,
    sink: &'a mut dyn ReplaySink,
}

impl Replay<'_> {
    /// Replays every record after the snapshot; returns the next seq and the segment to append to.
    fn run(&mut self) -> Result<(u64, Option<Segment>), StoreError> {
        // Segments that end at or before the snapshot are not read at all.
        let first = self.segments.iter().rposition(|s| s.first_seq <= self.base_seq.saturating_add(1)).unwrap_or(0);
        let mut expected = self.base_seq.saturating_add(1);
        for i in first..self.segments.len() {
            let seg_first = self.segments[i].first_seq;
            let continuous = if i == first { seg_first <= expected } else { seg_first == expected };
            if !continuous {
                let reason = format!("sequence gap: expected seq {expected}, the segment starts at seq {seg_first}");
                return self.damaged(Damage { segment: i, offset: 0, reason }, expected, first);
            }
            expected = seg_first;
            match self.replay_segment(i, &mut expected)? {
                None => {}
                Some(damage) => return self.damaged(damage, expected, first),
            }
        }
        Ok((expected, self.segments.last().cloned()))
    }

    /// Replays one segment, advancing `expected`. Cuts a torn tail of the last segment itself.
    fn replay_segment(&mut self, i: usize, expected: &mut u64) -> Result<Option<Damage>, StoreError> {
        let path = self.segments[i].path.clone();
        let is_last = i + 1 == self.segments.len();
        let data = fs::read(&path).map_err(io_err(&path))?;
        let damage = |offset, reason| Ok(Some(Damage { segment: i, offset, reason }));
        match segment::check_header(&path, &data) {
            Ok(HeaderState::Complete) => {}
            Ok(HeaderState::Torn) if is_last => {
                rewrite_header(&path)?;
                self.report.truncated = Some((path, 0, data.len() as u64));
                return Ok(None);
            }
            Ok(HeaderState::Torn) => return damage(0, "incomplete segment header".into()),
            Err(StoreError::Corrupt { reason, .. }) => return damage(0, reason),
            Err(e) => return Err(e),
        }
        let mut pos = HEADER_LEN;
        while pos < data.len() {
            let payload = match segment::read_frame(&data, pos) {
                Ok(payload) => payload,
                Err(bad) => {
                    let torn = is_last && (bad.ends_at_eof || !segment::valid_frame_after(&data, pos, *expected));
                    if !torn {
                        return damage(pos, bad.reason);
                    }
                    cut_file(&path, pos as u64)?;
                    self.report.truncated = Some((path, pos as u64, (data.len() - pos) as u64));
                    return Ok(None);
                }
            };
            let seq = segment::payload_seq(payload);
            if seq != *expected {
                return damage(pos, format!("expected seq {expected}, found seq {seq}"));
            }
            if seq > self.base_seq {
                match records::decode_record(payload) {
                    Ok((_, record)) => self.apply(seq, &record)?,
                    Err(e) => return damage(pos, format!("undecodable record: {e}")),
                }
                self.replayed_bytes += (FRAME_HEADER_LEN + payload.len()) as u64;
            }
            pos += FRAME_HEADER_LEN + payload.len();
            *expected = expected.saturating_add(1);
        }
        Ok(None)
    }

    fn apply(&mut self, seq: u64, record: &LogRecord) -> Result<(), StoreError> {
        self.report.replayed_records += 1;
        if let LogRecord::Observations { batch, .. } = record {
            self.report.replayed_observations += batch.len() as u64;
        }
        // What was refused when first applied is refused again: replay reproduces that.
        let applied = self.twin.apply_record(record);
        self.sink.record(seq, record, &applied).map_err(|source| StoreError::Replay { seq: Some(seq), source })
    }

    /// Stops with `Corrupt`, or with `repair` cuts the log at the damage and moves the rest aside.
    fn damaged(&mut self, d: Damage, expected: u64, first: usize) -> Result<(u64, Option<Segment>), StoreError> {
        let seg = self.segments[d.segment].clone();
        if !self.config.repair {
            return Err(StoreError::Corrupt { path: seg.path, offset: d.offset as u64, reason: d.reason });
        }
        let quarantine = self.config.dir.join("quarantine");
        fs::create_dir_all(&quarantine).map_err(io_err(&quarantine))?;
        let (moved_to, active, next_seq) = if d.offset >= HEADER_LEN {
            let name = format!("{}.from-{}", file_name(&seg.path), d.offset);
            let dest = unique_path(&quarantine, &name);
            let data = fs::read(&seg.path).map_err(io_err(&seg.path))?;
            let mut out = OpenOptions::new().write(true).create_new(true).open(&dest).map_err(io_err(&dest))?;
            out.write_all(&data[d.offset..]).and_then(|_| out.sync_all()).map_err(io_err(&dest))?;
            segment::sync_dir(&quarantine)?;
            cut_file(&seg.path, d.offset as u64)?;
            (dest, Some(seg.clone()), expected)
        } else {
            let dest = move_aside(&seg.path, &quarantine)?;
            // Continue in the previous segment, or in a new one right after the snapshot.
            let active = (d.segment > first).then(|| self.segments[d.segment - 1].clone());
            let next = if active.is_some() { expected } else { self.base_seq.saturating_add(1) };
            (dest, active, next)
        };
        for later in &self.segments[d.segment + 1..] {
            move_aside(&later.path, &quarantine)?;
        }
        segment::sync_dir(&self.config.dir.join("log"))?;
        self.report.warnings.push(format!(
            "repaired: {} was cut at byte {} ({}); the rest was moved to {}",
            seg.path.display(),
            d.offset,
            d.reason,
            quarantine.display()
        ));
        self.report.repaired = Some((seg.path, d.offset as u64, moved_to));
        Ok((next_seq, active))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `dir/name`, or `dir/name.N` with the first free N: quarantined data is never overwritten.
fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let mut path = dir.join(name);
    let mut n = 1;
    while path.exists() {
        path = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    path
}

fn move_aside(path: &Path, quarantine: &Path) -> Result<PathBuf, StoreError> {
    let dest = unique_path(quarantine, &file_name(path));
    fs::rename(path, &dest).map_err(io_err(path))?;
    segment::sync_dir(quarantine)?;
    Ok(dest)
}

fn cut_file(path: &Path, len: u64) -> Result<(), StoreError> {
    let file = OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
    file.set_len(len).and_then(|_| file.sync_all()).map_err(io_err(path))
}

/// A segment whose header write was interrupted: start it again, empty.
fn rewrite_header(path: &Path) -> Result<(), StoreError> {
    let mut file = OpenOptions::new().write(true).truncate(true).open(path).map_err(io_err(path))?;
    file.write_all(&segment::header(LOG_MAGIC, LOG_VERSION)).and_then(|_| file.sync_all()).map_err(io_err(path))
}
