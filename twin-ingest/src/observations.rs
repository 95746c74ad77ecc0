//! Observations as JSON, the server's own ingest format (`POST /ingest/observations`): a JSON
//! array, a single JSON object, or NDJSON.
//!
//! Syntax errors fail the whole request (nothing is applied). Item errors (unknown kind, latitude out
//! of range, nested property…) refuse only that item, named by its index (array) or line (NDJSON).

use serde_json::{Map, Value};
use twin_core::{EntityKind, Observation, Position, Properties, PropertyValue, Timestamp};

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|dt| Timestamp::from_millis(dt.timestamp_millis()))
}

/// Where an item came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemPos {
    pub index: usize,
    /// 1-based line for NDJSON bodies.
    pub line: Option<usize>,
}

/// The body could not be read as JSON at all.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub line: usize,
    /// Byte offset in the body, when known.
    pub offset: Option<usize>,
    pub ndjson: bool,
}

/// One item refused.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemError {
    pub pos: ItemPos,
    pub field: String,
    pub message: String,
}

/// Decoded body: the observations with their positions, and the refused items.
#[derive(Debug, Default)]
pub struct Decoded {
    pub items: Vec<(ItemPos, Observation)>,
    pub errors: Vec<ItemError>,
    pub total: usize,
}

/// Converts serde_json's (line, column) into a byte offset of `body`.
fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in body.split(|b| *b == b'\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len() + 1;
    }
    body.len()
}

/// Decodes the body. `ndjson_hint` comes from the Content-Type.
pub fn decode(body: &[u8], ndjson_hint: bool, now: Timestamp) -> Result<Decoded, SyntaxError> {
    let values = if ndjson_hint { None } else { Some(serde_json::from_slice::<Value>(body)) };
    let items: Vec<(ItemPos, Value)> = match values {
        Some(Ok(Value::Array(list))) => {
            list.into_iter().enumerate().map(|(index, v)| (ItemPos { index, line: None }, v)).collect()
        }
        Some(Ok(v)) => vec![(ItemPos { index: 0, line: None }, v)],
        Some(Err(e)) if !looks_like_ndjson(body) => {
            return Err(SyntaxError {
                offset: Some(byte_offset(body, e.line(), e.column())),
                message: e.to_string(),
                line: e.line(),
                ndjson: false,
            })
        }
        _ => ndjson_lines(body)?,
    };
    let mut out = Decoded { total: items.len(), ..Decoded::default() };
    for (pos, v) in items {
        match observation(&v, now) {
            Ok(o) => out.items.push((pos, o)),
            Err((field, message)) => out.errors.push(ItemError { pos, field, message }),
        }
    }
    Ok(out)
}

/// Several lines of which the first non-empty one is a complete JSON value on its own.
fn looks_like_ndjson(body: &[u8]) -> bool {
    let mut lines = body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    match (lines.next(), lines.next()) {
        (Some(first), Some(_)) => serde_json::from_slice::<Value>(first).is_ok(),
        _ => false,
    }
}

fn ndjson_lines(body: &[u8]) -> Result<Vec<(ItemPos, Value)>, SyntaxError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let line_start = offset;
        offset += raw.len() + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(raw) {
            Ok(v) => out.push((ItemPos { index: out.len(), line: Some(i + 1) }, v)),
            Err(e) => {
                return Err(SyntaxError {
                    message: e.to_string(),
                    line: i + 1,
                    offset: Some(line_start + e.column().saturating_sub(1)),
                    ndjson: true,
                })
            }
        }
    }
    Ok(out)
}

type FieldErr = (String, String);

fn err(field: &str, msg: impl Into<String>) -> FieldErr {
    (field.to_owned(), msg.into())
}

fn opt_f64(obj: &Map<String, Value>, field: &str) -> Result<Option<f64>, FieldErr> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| err(field, format!("expected a number, got {v}"))),
    }
}

