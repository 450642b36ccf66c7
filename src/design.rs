//! The matrix linfa-logistic fits on: the dense TF-IDF rows, or, when there are fewer rows than
//! features, an exact and smaller basis of their row space.
//!
//! linfa-logistic fits dense matrices, so every L-BFGS step costs rows x columns x classes.
//! With n rows and d > n features the optimum of linfa's objective
//! `J(W, b) = sum_i -log softmax(x_i W + b)[y_i] + (alpha / 2) ||W||^2`
//! lies in the row space of X: at the optimum `alpha W = -X^T R` for the residuals R (the
//! intercept is not penalized and does not change this). Take the Gram matrix K = X X^T and its
//! pivoted Cholesky factorization P K P^T = L L^T with numerical rank r. The first r pivot rows
//! X_P are independent and Q^T = L_P^{-1} X_P (r x d, L_P the leading r x r block of L) has
//! orthonormal rows that span the row space, with X = Z Q^T for Z = P^T L[:, :r] (n x r).
//! Writing W = Q B gives X W = Z B and ||W|| = ||B||, so fitting linfa on Z (n x r) with the
//! same alpha and labels is the same problem in rotated coordinates: the same loss at every
//! point, and L-BFGS, started from zero or from the rotated warm start, takes the same steps.
//! The weights stored in the model are W = Q B = X_P^T (L_P^{-T} B). A test checks that the two
//! routes give the same predictions and weights on small data.
//!
//! The factorization runs in f64 and on one thread, so the same rows give the same bytes on any
//! machine; Z is handed to linfa in f32 like the dense rows.

use std::sync::Arc;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt_pivoting::factor as pivoted_llt;
use faer::linalg::triangular_solve;
use faer::{Mat, Par};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::tfidf::{to_dense, SparseRow};

/// Bytes of memory a design needs for its matrices, to check a budget before building it.
pub fn bytes_needed(n_rows: usize, n_features: usize) -> u128 {
    let (n, d) = (n_rows as u128, n_features as u128);
    if uses_row_space(n_rows, n_features) {
        // The Gram matrix, factorized in place and kept, in f64, and Z (at most n x n) in f32.
        n * n * 8 + n * n * 4
    } else {
        n * d * 4
    }
}

/// Columns of the matrix linfa fits for `n_rows` x `n_features` (at most; the basis has as many
/// columns as the rows' rank).
pub fn columns(n_rows: usize, n_features: usize) -> usize {
    if uses_row_space(n_rows, n_features) {
        n_rows
    } else {
        n_features
    }
}

/// Whether the row-space basis is used for `n_rows` x `n_features`: only when it is smaller.
fn uses_row_space(n_rows: usize, n_features: usize) -> bool {
    n_rows < n_features
}

/// The rotation from row-space coordinates back to feature weights, shared by every subset of
/// the rows it was built from.
#[derive(Debug)]
struct RowSpace {
    /// The independent pivot rows X_P.
    pivot_rows: Vec<SparseRow>,
    /// The pivoted Cholesky factor, factorized in place in the Gram matrix's memory; its
    /// leading r x r lower triangle is L_P, the rest is not read.
    factor: Mat<f64>,
    rank: usize,
}

impl RowSpace {
    /// L_P: the triangular solves read only its lower triangle.
    fn lower(&self) -> faer::MatRef<'_, f64> {
        self.factor.as_ref().submatrix(0, 0, self.rank, self.rank)
    }
}

/// The rows linfa fits on, with the sparse rows they stand for.
#[derive(Clone, Debug)]
pub struct Design {
    /// The original TF-IDF rows, for the loss and gradient checks in feature space.
    rows: Vec<SparseRow>,
    n_features: usize,
    /// What linfa fits: the dense rows (n x d), or Z (n x r).
    matrix: Array2<f32>,
    /// Present when `matrix` is Z.
    row_space: Option<Arc<RowSpace>>,
}

impl Design {
    /// Builds the design for `rows` with `n_features` features: the row-space basis when
    /// there are fewer rows than features, the dense rows otherwise.
    pub fn new(rows: &[SparseRow], n_features: usize) -> Design {
        if !uses_row_space(rows.len(), n_features) {
            return Design::dense(rows, n_features);
        }
        let (z, row_space) = row_space_basis(rows);
        Design {
            rows: rows.to_vec(),
            n_features,
            matrix: z,
            row_space: Some(Arc::new(row_space)),
        }
    }

