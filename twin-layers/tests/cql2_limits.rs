//! Every bound of the CQL2 filter: just under it parses, just over it gives the named error, and hostile
//! filters are refused on a thread with a 256 KiB stack (the server's workers have 2 MiB), so none of the
//! parser, evaluator, printer or `Drop` can overflow the stack.

#![allow(clippy::unwrap_used)] // tests may unwrap

use geo::{Geometry, Point};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use twin_layers::cql2::{
    like_matches, parse, Expr, Limit, ParseError, MAX_DEPTH, MAX_FILTER_BYTES, MAX_GEOMETRY_PARTS, MAX_IN_VALUES,
    MAX_LIKE_PATTERN_BYTES, MAX_LITERAL_BYTES, MAX_TERMS, MAX_VERTICES,
};
use twin_layers::Feature;

const SMALL_STACK: usize = 256 * 1024;

/// Runs `f` on a fresh thread with a 256 KiB stack; a stack overflow aborts the test binary.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).unwrap().join().unwrap()
}

fn feature() -> Feature {
    let props: Map<String, Value> = json!({"a": 1, "name": "Đường Bạch Đằng"}).as_object().cloned().unwrap_or_default();
    Feature { geometry: Geometry::Point(Point::new(108.2, 16.06)), properties: props }
}

fn over(text: &str, limit: Limit) -> ParseError {
    let err = parse(text).expect_err("over the limit");
    assert_eq!(err.limit, Some(limit), "{err}");
    let max = limit.max().to_string();
    assert!(err.to_string().contains(&max), "the message names the bound: {err}");
    err
}

fn ok(text: &str) -> Expr {
    parse(text).unwrap_or_else(|e| panic!("{}…: {e}", &text[..text.len().min(60)]))
}

#[test]
fn limits_are_exported_with_their_values() {
    assert_eq!(MAX_FILTER_BYTES, 65_536);
    assert_eq!(MAX_DEPTH, 100);
    assert_eq!(MAX_TERMS, 1_000);
    assert_eq!(MAX_IN_VALUES, 1_000);
    assert_eq!(MAX_LITERAL_BYTES, 4_096);
    assert_eq!(MAX_LIKE_PATTERN_BYTES, 1_024);
    assert_eq!(MAX_VERTICES, 10_000);
    assert_eq!(MAX_GEOMETRY_PARTS, 1_000);
}

#[test]
fn filter_length() {
    let pad = |n: usize| format!("a = 1{}", " ".repeat(n - 5));
    assert!(ok(&pad(MAX_FILTER_BYTES)).matches(&feature()));
    let err = over(&pad(MAX_FILTER_BYTES + 1), Limit::FilterBytes);
    assert_eq!(err.offset, MAX_FILTER_BYTES);
}

fn parens(n: usize) -> String {
    format!("{}a = 1{}", "(".repeat(n), ")".repeat(n))
}

#[test]
fn nesting_depth_of_parentheses_and_nots() {
    assert!(ok(&parens(MAX_DEPTH)).matches(&feature()));
    let err = over(&parens(MAX_DEPTH + 1), Limit::Depth);
    assert_eq!(err.offset, MAX_DEPTH, "the offset of the parenthesis past the bound");

    let nots = |n: usize| format!("{}a = 1", "NOT ".repeat(n));
    assert!(ok(&nots(MAX_DEPTH)).matches(&feature()), "an even number of NOTs");
    let err = over(&nots(MAX_DEPTH + 1), Limit::Depth);
    assert_eq!(err.offset, 4 * MAX_DEPTH);

    // Parentheses and NOTs count together; a closed group gives its depth back.
    let mixed = |n: usize| format!("{}a = 1{}", "NOT (".repeat(n), ")".repeat(n));
    ok(&mixed(MAX_DEPTH / 2));
    over(&mixed(MAX_DEPTH / 2 + 1), Limit::Depth);
    let siblings = vec![parens(MAX_DEPTH); 5].join(" AND ");
    assert!(ok(&siblings).matches(&feature()));
}

