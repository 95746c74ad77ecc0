//! CQL2 parser and evaluator on hand-written filters.

#![allow(clippy::unwrap_used)] // tests may unwrap

use geo::{Geometry, LineString, Point};
use serde_json::{json, Map, Value};
use twin_layers::cql2::{like_matches, parse, CmpOp, Expr, GeomOperand, Scalar};
use twin_layers::Feature;

fn feature(props: Value, geometry: Geometry<f64>) -> Feature {
    let properties: Map<String, Value> = props.as_object().cloned().unwrap_or_default();
    Feature { geometry, properties }
}

fn road() -> Feature {
    feature(
        json!({"name": "Đường Bạch Đằng", "class": "primary", "lanes": 4, "maxspeed": 50.0, "oneway": "no",
               "lit": true, "ref": null, "name:en": "Bach Dang Street", "opened": "2019-05-01T00:00:00Z",
               "quote": "O'Brien"}),
        Geometry::LineString(LineString::from(vec![(108.22, 16.06), (108.225, 16.07)])),
    )
}

fn eval(filter: &str) -> bool {
    parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&road())
}

#[test]
fn comparisons_on_each_type() {
    assert!(eval("class = 'primary'"));
    assert!(eval("class <> 'secondary'"));
    assert!(eval("lanes >= 4 AND lanes <= 4 AND lanes > 3 AND lanes < 5"));
    assert!(!eval("lanes > 4"));
    assert!(eval("maxspeed = 50"));
    assert!(eval("lit = TRUE"));
    assert!(eval("\"name:en\" = 'Bach Dang Street'"));
    assert!(eval("name:en = 'Bach Dang Street'"));
    assert!(eval("quote = 'O''Brien'"));
    assert!(eval("4 = lanes"));
}

#[test]
fn type_mismatch_and_missing_properties_are_false() {
    assert!(!eval("lanes = '4'"));
    assert!(!eval("missing = 1"));
    assert!(!eval("missing <> 1"));
    assert!(eval("NOT missing = 1"));
    assert!(!eval("ref = 'x'"));
}

#[test]
fn boolean_logic_and_precedence() {
    // NOT binds tighter than AND, AND tighter than OR.
    assert!(eval("class = 'x' OR lanes = 4 AND oneway = 'no'"));
    assert!(!eval("(class = 'x' OR lanes = 4) AND oneway = 'yes'"));
    assert!(eval("NOT class = 'x' AND lanes = 4"));
    assert!(!eval("NOT (class = 'primary' AND lanes = 4)"));
    assert!(eval("TRUE"));
    assert!(!eval("FALSE OR NOT TRUE"));
    let e = parse("a = 1 OR b = 2 AND NOT c = 3").unwrap();
    match e {
        Expr::Or(v) => {
            assert_eq!(v.len(), 2);
            assert!(matches!(&v[1], Expr::And(w) if w.len() == 2 && matches!(w[1], Expr::Not(_))), "{v:?}");
        }
        other => panic!("wrong tree {other:?}"),
    }
    // Chains are flat; parentheses keep their group.
    assert!(matches!(parse("a = 1 AND b = 2 AND c = 3 AND d = 4").unwrap(), Expr::And(v) if v.len() == 4));
    assert!(matches!(parse("a = 1 OR b = 2 OR c = 3").unwrap(), Expr::Or(v) if v.len() == 3));
    match parse("(a = 1 AND b = 2) AND NOT (c = 3 OR d = 4)").unwrap() {
        Expr::And(v) => {
            assert!(matches!(&v[0], Expr::And(w) if w.len() == 2));
            assert!(matches!(&v[1], Expr::Not(n) if matches!(&**n, Expr::Or(w) if w.len() == 2)));
        }
        other => panic!("wrong tree {other:?}"),
    }
    assert!(eval("class = 'primary' and lanes = 4"), "keywords are case-insensitive");
}

#[test]
fn like_in_between_is_null() {
    assert!(eval("name LIKE 'Đường%'"));
    assert!(eval("class LIKE 'pr_mary'"));
    assert!(!eval("class LIKE 'pr_'"));
    assert!(eval("class NOT LIKE 'sec%'"));
    assert!(eval("class IN ('secondary', 'primary')"));
    assert!(!eval("class NOT IN ('secondary', 'primary')"));
    assert!(eval("lanes IN (1, 2, 4)"));
    assert!(eval("lanes BETWEEN 2 AND 4"));
    assert!(!eval("lanes NOT BETWEEN 2 AND 4"));
    assert!(eval("ref IS NULL"));
    assert!(eval("missing IS NULL"));
    assert!(eval("class IS NOT NULL"));
}