    /// The plain dense design: linfa fits the TF-IDF rows as they are.
    pub fn dense(rows: &[SparseRow], n_features: usize) -> Design {
        Design {
            rows: rows.to_vec(),
            n_features,
            matrix: to_dense(rows, n_features),
            row_space: None,
        }
    }

    /// The design of a selection of its rows (in the given order; a row may repeat). The
    /// basis stays valid: the selected rows' row space lies inside the full one.
    pub fn select(&self, rows: &[usize]) -> Design {
        Design {
            rows: rows.iter().map(|&r| self.rows[r].clone()).collect(),
            n_features: self.n_features,
            matrix: self.matrix.select(Axis(0), rows),
            row_space: self.row_space.clone(),
        }
    }

    /// The matrix handed to linfa.
    pub fn matrix(&self) -> ArrayView2<'_, f32> {
        self.matrix.view()
    }

    /// The sparse TF-IDF rows.
    pub fn rows(&self) -> &[SparseRow] {
        &self.rows
    }

    /// Number of features (columns of the weights in feature space).
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Whether linfa fits the row-space basis rather than the dense rows.
    pub fn is_row_space(&self) -> bool {
        self.row_space.is_some()
    }

    /// Maps linfa's weights on [`Design::matrix`] (columns x classes) to feature weights
    /// (features x classes): W = X_P^T L_P^{-T} B for the row-space basis.
    pub fn to_feature_weights(&self, weights: ArrayView2<'_, f32>) -> Array2<f32> {
        let Some(space) = &self.row_space else {
            return weights.to_owned();
        };
        let (r, classes) = weights.dim();
        let mut solved = Mat::<f64>::from_fn(r, classes, |i, j| weights[(i, j)] as f64);
        triangular_solve::solve_upper_triangular_in_place(
            space.lower().transpose(),
            solved.as_mut(),
            Par::Seq,
        );
        let mut out = Array2::<f64>::zeros((self.n_features, classes));
        for (p, row) in space.pivot_rows.iter().enumerate() {
            for (feature, value) in row.iter() {
                for class in 0..classes {
                    out[(feature, class)] += value as f64 * solved[(p, class)];
                }
            }
        }
        out.mapv(|w| w as f32)
    }

    /// Maps feature weights (features x classes) to weights on [`Design::matrix`]: the
    /// inverse of [`Design::to_feature_weights`] on the row space, B = L_P^{-1} X_P W (the
    /// projection for weights outside it). Used to warm-start linfa.
    pub fn from_feature_weights(&self, weights: ArrayView2<'_, f32>) -> Array2<f32> {
        let Some(space) = &self.row_space else {
            return weights.to_owned();
        };
        let classes = weights.ncols();
        let r = space.pivot_rows.len();
        let mut projected = Mat::<f64>::zeros(r, classes);
        for (p, row) in space.pivot_rows.iter().enumerate() {
            for (feature, value) in row.iter() {
                for class in 0..classes {
                    projected[(p, class)] += value as f64 * weights[(feature, class)] as f64;
                }
            }
        }
        triangular_solve::solve_lower_triangular_in_place(space.lower(), projected.as_mut(), Par::Seq);
        Array2::from_shape_fn((r, classes), |(i, j)| projected[(i, j)] as f32)
    }
}

/// Z (n x r, f32) and the rotation back to features, from the pivoted Cholesky factorization of
/// the rows' Gram matrix.
fn row_space_basis(rows: &[SparseRow]) -> (Array2<f32>, RowSpace) {
    let n = rows.len();
    let mut gram = gram_matrix(rows);
    let mut perm = vec![0usize; n];
    let mut perm_inv = vec![0usize; n];
    let params = Default::default();
    let mut buffer = MemBuffer::new(pivoted_llt::cholesky_in_place_scratch::<usize, f64>(n, Par::Seq, params));
    let rank = match pivoted_llt::cholesky_in_place(
        gram.as_mut(),
        &mut perm,
        &mut perm_inv,
        Par::Seq,
        MemStack::new(&mut buffer),
        params,
    ) {
        Ok((info, _)) => info.rank,
        // A Gram matrix is positive semidefinite; only rows with non-finite values fail, and
        // TF-IDF rows have none. Fall back to the empty basis rather than panic.
        Err(_) => 0,
    };
    // Row perm[i] of X is the i-th pivot; L's row i belongs to it.
    let mut z = Array2::<f32>::zeros((n, rank));
    for (i, &original) in perm.iter().enumerate() {
        for j in 0..rank.min(i + 1) {
            z[(original, j)] = gram[(i, j)] as f32;
        }
    }
    let pivot_rows = perm[..rank].iter().map(|&r| rows[r].clone()).collect();
    (z, RowSpace { pivot_rows, factor: gram, rank })
}

