//! `Clone` and `PartialEq` of [`Expr`] without recursion: derived ones use a few stack frames per tree
//! level, which in unoptimized builds is more than the evaluator and printer need.

use super::Expr;

impl Expr {
    /// A copy of a predicate (anything but `And`, `Or` and `Not`).
    fn clone_predicate(&self) -> Expr {
        match self {
            Expr::And(_) | Expr::Or(_) | Expr::Not(_) => Expr::Literal(false),
            Expr::Literal(b) => Expr::Literal(*b),
            Expr::Compare { op, left, right } => Expr::Compare { op: *op, left: left.clone(), right: right.clone() },
            Expr::Like { value, pattern, negated } => {
                Expr::Like { value: value.clone(), pattern: pattern.clone(), negated: *negated }
            }
            Expr::In { value, list, negated } => {
                Expr::In { value: value.clone(), list: list.clone(), negated: *negated }
            }
            Expr::Between { value, low, high, negated } => {
                Expr::Between { value: value.clone(), low: low.clone(), high: high.clone(), negated: *negated }
            }
            Expr::IsNull { value, negated } => Expr::IsNull { value: value.clone(), negated: *negated },
            Expr::Intersects(a, b) => Expr::Intersects(a.clone(), b.clone()),
        }
    }

    /// Equality of two predicates; `false` for the boolean operators, which `eq` handles.
    fn eq_predicate(&self, other: &Expr) -> bool {
        match (self, other) {
            (Expr::Literal(a), Expr::Literal(b)) => a == b,
            (Expr::Compare { op, left, right }, Expr::Compare { op: o, left: l, right: r }) => {
                op == o && left == l && right == r
            }
            (Expr::Like { value, pattern, negated }, Expr::Like { value: v, pattern: p, negated: n }) => {
                value == v && pattern == p && negated == n
            }
            (Expr::In { value, list, negated }, Expr::In { value: v, list: l, negated: n }) => {
                value == v && list == l && negated == n
            }
            (
                Expr::Between { value, low, high, negated },
                Expr::Between { value: v, low: lo, high: hi, negated: n },
            ) => value == v && low == lo && high == hi && negated == n,
            (Expr::IsNull { value, negated }, Expr::IsNull { value: v, negated: n }) => value == v && negated == n,
            (Expr::Intersects(a, b), Expr::Intersects(x, y)) => a == x && b == y,
            _ => false,
        }
    }
}

impl Clone for Expr {
    fn clone(&self) -> Self {
        enum Task<'e> {
            Visit(&'e Expr),
            /// Gather this many finished operands into an `And` (or `Or`).
            And(usize),
            Or(usize),
            Not,
        }
        let mut tasks = vec![Task::Visit(self)];
        // Finished subtrees, in tree order.
        let mut done: Vec<Expr> = Vec::new();
        while let Some(task) = tasks.pop() {
            match task {
                Task::Visit(Expr::And(v)) => {
                    tasks.push(Task::And(v.len()));
                    tasks.extend(v.iter().rev().map(Task::Visit));
                }
                Task::Visit(Expr::Or(v)) => {
                    tasks.push(Task::Or(v.len()));
                    tasks.extend(v.iter().rev().map(Task::Visit));
                }
                Task::Visit(Expr::Not(e)) => {
                    tasks.push(Task::Not);
                    tasks.push(Task::Visit(e));
                }
                Task::Visit(leaf) => done.push(leaf.clone_predicate()),
                Task::And(n) => {
                    let operands = done.split_off(done.len().saturating_sub(n));
                    done.push(Expr::And(operands));
                }
                Task::Or(n) => {
                    let operands = done.split_off(done.len().saturating_sub(n));
                    done.push(Expr::Or(operands));
                }
                Task::Not => {
                    let e = done.pop().unwrap_or(Expr::Literal(false));
                    done.push(Expr::Not(Box::new(e)));
                }
            }
        }
        done.pop().unwrap_or(Expr::Literal(false))
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        let mut pairs = vec![(self, other)];
        while let Some(pair) = pairs.pop() {
            match pair {
                (Expr::And(a), Expr::And(b)) | (Expr::Or(a), Expr::Or(b)) => {
                    if a.len() != b.len() {
                        return false;
                    }
                    pairs.extend(a.iter().zip(b));
                }
                (Expr::Not(a), Expr::Not(b)) => pairs.push((a, b)),
                (a, b) => {
                    if !a.eq_predicate(b) {
                        return false;
                    }
                }
            }
        }
        true
    }
}