#[test]
fn like_patterns() {
    assert!(like_matches("abc", "%"));
    assert!(like_matches("", "%"));
    assert!(!like_matches("", "_"));
    assert!(like_matches("a%c", "a\\%c"));
    assert!(!like_matches("abc", "a\\%c"));
    assert!(like_matches("aXbXc", "%b%c"));
    assert!(like_matches("mississippi", "m%iss%pi"));
    assert!(!like_matches("mississippi", "m%iss%pix"));
}

#[test]
fn timestamps_and_dates() {
    assert!(eval("opened > TIMESTAMP('2019-01-01T00:00:00Z')"));
    assert!(eval("opened = TIMESTAMP('2019-05-01T07:00:00+07:00')"));
    assert!(eval("opened BETWEEN DATE('2019-01-01') AND DATE('2019-12-31')"));
    assert!(!eval("opened < DATE('2019-05-01')"));
}

#[test]
fn spatial_intersects() {
    assert!(eval("S_INTERSECTS(geometry, BBOX(108.2, 16.0, 108.23, 16.065))"));
    assert!(!eval("S_INTERSECTS(geometry, BBOX(108.0, 16.0, 108.1, 16.1))"));
    assert!(eval(
        "S_INTERSECTS(geom, POLYGON((108.21 16.05, 108.23 16.05, 108.23 16.08, 108.21 16.08, 108.21 16.05)))"
    ));
    assert!(!eval("S_INTERSECTS(geometry, POINT(108.0 16.0))"));
    assert!(eval("S_INTERSECTS(geometry, LINESTRING(108.22 16.07, 108.225 16.06))"));
    let p = feature(json!({}), Geometry::Point(Point::new(1.0, 1.0)));
    let e = parse(
        "S_INTERSECTS(\"geometry\", POLYGON((0 0, 2 0, 2 2, 0 2, 0 0), (0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5)))",
    )
    .unwrap();
    assert!(!e.matches(&p), "a point in the hole does not intersect");
    assert!(matches!(e, Expr::Intersects(GeomOperand::Property(ref n), GeomOperand::Wkt(_)) if n == "geometry"));
}

#[test]
fn parsed_trees_are_as_written() {
    assert_eq!(
        parse("\"my prop\" <= -2.5e1").unwrap(),
        Expr::Compare { op: CmpOp::Le, left: Scalar::Property("my prop".into()), right: Scalar::Number(-25.0) }
    );
    assert_eq!(
        parse("x BETWEEN 1 AND 2 AND y = 'a'").unwrap(),
        Expr::And(vec![
            Expr::Between {
                value: Scalar::Property("x".into()),
                low: Scalar::Number(1.0),
                high: Scalar::Number(2.0),
                negated: false
            },
            Expr::Compare { op: CmpOp::Eq, left: Scalar::Property("y".into()), right: Scalar::Text("a".into()) }
        ])
    );
}

#[test]
fn errors_name_the_offset() {
    let cases: &[(&str, usize)] = &[
        ("class = ", 8),
        ("class == 'a'", 7),
        ("class = 'open", 8),
        ("(a = 1", 6),
        ("a = 1 b = 2", 6),
        ("a LIKE 5", 7),
        ("a BETWEEN 1 OR 2", 12),
        ("a IS 3", 5),
        ("a # 1", 2),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 0, 3))", 23),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))", 23),
        ("a = TIMESTAMP('yesterday')", 14),
        ("AND = 1", 0),
        ("foo(1) = 2", 0),
        ("", 0),
    ];
    for (text, offset) in cases {
        let err = parse(text).expect_err(text);
        assert_eq!(err.offset, *offset, "{text}: {err}");
        assert!(err.to_string().contains(&format!("offset {offset}")));
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    let deep = format!("{}a = 1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(parse(&deep).is_err());
    let nots = format!("{}a = 1", "NOT ".repeat(5000));
    assert!(parse(&nots).is_err());
}

#[test]
fn clone_and_equality_see_the_whole_tree() {
    let a = parse("x = 1 AND (y = 2 OR NOT z LIKE 'a%') AND S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))").unwrap();
    let copy = a.clone();
    assert_eq!(copy, a);
    assert_eq!(copy.to_string(), a.to_string());
    for other in [
        "x = 1 AND (y = 2 OR NOT z LIKE 'b%') AND S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))",
        "x = 1 AND (y = 2 OR z LIKE 'a%') AND S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))",
        "x = 1 AND (y = 2 AND NOT z LIKE 'a%') AND S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))",
        "x = 1 AND (y = 2 OR NOT z LIKE 'a%') AND S_INTERSECTS(geometry, BBOX(0, 0, 1, 2))",
        "x = 1 AND (y = 2 OR NOT z LIKE 'a%')",
        "x = 1 OR (y = 2 OR NOT z LIKE 'a%') OR S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))",
    ] {
        let b = parse(other).unwrap();
        assert_ne!(a, b, "{other}");
        assert_ne!(b, a, "{other}");
        assert_ne!(a.clone(), b.clone(), "{other}");
    }
}