/// K = X X^T in f64, from the sparse rows through an inverted index; each row of K is summed in
/// a fixed order, so the result does not depend on the number of threads.
fn gram_matrix(rows: &[SparseRow]) -> Mat<f64> {
    let n = rows.len();
    let n_features = rows
        .iter()
        .flat_map(|r| r.indices.iter())
        .map(|&i| i as usize + 1)
        .max()
        .unwrap_or(0);
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_features];
    for (r, row) in rows.iter().enumerate() {
        for (feature, value) in row.iter() {
            postings[feature].push((r as u32, value));
        }
    }
    // Lower triangle row by row (j <= i), each row on its own, then mirrored.
    let lower: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut sums = vec![0.0f64; i + 1];
            for (feature, value) in rows[i].iter() {
                for &(j, other) in &postings[feature] {
                    if j as usize > i {
                        break;
                    }
                    sums[j as usize] += value as f64 * other as f64;
                }
            }
            sums
        })
        .collect();
    Mat::<f64>::from_fn(n, n, |i, j| if j <= i { lower[i][j] } else { lower[j][i] })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of a small random sparse matrix with more features than rows, plus duplicates.
    fn sample_rows() -> Vec<SparseRow> {
        let mut rows = Vec::new();
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        for _ in 0..20 {
            let mut entries: Vec<(u32, f32)> = (0..4).map(|_| (next() % 50, 0.1 + (next() % 100) as f32 / 100.0)).collect();
            entries.sort_by_key(|e| e.0);
            entries.dedup_by_key(|e| e.0);
            rows.push(SparseRow {
                indices: entries.iter().map(|e| e.0).collect(),
                values: entries.iter().map(|e| e.1).collect(),
            });
        }
        rows.push(rows[3].clone());
        rows.push(rows[5].clone());
        rows
    }

    #[test]
    fn the_basis_reproduces_the_rows_inner_products() {
        let rows = sample_rows();
        let design = Design::new(&rows, 50);
        assert!(design.is_row_space());
        // Two duplicated rows: the rank is at most n - 2.
        assert!(design.matrix().ncols() <= rows.len() - 2, "{}", design.matrix().ncols());
        let dense = to_dense(&rows, 50);
        let z = design.matrix();
        for i in 0..rows.len() {
            for j in 0..rows.len() {
                let expected = dense.row(i).dot(&dense.row(j));
                let got = z.row(i).dot(&z.row(j));
                assert!((expected - got).abs() < 1e-5, "K[{i},{j}] {expected} vs {got}");
            }
        }
    }

    #[test]
    fn weights_map_back_and_forth_and_give_the_same_scores() {
        let rows = sample_rows();
        let design = Design::new(&rows, 50);
        let r = design.matrix().ncols();
        let b = Array2::from_shape_fn((r, 3), |(i, j)| ((i * 3 + j) as f32 * 0.37).sin());
        let w = design.to_feature_weights(b.view());
        // X W = Z B.
        let dense = to_dense(&rows, 50);
        let xw = dense.dot(&w);
        let zb = design.matrix().dot(&b);
        for (a, b) in xw.iter().zip(zb.iter()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // ||W|| = ||B|| and the map back recovers B.
        let norm = |m: &Array2<f32>| m.iter().map(|v| v * v).sum::<f32>();
        assert!((norm(&w) - norm(&b)).abs() < 1e-3 * norm(&b));
        let back = design.from_feature_weights(w.view());
        for (a, b) in back.iter().zip(b.iter()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn a_subset_keeps_the_basis() {
        let rows = sample_rows();
        let design = Design::new(&rows, 50);
        let subset = design.select(&[4, 4, 9]);
        assert_eq!(subset.rows()[1], rows[4]);
        assert_eq!(subset.matrix().row(0), design.matrix().row(4));
        assert!(subset.is_row_space());
    }

    #[test]
    fn more_rows_than_features_stays_dense() {
        let rows: Vec<SparseRow> = (0..3).flat_map(|_| sample_rows()).collect();
        assert!(rows.len() > 50);
        let design = Design::new(&rows, 50);
        assert!(!design.is_row_space());
        assert_eq!(design.matrix(), to_dense(&rows, 50));
    }
}
