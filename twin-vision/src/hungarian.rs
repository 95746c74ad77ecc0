//! Minimum-cost assignment (Hungarian / Kuhn–Munkres with potentials, O(n²m)).

/// Assigns rows to columns minimising the total cost of a `rows × cols` matrix (row-major).
/// Returns `assignment[row] = Some(col)`; with more rows than columns some rows stay `None`.
/// Costs must be finite; use a large value for forbidden pairs and filter afterwards.
pub fn assign(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    if rows == 0 || cols == 0 || cost.len() != rows * cols {
        return vec![None; rows];
    }
    // The algorithm needs rows ≤ cols: solve the transpose otherwise.
    if rows > cols {
        let t: Vec<f64> = (0..cols * rows).map(|i| cost[(i % rows) * cols + i / rows]).collect();
        let by_col = assign(&t, cols, rows);
        let mut out = vec![None; rows];
        for (c, r) in by_col.iter().enumerate() {
            if let Some(r) = r {
                out[*r] = Some(c);
            }
        }
        return out;
    }
    let (n, m) = (rows, cols);
    // 1-based arrays; index 0 is the virtual start column.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut owner = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        owner[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        // Walk the augmenting path back.
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![None; n];
    for j in 1..=m {
        if owner[j] != 0 {
            out[owner[j] - 1] = Some(j - 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(cost: &[f64], n: usize) -> f64 {
        fn rec(cost: &[f64], n: usize, row: usize, used: &mut Vec<bool>) -> f64 {
            if row == n {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..n {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[row * n + c] + rec(cost, n, row + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        rec(cost, n, 0, &mut vec![false; n])
    }

    #[test]
    fn matches_brute_force_on_pseudo_random_matrices() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) % 1000) as f64
        };
        for n in 1..=6 {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..n * n).map(|_| next()).collect();
                let a = assign(&cost, n, n);
                let total: f64 = a.iter().enumerate().map(|(r, c)| cost[r * n + c.unwrap()]).sum();
                assert_eq!(total, brute(&cost, n));
            }
        }
    }

    #[test]
    fn rectangular_both_ways() {
        // 2 rows, 3 cols: row 0 → col 2, row 1 → col 0.
        let cost = [5.0, 9.0, 1.0, 2.0, 8.0, 7.0];
        assert_eq!(assign(&cost, 2, 3), vec![Some(2), Some(0)]);
        // Transposed: 3 rows, 2 cols.
        let t = [5.0, 2.0, 9.0, 8.0, 1.0, 7.0];
        assert_eq!(assign(&t, 3, 2), vec![Some(1), None, Some(0)]);
    }
}
