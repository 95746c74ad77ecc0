//! Evidence file names: `<yyyymmddThhmmssZ>-<alert>[-<n>][-a<alert id>].<jpg|json>`, parsed
//! strictly so that only names we write are ever turned into paths.

use chrono::NaiveDateTime;

use crate::pipeline::ALERT_KINDS;

/// Time format of evidence names (UTC, whole seconds).
const STAMP: &str = "%Y%m%dT%H%M%SZ";
const STAMP_LEN: usize = "yyyymmddThhmmssZ".len();

/// Which half of an evidence pair a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Jpeg,
    Sidecar,
}

impl Part {
    pub(super) fn ext(self) -> &'static str {
        match self {
            Part::Jpeg => "jpg",
            Part::Sidecar => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Part::Jpeg => "image/jpeg",
            Part::Sidecar => "application/json",
        }
    }
}

/// A file name we write, parsed. Nothing else is ever turned into a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceName {
    pub time: NaiveDateTime,
    pub alert: &'static str,
    /// The alert's id in the log (the one `/api/alerts` lists), when it was logged.
    pub alert_id: Option<u64>,
    /// 1 for the first file of that second and alert, else the suffix.
    pub seq: u32,
    pub part: Part,
}

impl EvidenceName {
    /// Parses `<yyyymmddThhmmssZ>-<alert>[-<n>][-a<alert id>].<jpg|json>`; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        let (stem, part) = if let Some(s) = name.strip_suffix(".jpg") {
            (s, Part::Jpeg)
        } else {
            (name.strip_suffix(".json")?, Part::Sidecar)
        };
        if !stem.is_ascii() || stem.len() < STAMP_LEN + 2 {
            return None;
        }
        let (stamp, rest) = stem.split_at(STAMP_LEN);
        let time = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?;
        // chrono accepts a few lenient forms; only the canonical text is ours.
        if time.format(STAMP).to_string() != stamp {
            return None;
        }
        let mut rest = rest.strip_prefix('-')?;
        let mut alert_id = None;
        if let Some((head, id)) = rest.rsplit_once("-a") {
            // Canonical numbers only, as written.
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (id == "0" || !id.starts_with('0')) {
                alert_id = Some(id.parse::<u64>().ok()?);
                rest = head;
            }
        }
        let (alert, seq) = match rest.rsplit_once('-') {
            Some((alert, n)) => {
                // Canonical numbers only (digits, no leading zero), from 2 on.
                if n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (alert, n.parse::<u32>().ok().filter(|s| *s >= 2)?)
            }
            None => (rest, 1),
        };
        let alert = ALERT_KINDS.iter().copied().find(|k| *k == alert)?;
        Some(Self { time, alert, alert_id, seq, part })
    }

    pub(super) fn stem(&self) -> String {
        let stamp = self.time.format(STAMP);
        let mut stem = format!("{stamp}-{}", self.alert);
        if self.seq > 1 {
            stem.push_str(&format!("-{}", self.seq));
        }
        if let Some(id) = self.alert_id {
            stem.push_str(&format!("-a{id}"));
        }
        stem
    }

    pub fn file_name(&self) -> String {
        format!("{}.{}", self.stem(), self.part.ext())
    }

    pub(super) fn with_part(&self, part: Part) -> Self {
        Self { part, ..self.clone() }
    }

    /// Identifies the pair; orders by time, then suffix (alert names break ties).
    pub(super) fn order_key(&self) -> (NaiveDateTime, u32, &'static str) {
        (self.time, self.seq, self.alert)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn names_are_only_our_own() {
        let n = EvidenceName::parse("20260301T083000Z-stopped_vehicle.jpg").unwrap();
        assert_eq!((n.alert, n.seq, n.part), ("stopped_vehicle", 1, Part::Jpeg));
        assert_eq!(n.file_name(), "20260301T083000Z-stopped_vehicle.jpg");
        let n = EvidenceName::parse("20260301T083000Z-queue-3.json").unwrap();
        assert_eq!((n.alert, n.seq, n.part), ("queue", 3, Part::Sidecar));
        assert_eq!(n.file_name(), "20260301T083000Z-queue-3.json");
        for bad in [
            "",
            "..",
            "../20260301T083000Z-queue.jpg",
            "20260301T083000Z-queue.jpg/..",
            "20260301T083000Z-queue.png",
            "20260301T083000Z-fire.jpg",
            "20260301T083000Z-queue-1.jpg",
            "20260301T083000Z-queue-02.jpg",
            "20260301T083000Z-queue-+2.jpg",
            "20260301T083000Z-queue-.jpg",
            "20261301T083000Z-queue.jpg",
            "20260301T083000-queue.jpg",
            "20260301t083000Z-queue.jpg",
            "2026030 T083000Z-queue.jpg",
            ".20260301T083000Z-queue.jpg.tmp-1-0",
            "20260301T083000Z-queue.jpg\0",
            "20260301T083000Zé-queue.jpg",
        ] {
            assert_eq!(EvidenceName::parse(bad), None, "{bad:?}");
        }
    }
}
