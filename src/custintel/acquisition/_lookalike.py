"""Lookalike prospects: how likely a prospect with given attributes is to become high-value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custintel._metrics import gains_table
from custintel._validation import as_customer_table
from custintel.exceptions import DataQualityWarning, SchemaError, warn

__all__ = ["LookalikeModel"]


@dataclass(kw_only=True, repr=False, eq=False)
class LookalikeModel(BaseEstimator):
    """Score prospects by how likely customers like them are to be high-value.

    Fitted on today's customers (their attributes, and their realised value
    or CLV), it labels the top ``top_share`` of customers by value as
    high-value and fits a logistic regression of that label on the
    attributes: text and categorical attributes one-hot, numeric ones
    standardised (non-negative ones, such as sizes and counts, as
    ``log(1 + x)``). A logistic regression gives calibrated probabilities on
    the training population and one readable coefficient per attribute
    value (:attr:`drivers_`), which is what a prospect list needs: who to
    approach, and why.

    Parameters
    ----------
    top_share : float, default=0.2
        Share of customers, by value, that counts as high-value.
    C : float, default=1.0
        Inverse L2 penalty of the regression (scikit-learn's meaning);
        smaller pulls rare attribute values towards the base rate.
    unknown : {"warn", "raise"}, default="warn"
        What prospects with attribute values never seen among the customers
        do: score them as the base for that attribute (one-hot columns all
        0) and warn, naming the values; or raise a ``SchemaError``.

    Attributes
    ----------
    attributes_ : list of str
        The attribute columns the model reads.
    threshold_ : float
        Least value that counts as high-value.
    base_rate_ : float
        Share of high-value customers (about ``top_share``; ties may add).
    drivers_ : pandas.DataFrame
        One row per attribute value (or numeric attribute): ``attribute``,
        ``value``, ``coefficient`` (log-odds; for an attribute value, against
        the average of that attribute's values, so an attribute without
        effect has coefficients near 0), ``odds_ratio``,
        ``customers`` and their observed ``high_value_rate``, strongest
        first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> customers = pd.DataFrame({"channel": rng.choice(["web", "store"], 3000)})
    >>> value = rng.gamma(2.0, 50.0, 3000) * np.where(customers["channel"] == "web", 3.0, 1.0)
    >>> model = LookalikeModel().fit(customers, value)
    >>> proba = model.predict_proba(pd.DataFrame({"channel": ["web", "store"]}))
    >>> bool(proba.iloc[0] > 2 * proba.iloc[1])
    True
    """

    top_share: float = 0.2
    C: float = 1.0
    unknown: Literal["warn", "raise"] = "warn"

    def _frame(self, X: Any, what: str) -> pd.DataFrame:
        X = as_customer_table(X, owner="LookalikeModel")
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(
                f"LookalikeModel expects {what} as a DataFrame of attributes, got "
                f"{type(X).__name__}",
                reason="not_a_dataframe",
            )
        if X.empty or X.shape[1] == 0:
            raise SchemaError(f"LookalikeModel got no {what} {X.shape}", reason="empty")
        return X

    def _encoder(self) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        return ColumnTransformer(
            [
                ("categories", OneHotEncoder(handle_unknown="ignore"), self.categorical_),
                ("numbers", StandardScaler(), self.numeric_),
            ],
            sparse_threshold=0.0,
        )

    def fit(self, X: Any, value: Any) -> LookalikeModel:
        """Learn which attributes high-value customers have.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer: the attributes a prospect also has
            (region, channel, industry, size...). Numeric and categorical or
            text columns; missing text values are a value of their own.
        value : array-like
            Each customer's realised value or CLV.

        Returns
        -------
        LookalikeModel
            The fitted model.

        Raises
        ------
        SchemaError
            For an empty table or bool columns.
        ValueError
            For a bad ``top_share`` or values that are missing or misaligned.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        if not 0 < self.top_share < 1:
            raise ValueError(f"top_share must be in (0, 1), got {self.top_share!r}")
        if self.unknown not in ("warn", "raise"):
            raise ValueError(f"unknown must be 'warn' or 'raise', got {self.unknown!r}")
        X = self._frame(X, "customers")
        v = np.asarray(value, dtype=np.float64)
        if v.shape != (len(X),) or not np.isfinite(v).all():
            raise ValueError(
                f"value needs one finite number per customer ({len(X)}), got shape {v.shape}"
            )
        self.attributes_ = [str(c) for c in X.columns]
        self.numeric_ = [
            c
            for c in self.attributes_
            if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
        ]
        self.categorical_ = [c for c in self.attributes_ if c not in self.numeric_]
        # Sizes and counts are skewed: a non-negative numeric attribute enters as log(1 + x).
        self.logged_ = [c for c in self.numeric_ if (X[c].dropna() >= 0).all()]
        self.threshold_ = float(np.quantile(v, 1 - self.top_share))
        label = (v >= self.threshold_) & (v > 0) if self.threshold_ <= 0 else v >= self.threshold_
        if label.all() or not label.any():
            raise ValueError(
                "every customer (or none) is high-value at this top_share: the values do not "
                "vary enough; check the value column"
            )
        self.base_rate_ = float(label.mean())
        self.categories_ = {
            c: set(X[c].astype(object).where(X[c].notna(), "(missing)")) for c in self.categorical_
        }
        design = self._design(X)
        self.pipeline_ = make_pipeline(
            self._encoder(), LogisticRegression(C=self.C, max_iter=1000)
        ).fit(design, label.astype(np.int64))
        self.drivers_ = self._drivers(design, label)
        return self

    def _design(self, X: pd.DataFrame) -> pd.DataFrame:
        design = X[self.attributes_].copy()
        for c in self.logged_:
            design[c] = np.log1p(np.maximum(design[c].to_numpy(dtype=np.float64), 0.0))
        for c in self.categorical_:
            design[c] = design[c].astype(object).where(design[c].notna(), "(missing)").astype(str)
        return design

    def _drivers(self, design: pd.DataFrame, label: np.ndarray) -> pd.DataFrame:
        encoder, regression = self.pipeline_[0], self.pipeline_[-1]
        coef = regression.coef_.ravel()
        rows = []
        position = 0
        one_hot = encoder.named_transformers_["categories"]
        for c, levels in zip(self.categorical_, getattr(one_hot, "categories_", []), strict=False):
            # One-hot coefficients are only defined up to a shift that the intercept absorbs:
            # centre them, so each value reads against the attribute's average value.
            block = coef[position : position + len(levels)]
            centred = block - block.mean()
            for level, effect in zip(levels, centred, strict=True):
                members = (design[c] == level).to_numpy()
                rows.append((c, str(level), effect, int(members.sum()), label[members]))
            position += len(levels)
        for c in self.numeric_:
            unit = "(per sd of log(1 + x))" if c in self.logged_ else "(per standard deviation)"
            rows.append((c, unit, coef[position], len(design), label))
            position += 1
        table = pd.DataFrame(
            {
                "attribute": [r[0] for r in rows],
                "value": [r[1] for r in rows],
                "coefficient": [r[2] for r in rows],
                "customers": [r[3] for r in rows],
                "high_value_rate": [float(r[4].mean()) if len(r[4]) else np.nan for r in rows],
            }
        )
        table["odds_ratio"] = np.exp(table["coefficient"])
        order = np.argsort(-np.abs(table["coefficient"].to_numpy()), kind="stable")
        return table.iloc[order].reset_index(drop=True)

    def predict_proba(self, X: Any) -> pd.Series:
        """Return each prospect's probability of becoming a high-value customer.

        Parameters
        ----------
        X : pandas.DataFrame
            Prospects with the attribute columns seen in ``fit`` (others are
            ignored).

        Returns
        -------
        pandas.Series
            Named ``p_high_value``, indexed like ``X``.

        Raises
        ------
        SchemaError
            When ``X`` lacks an attribute the model uses, or (with
            ``unknown="raise"``) holds values never seen among the customers.

        Warns
        -----
        DataQualityWarning
            With ``unknown="warn"``, naming values never seen in ``fit``.
        """
        check_is_fitted(self, "pipeline_")
        X = self._frame(X, "prospects")
        missing = [c for c in self.attributes_ if c not in X.columns]
        if missing:
            raise SchemaError(
                f"the prospects lack the attributes {missing} the model was fitted on "
                f"({self.attributes_}); add those columns, or fit the model on the attributes "
                "the prospects have",
                reason="missing_column",
            )
        design = self._design(X)
        unseen = {
            c: sorted(set(design[c]) - {str(v) for v in self.categories_[c]})[:5]
            for c in self.categorical_
        }
        unseen = {c: values for c, values in unseen.items() if values}
        if unseen:
            text = "; ".join(f"{c}: {values}" for c, values in unseen.items())
            message = (
                f"prospects have attribute values no customer has ({text}); they are scored as "
                "if that attribute were unknown"
            )
            if self.unknown == "raise":
                raise SchemaError(
                    message + "; map them to known values, or pass unknown='warn'",
                    reason="unseen_value",
                )
            warn(message, DataQualityWarning)
        proba = self.pipeline_.predict_proba(design)[:, 1]
        return pd.Series(proba, index=X.index, name="p_high_value")

    def lift_table(self, X: Any, value: Any, *, n_bins: int = 10) -> pd.DataFrame:
        """Tabulate gains and lift of the scores against realised high value (the lift chart).

        Parameters
        ----------
        X : pandas.DataFrame
            Customers held out of ``fit`` (or later prospects who became
            customers), with the attributes.
        value : array-like
            Their realised value; high-value means at least :attr:`threshold_`.
        n_bins : int, default=10
            Groups of equal size, best scores first.

        Returns
        -------
        pandas.DataFrame
            :func:`custintel.churn.gains_table` columns: ``customers``,
            ``positives`` (high-value), ``rate``, ``lift``,
            ``cumulative_share``, ``gain`` and ``cumulative_lift``.
        """
        proba = self.predict_proba(X)
        high = (np.asarray(value, dtype=np.float64) >= self.threshold_).astype(np.int64)
        return gains_table(high, proba.to_numpy(), n_bins=n_bins)
