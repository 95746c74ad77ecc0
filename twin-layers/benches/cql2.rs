//! CQL2 costs: parsing a realistic filter, and parsing plus evaluating it over 100,000 synthetic road
//! features (the size of a large city layer), about the largest polygon a filter text can carry over the same
//! features, and a worst-case `LIKE` against a long value.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use geo::{Geometry, LineString};
use serde_json::{json, Map, Value};
use twin_layers::cql2::{like_matches, parse, MAX_LIKE_PATTERN_BYTES};
use twin_layers::Feature;

/// A filter of the kind the operations centre sends: attributes, a name prefix, a time and a bbox.
pub const FILTER: &str = "class IN ('primary', 'secondary', 'tertiary') AND lanes >= 2 \
    AND (name LIKE 'Đường%' OR \"name:en\" LIKE '%Street') AND NOT oneway = 'yes' \
    AND opened > TIMESTAMP('2015-01-01T00:00:00Z') \
    AND S_INTERSECTS(geometry, BBOX(108.15, 16.0, 108.25, 16.1))";

const CLASSES: [&str; 5] = ["primary", "secondary", "tertiary", "residential", "service"];

fn features(n: usize) -> Vec<Feature> {
    (0..n)
        .map(|i| {
            let x = 108.1 + (i % 1000) as f64 * 0.0002;
            let y = 15.95 + (i / 1000) as f64 * 0.002;
            let props: Map<String, Value> = json!({
                "class": CLASSES[i % CLASSES.len()],
                "lanes": i % 5,
                "name": if i % 3 == 0 { format!("Đường số {i}") } else { format!("Phố {i}") },
                "name:en": format!("Road {i} Street"),
                "oneway": if i % 4 == 0 { "yes" } else { "no" },
                "opened": format!("{}-06-01T00:00:00Z", 2000 + i % 25),
            })
            .as_object()
            .cloned()
            .unwrap_or_default();
            let geometry = Geometry::LineString(LineString::from(vec![(x, y), (x + 0.0003, y + 0.0004)]));
            Feature { geometry, properties: props }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    c.bench_function("cql2_parse_realistic", |b| b.iter(|| parse(black_box(FILTER))));
    let fs = features(100_000);
    c.bench_function("cql2_parse_and_filter_100k", |b| {
        b.iter(|| {
            let Ok(e) = parse(black_box(FILTER)) else { panic!("the bench filter parses") };
            fs.iter().filter(|f| e.matches(*f)).count()
        })
    });
    // About the largest polygon that fits MAX_FILTER_BYTES at 4 decimals (~0.01 m precision), around
    // the features; the vertex bound itself is only reachable with shorter numbers.
    const N: usize = 3_500;
    let ring: Vec<String> = (0..N)
        .map(|i| {
            let a = std::f64::consts::TAU * (i % (N - 1)) as f64 / (N - 1) as f64;
            format!("{:.4} {:.4}", 108.2 + 0.05 * a.cos(), 16.05 + 0.05 * a.sin())
        })
        .collect();
    let big = format!("S_INTERSECTS(geometry, POLYGON(({})))", ring.join(","));
    c.bench_function("cql2_polygon_3500_vertices_filter_100k", |b| {
        b.iter(|| {
            let Ok(e) = parse(black_box(&big)) else { panic!("the bench polygon parses") };
            fs.iter().filter(|f| e.matches(*f)).count()
        })
    });
    let pattern = format!("{}b", "%a".repeat((MAX_LIKE_PATTERN_BYTES - 1) / 2));
    let long = "a".repeat(100_000);
    c.bench_function("cql2_like_worst_case_1k_pattern_100k_text", |b| {
        b.iter(|| like_matches(black_box(&long), black_box(&pattern)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
