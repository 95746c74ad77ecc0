//! Helpers shared by the golden tests.

use serde_json::Value;

pub fn gpsd_file(name: &str) -> String {
    let path = format!("{}/tests/data/ais/gpsd/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Differences between the fields gpsd reports and ours (`class`, `device`, `scaled` aside).
pub fn diff(gpsd: &Value, ours: &Value, tolerance: f64) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(g), Some(o)) = (gpsd.as_object(), ours.as_object()) else {
        return vec!["not objects".into()];
    };
    for (k, gv) in g {
        if matches!(k.as_str(), "class" | "device" | "scaled") {
            continue;
        }
        let Some(ov) = o.get(k) else {
            out.push(format!("{k}: missing (gpsd {gv})"));
            continue;
        };
        let same = match (gv, ov) {
            (Value::Number(a), Value::Number(b)) => {
                (a.as_f64().unwrap_or(f64::NAN) - b.as_f64().unwrap_or(f64::NAN)).abs() <= tolerance
            }
            _ => gv == ov,
        };
        if !same {
            out.push(format!("{k}: gpsd {gv} ours {ov}"));
        }
    }
    out
}