/// One JSON item → an observation. Errors name the field.
pub fn observation(v: &Value, now: Timestamp) -> Result<Observation, FieldErr> {
    let obj = v.as_object().ok_or_else(|| err("item", "expected a JSON object"))?;
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "kind" | "id" | "time" | "lon" | "lat" | "heading" | "speed" | "status" | "properties"
        ) {
            return Err(err(key, format!("unknown field `{key}` (put free-form values under `properties`)")));
        }
    }
    let kind: EntityKind = match obj.get("kind") {
        Some(Value::String(s)) => s.parse().map_err(|_| err("kind", format!("unknown entity kind `{s}`")))?,
        Some(other) => return Err(err("kind", format!("expected a string, got {other}"))),
        None => return Err(err("kind", "is required")),
    };
    let external_id = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(_)) => return Err(err("id", "must not be empty")),
        Some(other) => return Err(err("id", format!("expected a string, got {other}"))),
        None => return Err(err("id", "is required")),
    };
    let time = match obj.get("time") {
        None | Some(Value::Null) => now,
        Some(Value::String(s)) => {
            parse_rfc3339(s).ok_or_else(|| err("time", format!("`{s}` is not an RFC 3339 time")))?
        }
        Some(other) => return Err(err("time", format!("expected an RFC 3339 string, got {other}"))),
    };
    let mut o = Observation::new(kind, external_id, time);
    match (opt_f64(obj, "lon")?, opt_f64(obj, "lat")?) {
        (Some(lon), Some(lat)) => {
            if !(-180.0..=180.0).contains(&lon) {
                return Err(err("lon", format!("{lon} is outside [-180, 180]")));
            }
            if !(-90.0..=90.0).contains(&lat) {
                return Err(err("lat", format!("{lat} is outside [-90, 90]")));
            }
            o.position = Some(Position::new(lon, lat));
        }
        (None, None) => {}
        (Some(_), None) => return Err(err("lat", "lon and lat go together")),
        (None, Some(_)) => return Err(err("lon", "lon and lat go together")),
    }
    o.heading = opt_f64(obj, "heading")?;
    o.speed = opt_f64(obj, "speed")?;
    o.status = match obj.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(err("status", format!("expected a string, got {other}"))),
    };
    o.properties = match obj.get("properties") {
        None | Some(Value::Null) => Properties::new(),
        Some(Value::Object(m)) => properties(m)?,
        Some(other) => return Err(err("properties", format!("expected an object, got {other}"))),
    };
    o.validate().map_err(|e| match e {
        twin_core::Error::InvalidObservation { field, reason } => err(field, reason),
        other => err("item", other.to_string()),
    })?;
    Ok(o)
}

fn properties(m: &Map<String, Value>) -> Result<Properties, FieldErr> {
    let mut props = Properties::new();
    for (k, v) in m {
        let field = format!("properties.{k}");
        let pv = match v {
            Value::Null => continue,
            Value::Bool(b) => PropertyValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PropertyValue::Int(i),
                None => PropertyValue::Float(n.as_f64().ok_or_else(|| err(&field, "number out of range"))?),
            },
            Value::String(s) => PropertyValue::Text(s.clone()),
            Value::Array(_) | Value::Object(_) => {
                return Err(err(&field, "properties must be flat: string, number or bool"))
            }
        };
        props.insert(k.clone(), pv);
    }
    Ok(props)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_000);

    #[test]
    fn array_single_and_ndjson() {
        let arr = br#"[{"kind":"bus","id":"a","lon":108.2,"lat":16.0},{"kind":"vessel","id":"b"}]"#;
        let d = decode(arr, false, NOW).unwrap();
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.items[0].1.time, NOW);
        assert_eq!(d.items[0].1.position, Some(Position::new(108.2, 16.0)));
        let one = decode(br#"{"kind":"bus","id":"a","time":"2026-11-23T08:00:00Z"}"#, false, NOW).unwrap();
        assert_eq!(one.items[0].1.time.as_millis(), 1_795_420_800_000);
        let nd = decode(b"{\"kind\":\"bus\",\"id\":\"a\"}\n\n{\"kind\":\"bus\",\"id\":\"b\"}\n", false, NOW).unwrap();
        assert_eq!(nd.items.len(), 2);
        assert_eq!(nd.items[1].0.line, Some(3));
    }

    #[test]
    fn syntax_error_names_line_or_offset() {
        let body = b"{\"kind\":\"bus\",\"id\":\"a\"}\n{\"kind\":\"bus\",\"id\":\"b\"}\n{\"kind\":\"bus\",\"id\":}\n";
        let e = decode(body, true, NOW).unwrap_err();
        assert_eq!((e.line, e.ndjson), (3, true));
        let e = decode(br#"[{"kind":"bus","id":"a"},]"#, false, NOW).unwrap_err();
        assert!(!e.ndjson);
        assert_eq!(e.offset, Some(25));
    }

    #[test]
    fn item_errors_name_the_field() {
        let body = br#"[{"kind":"car","id":"a"},{"kind":"bus","id":"b","lon":108,"lat":91},
            {"kind":"bus","id":"c","properties":{"x":{"y":1}}},{"kind":"bus","id":"d","properties":{"n":null,"v":2.5}}]"#;
        let d = decode(body, false, NOW).unwrap();
        let fields: Vec<_> = d.errors.iter().map(|e| (e.pos.index, e.field.as_str())).collect();
        assert_eq!(fields, vec![(0, "kind"), (1, "lat"), (2, "properties.x")]);
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].1.properties.len(), 1);
    }
}