fn chain(n: usize, op: &str) -> String {
    vec!["a = 1"; n].join(op)
}

#[test]
fn predicates_per_filter() {
    match ok(&chain(MAX_TERMS, " AND ")) {
        Expr::And(v) => assert_eq!(v.len(), MAX_TERMS, "a flat chain"),
        other => panic!("{other:?}"),
    }
    let err = over(&chain(MAX_TERMS + 1, " AND "), Limit::Terms);
    assert_eq!(err.offset, MAX_TERMS * "a = 1 AND ".len(), "the offset of the first predicate too many");
    assert!(matches!(ok(&chain(MAX_TERMS, " OR ")), Expr::Or(v) if v.len() == MAX_TERMS));
    over(&chain(MAX_TERMS + 1, " OR "), Limit::Terms);
    // Terms count over the whole filter, in and out of groups.
    let half = chain(MAX_TERMS / 2, " AND ");
    ok(&format!("({half}) OR ({half})"));
    over(&format!("({half}) OR ({half}) OR TRUE"), Limit::Terms);
}

#[test]
fn values_in_an_in_list() {
    let list = |n: usize| format!("a IN ({})", vec!["1"; n].join(", "));
    assert!(ok(&list(MAX_IN_VALUES)).matches(&feature()));
    over(&list(MAX_IN_VALUES + 1), Limit::InValues);
}

#[test]
fn string_literals_and_property_names() {
    let text = |n: usize| format!("name = '{}'", "x".repeat(n));
    ok(&text(MAX_LITERAL_BYTES));
    let err = over(&text(MAX_LITERAL_BYTES + 1), Limit::LiteralBytes);
    assert_eq!(err.offset, 7, "the offset of the opening quote");
    // An escaped quote counts once.
    ok(&format!("name = '{}'", "''".repeat(MAX_LITERAL_BYTES)));
    over(&format!("name = '{}'", "''".repeat(MAX_LITERAL_BYTES + 1)), Limit::LiteralBytes);
    let quoted = |n: usize| format!("\"{}\" = 1", "p".repeat(n));
    ok(&quoted(MAX_LITERAL_BYTES));
    over(&quoted(MAX_LITERAL_BYTES + 1), Limit::LiteralBytes);
    let bare = |n: usize| format!("{} = 1", "p".repeat(n));
    ok(&bare(MAX_LITERAL_BYTES));
    over(&bare(MAX_LITERAL_BYTES + 1), Limit::LiteralBytes);
}

#[test]
fn like_pattern_length() {
    let like = |n: usize| format!("name LIKE '{}%'", "_".repeat(n - 1));
    assert!(ok(&like(MAX_LIKE_PATTERN_BYTES)).matches(&Feature {
        properties: json!({"name": "x".repeat(2000)}).as_object().cloned().unwrap_or_default(),
        ..feature()
    }));
    let err = over(&like(MAX_LIKE_PATTERN_BYTES + 1), Limit::LikePatternBytes);
    assert_eq!(err.offset, 10);
}

fn linestring(n: usize) -> String {
    let pts: Vec<String> = (0..n).map(|i| format!("{} 1", i % 90)).collect();
    format!("S_INTERSECTS(geometry, LINESTRING({}))", pts.join(","))
}

/// A closed ring of `n` vertices.
fn polygon(n: usize) -> String {
    let mut pts: Vec<String> = (0..n - 1).map(|i| format!("{} {}", i % 90, i % 7)).collect();
    pts.push(pts[0].clone());
    format!("S_INTERSECTS(geometry, POLYGON(({})))", pts.join(","))
}

#[test]
fn geometry_vertices_per_filter() {
    ok(&linestring(MAX_VERTICES));
    over(&linestring(MAX_VERTICES + 1), Limit::Vertices);
    ok(&polygon(MAX_VERTICES));
    over(&polygon(MAX_VERTICES + 1), Limit::Vertices);
    // The count is over all literals of the filter.
    let half = linestring(MAX_VERTICES / 2);
    ok(&format!("{half} OR {half}"));
    over(&format!("{half} OR {half} OR S_INTERSECTS(geometry, POINT(1 1))"), Limit::Vertices);
}

