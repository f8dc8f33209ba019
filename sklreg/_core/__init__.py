"""Compiled kernels of sklreg (Cython).

Layout, one concern per module:

- ``_blas.pxd``: fused float/double wrappers over ``scipy.linalg.cython_blas``.
- ``_penalty.pxd``: the elastic-net penalty (L1, L2 and their mix, optionally
  non-negative): value, proximal operator and conjugate.  Every solver calls
  the penalty through these functions, so a new penalty touches one file.
- ``_cd.pyx``: coordinate descent for the squared-loss datafit, on dense
  columns, CSC columns or a precomputed Gram matrix.
- ``_gram.pyx``: centred, weighted Gram matrices built block-wise with syrk.
- ``_fused.pyx``: fused gradient / Hessian-vector passes (data term and L2
  penalty in one pass over X) and the conjugate-gradient solver they drive.
"""
