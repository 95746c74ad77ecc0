//! Property test: any expression printed as CQL2 text parses back to the same tree.

#![allow(clippy::unwrap_used)] // tests may unwrap

use geo::{Geometry, LineString, Point, Polygon};
use proptest::prelude::*;
use twin_layers::cql2::{parse, CmpOp, Expr, GeomOperand, Scalar};

fn property() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,8}",
        Just("name:en".to_owned()),
        Just("and".to_owned()),
        Just("Null".to_owned()),
        "[ -~]{1,10}",
        "[\\p{L}\" ]{1,6}",
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i32..1000).prop_map(f64::from),
        prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL,
    ]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        property().prop_map(Scalar::Property),
        "(\\PC|')*".prop_map(Scalar::Text),
        number().prop_map(Scalar::Number),
        any::<bool>().prop_map(Scalar::Bool),
        (0i64..4_000_000_000_000).prop_map(Scalar::Timestamp),
        (0i64..40_000).prop_map(|d| Scalar::Date(d * 86_400_000)),
    ]
}

fn coord() -> impl Strategy<Value = (f64, f64)> {
    (-180.0f64..180.0, -90.0f64..90.0)
}

fn geom_operand() -> impl Strategy<Value = GeomOperand> {
    prop_oneof![
        property().prop_map(GeomOperand::Property),
        (coord(), coord()).prop_map(|((a, b), (c, d))| GeomOperand::Bbox([a.min(c), b.min(d), a.max(c), b.max(d)])),
        coord().prop_map(|(x, y)| GeomOperand::Wkt(Geometry::Point(Point::new(x, y)))),
        prop::collection::vec(coord(), 2..6).prop_map(|v| GeomOperand::Wkt(Geometry::LineString(LineString::from(v)))),
        prop::collection::vec(coord(), 3..7).prop_map(|mut v| {
            v.push(v[0]);
            GeomOperand::Wkt(Geometry::Polygon(Polygon::new(LineString::from(v), vec![])))
        }),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![Just(CmpOp::Eq), Just(CmpOp::Ne), Just(CmpOp::Lt), Just(CmpOp::Le), Just(CmpOp::Gt), Just(CmpOp::Ge)]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        any::<bool>().prop_map(Expr::Literal),
        (cmp_op(), scalar(), scalar()).prop_map(|(op, left, right)| Expr::Compare { op, left, right }),
        (scalar(), "(\\PC|'|%|_)*", any::<bool>()).prop_map(|(value, pattern, negated)| Expr::Like {
            value,
            pattern,
            negated
        }),
        (scalar(), prop::collection::vec(scalar(), 1..4), any::<bool>()).prop_map(|(value, list, negated)| Expr::In {
            value,
            list,
            negated
        }),
        (scalar(), scalar(), scalar(), any::<bool>()).prop_map(|(value, low, high, negated)| Expr::Between {
            value,
            low,
            high,
            negated
        }),
        (scalar(), any::<bool>()).prop_map(|(value, negated)| Expr::IsNull { value, negated }),
        (geom_operand(), geom_operand()).prop_map(|(a, b)| Expr::Intersects(a, b)),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..5).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn printed_expressions_parse_back_to_the_same_tree(e in expr()) {
        let text = e.to_string();
        let back = parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(back, e, "text: {}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
        let _ = parse(&text);
    }
}
