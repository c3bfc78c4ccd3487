"""Real input data that ships in a package: scikit-learn's handwritten digits.

The split is fixed (``random_state=0``, 20 % test, stratified) so that the training
script, ``qloom demo`` and the tests all see the same 360 test images.
"""
from __future__ import annotations

import numpy as np

DIGITS_SEED = 0
DIGITS_TEST_FRACTION = 0.2


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits data set (1797 real 8x8 images), split into train and test.

    Returns
    -------
    x_train, y_train, x_test, y_test
        ``x_*`` float32, shape (N, 1, 8, 8) NCHW, pixel values scaled to [0, 1]
        (scikit-learn's 0..16 divided by 16); ``y_*`` int64 labels 0..9, shape (N,).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, random_state=DIGITS_SEED, stratify=y
    )
    return x_train, y_train, x_test, y_test