#[test]
fn geometry_rings_and_parts_per_filter() {
    // Each polygon of one ring is two parts: the polygon and its ring.
    let multi = |polygons: usize| {
        let p = vec!["((0 0, 1 0, 1 1, 0 0))"; polygons].join(", ");
        format!("S_INTERSECTS(geometry, MULTIPOLYGON({p}))")
    };
    ok(&multi(MAX_GEOMETRY_PARTS / 2));
    over(&multi(MAX_GEOMETRY_PARTS / 2 + 1), Limit::GeometryParts);
    let holes = |rings: usize| {
        let r = vec!["(0 0, 1 0, 1 1, 0 0)"; rings].join(", ");
        format!("S_INTERSECTS(geometry, POLYGON({r}))")
    };
    ok(&holes(MAX_GEOMETRY_PARTS - 1));
    over(&holes(MAX_GEOMETRY_PARTS), Limit::GeometryParts);
}

#[test]
fn error_messages_cut_long_literals() {
    let long = "x".repeat(MAX_LITERAL_BYTES);
    let err = parse(&format!("a = 1 '{long}'")).expect_err("trailing string");
    assert_eq!(err.offset, 6);
    assert!(err.message.len() < 200, "{}", err.message);
    assert!(err.message.contains(&"x".repeat(40)));
}

#[test]
fn spatial_arguments_are_crs84_degrees() {
    let f = feature();
    assert!(ok("S_INTERSECTS(geometry, BBOX(-180, -90, 180, 90))").matches(&f));
    for bad in [
        "S_INTERSECTS(geometry, BBOX(-180.5, 0, 1, 1))",
        "S_INTERSECTS(geometry, BBOX(0, -91, 1, 1))",
        "S_INTERSECTS(geometry, BBOX(0, 0, 181, 1))",
        "S_INTERSECTS(geometry, BBOX(0, 0, 1, 90.01))",
        "S_INTERSECTS(geometry, BBOX(0, 0, 1, 1e400))",
        "S_INTERSECTS(geometry, POINT(200 0))",
        "S_INTERSECTS(geometry, LINESTRING(0 0, 0 -95))",
        "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 100, 0 0)))",
    ] {
        let err = parse(bad).expect_err(bad);
        assert_eq!(err.limit, None, "{bad}: {err}");
        assert!(err.offset >= 23, "{bad}: {err}");
    }
}

/// Parses, evaluates, prints, parses the print again, clones, compares and drops it all, on a 256 KiB
/// stack (`Drop` and `Debug` recurse over the tree).
fn full_cycle_on_small_stack(text: String) -> Result<(), ParseError> {
    small_stack(move || {
        let e = parse(&text)?;
        let f = feature();
        let hit = e.matches(&f);
        let printed = e.to_string();
        let back = parse(&printed)?;
        assert_eq!(back, e);
        let copy = e.clone();
        assert!(copy == e);
        drop(copy);
        assert!(format!("{e:?}").len() > printed.len() / 2, "Debug recurses too, within the bound");
        assert_eq!(back.matches(&f), hit);
        drop(back);
        drop(e);
        Ok(())
    })
}

#[test]
fn the_deepest_accepted_trees_fit_a_small_stack() {
    // Each group holds an OR of an AND: two tree levels per unit of depth, the deepest tree there is.
    let n = MAX_DEPTH;
    let deep = format!("{}a = 1{}", "a = 2 OR a = 1 AND (".repeat(n), ")".repeat(n));
    full_cycle_on_small_stack(deep).unwrap();
    full_cycle_on_small_stack(format!("{}a = 1{}", "NOT (".repeat(n / 2), ")".repeat(n / 2))).unwrap();
    full_cycle_on_small_stack(format!("{}a = 1", "NOT ".repeat(n))).unwrap();
    full_cycle_on_small_stack(parens(n)).unwrap();
    full_cycle_on_small_stack(chain(MAX_TERMS, " AND ")).unwrap();
    full_cycle_on_small_stack(chain(MAX_TERMS, " OR ")).unwrap();
}

