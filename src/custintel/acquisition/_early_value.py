"""Early-life value: a new customer's value over a horizon, from their first order and days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from custintel._boosting import CompiledBooster, export_booster, json_category
from custintel._threads import limited_threads, n_threads
from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError
from custintel.export import POSITIVE, Domain, ExportReader, export_header

__all__ = ["EarlyLifeValueModel"]

FORMAT_VERSION = 1

#: Reads an EarlyLifeValueModel export; every refusal names the model.
READER = ExportReader(
    "EarlyLifeValueModel export",
    fix="re-export the model with to_dict() from a fitted EarlyLifeValueModel",
)
_RUNTIME_PARAMETERS = ("n_jobs",)  # how to run is the loader's choice, not the model's
_AT_LEAST_ONE = Domain(1.0)
_MAX_LOG_VALUE = 700.0  # exp(709.8) is the largest float


class _CompiledRegressor:
    """The regressor of an EarlyLifeValueModel rebuilt from its export: ``exp(raw)``."""

    def __init__(self, booster: CompiledBooster) -> None:
        self.booster = booster

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Poisson loss, log link: the mean is ``exp(baseline + sum of leaves)``."""
        return np.asarray(np.exp(self.booster.raw(X)), dtype=np.float64)


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
        The fitted regressor (after :meth:`from_dict`, the checked trees of
        the export, which predict the same values).
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

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted model as plain JSON-serialisable data.

        The export holds the hyperparameters (not ``n_jobs``, the loader's
        choice), the columns, the categories of each categorical column and
        every boosted tree as columnar node arrays (the layout of
        :meth:`ChurnClassifier.to_dict <custintel.churn.ChurnClassifier.to_dict>`),
        so :meth:`from_dict` rebuilds a model that predicts exactly the same
        values without unpickling anything. The prediction is
        ``exp(baseline + sum of the trees' leaf values)`` (Poisson loss, log link).

        Returns
        -------
        dict
            ``model``, ``format_version``, ``hyperparameters``,
            ``feature_names``, ``columns_used``, ``categories``, ``link``
            (``"log"``) and ``booster``.
        """
        check_is_fitted(self, "estimator_")
        header = export_header(self, FORMAT_VERSION)
        for name in _RUNTIME_PARAMETERS:
            header["hyperparameters"].pop(name)
        if isinstance(self.estimator_, _CompiledRegressor):
            booster = dict(self.estimator_.booster.export)
        else:
            booster = export_booster(
                self.estimator_,
                self.columns_used_,
                lambda _, found: (
                    [json_category(c) for c in found],
                    [float(i) for i in range(len(found))],
                ),
            )
        return {
            **header,
            "feature_names": [str(c) for c in self.feature_names_in_],
            "columns_used": list(self.columns_used_),
            "categories": {
                column: [json_category(c) for c in values]
                for column, values in self.categories_.items()
            },
            "link": "log",
            "booster": booster,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> EarlyLifeValueModel:
        """Rebuild a fitted model from :meth:`to_dict` output (or its JSON text).

        Every field is checked (names, types, finiteness, every tree index)
        before anything is scored, so a hostile export is refused instead of
        crashing the process.

        Parameters
        ----------
        data : dict or str
            The exported model.

        Returns
        -------
        EarlyLifeValueModel
            Predicts the same values as the exported one.

        Raises
        ------
        InvalidModelError
            When the export is malformed, with a ``reason`` (see
            :mod:`custintel.export`).

        Examples
        --------
        >>> import json
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"age_days": 0.0, "first_amount": rng.gamma(2, 20, 500)})
        >>> model = EarlyLifeValueModel(max_iter=20).fit(X, rng.poisson(X["first_amount"] / 10))
        >>> again = EarlyLifeValueModel.from_dict(json.loads(json.dumps(model.to_dict())))
        >>> bool((again.predict(X) == model.predict(X)).all())
        True
        """
        export = READER.envelope(
            data,
            model="EarlyLifeValueModel",
            versions=(FORMAT_VERSION,),
            required=(
                "hyperparameters",
                "feature_names",
                "columns_used",
                "categories",
                "link",
                "booster",
            ),
        )
        defaults = [k for k in cls().get_params() if k not in _RUNTIME_PARAMETERS]
        given = READER.keys(
            export["hyperparameters"], "hyperparameters", required=defaults, where="hyperparameter"
        )
        params: dict[str, Any] = {}
        for name in defaults:
            field = f"hyperparameters.{name}"
            value = given[name]
            if name == "learning_rate":
                params[name] = float(READER.number(value, field, POSITIVE))
            elif name == "random_state":
                params[name] = None if value is None else READER.integer(value, field)
            else:
                params[name] = READER.integer(value, field, _AT_LEAST_ONE)
        model = cls(**params)
        names = READER.strings(export["feature_names"], "feature_names")
        if not names or len(set(names)) != len(names):
            READER.reject("feature_names", names, "a non-empty list of distinct strings")
        used = READER.strings(export["columns_used"], "columns_used")
        if not used or len(set(used)) != len(used) or not set(used) <= set(names):
            READER.reject("columns_used", used, f"a non-empty list of distinct names of {names}")
        categories = READER.mapping(export["categories"], "categories")
        if not set(categories) <= set(names):
            READER.reject("categories", sorted(categories), f"a mapping from names of {names}")
        seen: dict[str, list[Any]] = {}
        for column, values in categories.items():
            items = READER.array(values, f"categories.{column}")
            for i, item in enumerate(items):
                if not isinstance(item, (str, int, float, bool)) or (
                    isinstance(item, float) and not np.isfinite(item)
                ):
                    READER.reject(f"categories.{column}[{i}]", item, "a string or a number")
            if len(set(items)) != len(items):
                READER.reject(f"categories.{column}", items, "distinct values")
            seen[column] = list(items)
        if export["link"] != "log":
            READER.reject("link", export["link"], "'log' (the Poisson loss)")
        booster = CompiledBooster(export["booster"], READER, "booster", used)
        if not booster.raw_range[1] <= _MAX_LOG_VALUE:
            READER.reject(
                "booster.nodes.value",
                booster.raw_range[1],
                f"leaf values whose largest sum with the baseline is at most {_MAX_LOG_VALUE} "
                "(the log of the value: exp of more overflows)",
            )
        expected = sorted(c for c in used if c in seen)
        if sorted(booster.categorical) != expected:
            READER.reject(
                "booster.features",
                booster.features,
                f"a list whose first n_categorical entries are the categorical columns {expected}",
            )
        model.estimator_ = _CompiledRegressor(booster)
        model.feature_names_in_ = np.asarray(names, dtype=object)
        model.n_features_in_ = len(names)
        model.columns_used_ = list(used)
        model.categories_ = seen
        return model
