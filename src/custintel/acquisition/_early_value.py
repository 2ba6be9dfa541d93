"""Early-life value: a new customer's value over a horizon, from their first order and days."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from custintel._threads import limited_threads, n_threads
from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError

__all__ = ["EarlyLifeValueModel"]


@dataclass(kw_only=True, repr=False, eq=False)
class EarlyLifeValueModel(RegressorMixin, BaseEstimator):
    """Predict each new customer's value over a horizon from what is known early.

    Trained on :func:`~custintel.features.make_early_life_dataset` rows of
    earlier cohorts (their later value is the label), applied to
    :func:`~custintel.features.early_life_features` of today's new customers.
    The regressor is scikit-learn's histogram gradient boosting with a
    Poisson loss: values are non-negative, skewed and often zero, and the
    Poisson loss predicts their mean without a log transform's bias.

    Parameters
    ----------
    max_iter : int, default=300
        Boosting iterations (early stopping on a validation split picks fewer).
    learning_rate : float, default=0.05
        Shrinkage.
    min_samples_leaf : int, default=50
        Fewest training rows per leaf.
    random_state : int or None, default=0
        Seed of the validation split.
    n_jobs : int or None, default=None
        Threads (scikit-learn's meaning; one by default).

    Attributes
    ----------
    estimator_ : HistGradientBoostingRegressor
        The fitted regressor.
    feature_names_in_ : numpy.ndarray
        Columns seen in ``fit``.
    columns_used_ : list of str
        The columns the regressor reads: those of ``fit`` with at least one value.
    categories_ : dict of str to list
        Categories of each categorical column seen in ``fit``; others read as
        missing when predicting.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"age_days": 0.0, "first_amount": rng.gamma(2, 20, 2000)})
    >>> y = rng.poisson(X["first_amount"] / 10) * 15.0  # bigger first orders, more value
    >>> model = EarlyLifeValueModel().fit(X, y)
    >>> low, high = model.predict(pd.DataFrame({"age_days": [0.0, 0.0],
    ...                                         "first_amount": [10.0, 100.0]}))
    >>> bool(high > 3 * low)
    True
    """

    max_iter: int = 300
    learning_rate: float = 0.05
    min_samples_leaf: int = 50
    random_state: int | None = 0
    n_jobs: int | None = None

    def _frame(self, X: Any) -> pd.DataFrame:
        X = as_customer_table(X, owner="EarlyLifeValueModel")
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(
                f"EarlyLifeValueModel expects a DataFrame of early-life features, got "
                f"{type(X).__name__}; build it with custintel.features.early_life_features",
                reason="not_a_dataframe",
            )
        if X.empty:
            raise SchemaError("EarlyLifeValueModel got an empty table", reason="empty")
        bad = [
            c
            for c in X.columns
            if not (
                pd.api.types.is_numeric_dtype(X[c]) or isinstance(X[c].dtype, pd.CategoricalDtype)
            )
            or pd.api.types.is_bool_dtype(X[c])
        ]
        if bad:
            raise SchemaError(
                f"EarlyLifeValueModel reads numbers and categoricals; columns {bad} are neither: "
                "convert them, e.g. X[col].astype('category')",
                reason="bad_column",
            )
        return X

    def fit(self, X: Any, y: Any) -> EarlyLifeValueModel:
        """Fit the regressor on early-life rows and their later value.

        Parameters
        ----------
        X : pandas.DataFrame
            :func:`~custintel.features.make_early_life_dataset` features.
        y : array-like
            Value over the horizon (``>= 0``).

        Returns
        -------
        EarlyLifeValueModel
            The fitted model.

        Raises
        ------
        SchemaError
            For a table that is empty or has text columns.
        ValueError
            For negative, missing or misaligned labels.
        """
        from sklearn.ensemble import HistGradientBoostingRegressor

        threads = n_threads(self.n_jobs)
        X = self._frame(X)
        target = np.asarray(y, dtype=np.float64)
        if target.shape != (len(X),):
            raise ValueError(f"y needs one value per row of X ({len(X)}), got {target.shape}")
        if not np.isfinite(target).all():
            raise ValueError("y holds NaN or infinite values")
        if (target < 0).any():
            raise ValueError(
                f"y holds {int((target < 0).sum()):,} negative values (net refunds); clip them "
                "at 0, e.g. y.clip(lower=0): the model predicts non-negative value"
            )
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.categories_ = {
            str(c): list(X[c].cat.categories)
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        self.estimator_ = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            min_samples_leaf=self.min_samples_leaf,
            categorical_features="from_dtype",
            early_stopping=len(X) >= 2000,
            random_state=self.random_state,
        )
        # A column with no value at all (no item_id mapped: no item counts) says nothing.
        self.columns_used_ = [str(c) for c in X.columns if X[c].notna().any()]
        if not self.columns_used_:
            raise SchemaError("every column of X is empty (NaN)", reason="empty")
        with limited_threads(threads):
            self.estimator_.fit(X[self.columns_used_], target)
        return self

    def predict(self, X: Any) -> pd.Series:
        """Predict each customer's value over the horizon the model was trained on.

        Parameters
        ----------
        X : pandas.DataFrame
            The columns seen in ``fit`` (e.g. from
            :func:`~custintel.features.early_life_features`).

        Returns
        -------
        pandas.Series
            Named ``early_life_value``, indexed like ``X``.

        Raises
        ------
        SchemaError
            When ``X`` lacks a column seen in ``fit``.
        """
        check_is_fitted(self, "estimator_")
        X = self._frame(X)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise SchemaError(
                f"EarlyLifeValueModel was fitted on {list(self.feature_names_in_)}; X lacks "
                f"{missing}. Build X with the same schema mapping as the training data",
                reason="missing_column",
            )
        X = X[self.columns_used_].copy()
        for column, categories in self.categories_.items():
            # Categories unseen in training read as missing, never as another category.
            values = X[column].astype(object)
            known = values.isin(categories)
            X[column] = pd.Categorical(values.where(known), categories=categories)
        with limited_threads(self.n_jobs):
            values = self.estimator_.predict(X)
        return pd.Series(values, index=X.index, name="early_life_value")