#[test]
fn hostile_filters_are_refused_on_a_small_stack() {
    let cases: Vec<(String, Limit)> = vec![
        (parens(10_000), Limit::Depth),
        (format!("{}a = 1", "NOT ".repeat(10_000)), Limit::Depth),
        (format!("{}a = 1{}", "(NOT ".repeat(5_000), ")".repeat(5_000)), Limit::Depth),
        // Unbalanced: the depth bound trips before the missing parentheses are noticed.
        ("(".repeat(60_000), Limit::Depth),
        (chain(100_000, " AND "), Limit::FilterBytes),
        (chain(6_000, " AND "), Limit::Terms),
        (chain(6_000, " OR "), Limit::Terms),
        (linestring(100_000), Limit::FilterBytes),
        (linestring(12_000), Limit::Vertices),
        (polygon(100_000), Limit::FilterBytes),
        (polygon(12_000), Limit::Vertices),
        (format!("name LIKE '{}b'", "%a".repeat(20_000)), Limit::LiteralBytes),
        (format!("name LIKE '{}b'", "%a".repeat(1_000)), Limit::LikePatternBytes),
        (format!("a IN ({})", vec!["1"; 20_000].join(",")), Limit::InValues),
    ];
    for (text, limit) in cases {
        let got = full_cycle_on_small_stack(text).expect_err("refused");
        assert_eq!(got.limit, Some(limit), "{got}");
    }
}

#[test]
fn like_has_no_backtracking_blowup() {
    // The longest accepted pattern of alternating `%a` against a long run of `a`: a backtracking matcher
    // takes exponential or cubic time here.
    let pattern = format!("{}b", "%a".repeat((MAX_LIKE_PATTERN_BYTES - 1) / 2));
    let long = "a".repeat(200_000);
    assert!(!like_matches(&long, &pattern));
    let pattern_hit = format!("{}%", "%a".repeat((MAX_LIKE_PATTERN_BYTES - 1) / 2));
    assert!(like_matches(&long, &pattern_hit));
    let tail = format!("%{}b", "a".repeat(MAX_LIKE_PATTERN_BYTES - 2));
    assert!(!like_matches(&long, &tail));
    assert!(like_matches(&format!("{long}b"), &tail));
    // Through the filter, on a small stack.
    let filter = format!("name LIKE '{pattern}'");
    let hit = small_stack(move || {
        let f = Feature {
            properties: json!({"name": "a".repeat(200_000)}).as_object().cloned().unwrap_or_default(),
            ..feature()
        };
        parse(&filter).unwrap().matches(&f)
    });
    assert!(!hit);
}

/// Textbook dynamic programme over (pattern prefix, text prefix): the independent reference.
fn like_reference(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new(); // (char, is_literal)
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => p.push((it.next().unwrap_or('\\'), true)),
            c => p.push((c, false)),
        }
    }
    let mut dp = vec![vec![false; t.len() + 1]; p.len() + 1];
    dp[0][0] = true;
    for i in 1..=p.len() {
        let (c, lit) = p[i - 1];
        for j in 0..=t.len() {
            dp[i][j] = match (c, lit) {
                ('%', false) => dp[i - 1][j] || (j > 0 && dp[i][j - 1]),
                ('_', false) => j > 0 && dp[i - 1][j - 1],
                (c, _) => j > 0 && dp[i - 1][j - 1] && t[j - 1] == c,
            };
        }
    }
    dp[p.len()][t.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn like_agrees_with_the_reference(text in "[abc]{0,12}", pattern in "[abc%_\\\\]{0,8}") {
        prop_assert_eq!(like_matches(&text, &pattern), like_reference(&text, &pattern), "{} LIKE {}", text, pattern);
    }

    #[test]
    fn like_agrees_on_long_patterns(text in "[ab]{60,140}", pattern in "[ab%_]{60,140}") {
        prop_assert_eq!(like_matches(&text, &pattern), like_reference(&text, &pattern));
    }
}
