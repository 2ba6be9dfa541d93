"""``ChurnClassifier``: calibrated churn probabilities from a churn feature table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from custintel._repr import EstimatesReprMixin
from custintel._threads import limited_threads as _limited_threads
from custintel._threads import n_threads
from custintel._validation import as_customer_table
from custintel.churn._export import FORMAT_VERSION, READER, export_estimator, import_estimator
from custintel.churn._stack import (
    BTYD_FEATURES,
    STACK_FEATURES,
    BTYDStack,
    LinearStack,
    signed_log1p,
)
from custintel.exceptions import SchemaError
from custintel.export import POSITIVE
from custintel.typing import CustomerFeatures

__all__ = [
    "CALIBRATION_SHARE",
    "HOLDOUT_CUSTOMERS",
    "STACK_FEATURES",
    "ChurnClassifier",
    "n_threads",
]

#: From this many training customers on, ``cv="auto"`` calibrates on one held-out split
#: instead of five cross-validation folds (see ``ChurnClassifier``).
HOLDOUT_CUSTOMERS = 50_000
#: Share of the training customers held out for the calibration when ``cv="holdout"``.
CALIBRATION_SHARE = 0.2
#: Folds of ``cv="auto"`` below ``HOLDOUT_CUSTOMERS``.
AUTO_FOLDS = 5
#: Hyperparameters added after format 1 was first written, with the value that
#: reproduces what exports without them were fitted with.
_LATER_HYPERPARAMETERS: dict[str, Any] = {"max_samples": None, "pos_label": None, "horizon": None}
#: Parameters that say how to run, not what was fitted: never exported.
_RUNTIME_PARAMETERS = ("n_jobs",)
#: The model kinds of ``ChurnClassifier(model=...)``.
MODELS = ("hgb", "logistic", "btyd_logistic")


def _signed_log1p(values: Any) -> Any:
    return signed_log1p(values)


def _json_label(value: Any) -> Any:
    """Return a class label as a JSON scalar (numpy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def _churn_label(classes: np.ndarray, pos_label: Any) -> Any:
    """Which of the two sorted ``classes`` means churn (see ``ChurnClassifier``)."""
    if pos_label is not None:
        matches = [
            c
            for c in classes
            if c == pos_label and isinstance(_json_label(c), bool) == isinstance(pos_label, bool)
        ]
        if not matches:
            raise ValueError(
                f"pos_label={pos_label!r} is not one of the labels in y, "
                f"{[_json_label(c) for c in classes]}; pass one of them (the label meaning churn)"
            )
        return matches[0]
    # 0/1 and False/True: 1 and True; any other pair: the second in sorted order
    return classes[1]


def _has_string_names(X: pd.DataFrame) -> bool:
    """Whether scikit-learn would take ``X.columns`` as feature names (all strings)."""
    return all(isinstance(c, str) for c in X.columns)


def _input_names(pipeline: Any, features: list[str], n: int) -> list[str]:
    """Name the ``n`` inputs of a pipeline's last step: its own names, the features, or x0..."""
    try:
        return [str(name) for name in pipeline[:-1].get_feature_names_out()]
    except (AttributeError, ValueError):  # a step without get_feature_names_out
        return features if len(features) == n else [f"x{i}" for i in range(n)]


@dataclass(kw_only=True, repr=False, eq=False)
class ChurnClassifier(EstimatesReprMixin, ClassifierMixin, BaseEstimator):
    """Predict calibrated churn probabilities from :func:`~custintel.features.make_churn_dataset`.

    Parameters
    ----------
    model : {"btyd_logistic", "hgb", "logistic"}, default="btyd_logistic"
        ``"btyd_logistic"`` (the default): logistic regression stacked on a
        BG/NBD model. A BG/NBD fitted on the training customers'
        ``frequency``, ``recency`` and ``T`` gives the logit of P(no purchase
        within ``horizon`` days), and the regression takes it with the signed
        log of ``STACK_FEATURES`` (days since the last purchase, orders,
        spend, tenure, recency over the usual gap; missing values filled with
        the training median). The BTYD part extrapolates to customers older
        than any in the training table, which the booster cannot; it needs the
        named churn features of :func:`~custintel.features.make_churn_dataset`
        and reads no other column (no spend trend, no category: see Notes).
        ``"hgb"``: scikit-learn's HistGradientBoostingClassifier on every
        column (handles missing values and categories natively); the default
        before the BTYD stack, with ``calibration="isotonic"``.
        ``"logistic"``: logistic regression on signed-log, median-imputed
        (with missing indicators), standardised numbers and one-hot
        categories.
    calibration : {"isotonic", "sigmoid"} or None, default=None
        Calibration of the probabilities (scikit-learn's
        CalibratedClassifierCV); None keeps the raw model, the choice for
        ``"btyd_logistic"`` (see Notes). With ``model="hgb"`` pass
        ``calibration="isotonic"``: the raw booster is not calibrated.
    cv : int, "holdout" or "auto", default="auto"
        How the calibration is fitted. An int ``k`` >= 2: ``k``-fold
        cross-validation, ``k`` models each calibrated on the fold it did not
        see, their probabilities averaged. ``"holdout"``: one model trained
        on a stratified random 80 % of the customers and calibrated on the
        other 20 % (``CALIBRATION_SHARE``): a fifth of the fits and of the
        scoring work. ``"auto"``: 5 folds below ``HOLDOUT_CUSTOMERS``
        (50,000) training customers, where every customer counts, and
        ``"holdout"`` from there on, where the held-out fifth calibrates as
        well as the folds do (see Notes).
    learning_rate, max_iter, max_leaf_nodes, min_samples_leaf, l2_regularization :
        HistGradientBoosting settings (``model="hgb"``).
    C : float, default=1.0
        Inverse regularisation strength (``model="logistic"`` and
        ``"btyd_logistic"``).
    min_customers : int, default=50
        Fewer training customers raise a ValueError.
    max_samples : int or None, default=100_000
        Most customers the model is trained on. A larger training table is
        cut to a stratified random sample of this many customers (churn rate
        kept), so the cost of ``fit`` stops growing with the customers.
        ``None`` trains on every customer.
    n_jobs : int or None, default=None
        Threads of the booster (OpenMP) and of BLAS in ``fit`` and in
        scoring, with scikit-learn's meaning: ``None`` is 1 unless inside a
        :func:`joblib.parallel_config` context, ``-1`` is every CPU. The
        limit holds only inside this estimator's calls. One thread is the
        default because on a 2-core machine with one other job running, two
        threads fitted and scored 156,000 customers 1.6 times slower than
        one (on an idle one, 1.6 times faster: pass ``n_jobs=-1`` on a
        dedicated machine). It says how to run, not what was fitted:
        :meth:`to_dict` leaves it out.
    random_state : int or None, default=0
        Seed of the boosting, the calibration split or folds, and the
        ``max_samples`` sample.
    pos_label : str, int, bool or None, default=None
        The label of ``y`` that means churn. ``None``: the second of the two
        labels in sorted order, as scikit-learn's metrics take it: 1 for
        0/1, True for booleans, ``"churned"`` for ``["active", "churned"]``,
        but ``"stay"`` for ``["churn", "stay"]``: pass ``pos_label="churn"``
        there.
    horizon : float or None, default=None
        Label window in days, used by ``model="btyd_logistic"`` only (the
        horizon of its P(no purchase)). ``None``: ``X.attrs["horizon"]``,
        which :func:`~custintel.features.make_churn_dataset` records.

    Attributes
    ----------
    estimator_ : estimator
        The fitted (calibrated) pipeline.
    classes_ : numpy.ndarray
        The two labels of ``y``, sorted; column ``j`` of :meth:`predict_proba`
        is the probability of ``classes_[j]``, and :meth:`predict` returns them.
    pos_label_ : object
        The label of ``classes_`` that means churn (see ``pos_label``);
        :meth:`predict_churn` is its probability.
    feature_names_in_ : numpy.ndarray
        Columns seen in ``fit``; only set when ``X`` was a DataFrame whose
        column names are all strings.
    categorical_features_ : list of str
        Columns treated as categories (pandas categorical, object or string).
        Columns without names (numpy input) are called ``x0`` ... ``x{n-1}``.
    n_features_in_ : int
        Number of columns.
    horizon_ : float
        The horizon ``model="btyd_logistic"`` was fitted for (only that model).

    Notes
    -----
    The default, ``model="btyd_logistic", calibration=None``, was chosen by
    the churn quality goal of ``benchmarks/bench_churn.py`` (out of time on
    three datasets: ROC AUC at least the best baseline's minus 0.003,
    top-decile lift at least the best baseline's minus 0.05, ECE of 10 bins
    at most 0.03; baselines logistic and HGB on log RFM features and BG/NBD
    P(no purchase)). AUC / lift / ECE on the goal pairs (CDNOW 1997-06-30 to
    1997-12-31, 181 days; Online Retail 2011-06-12 to 2011-09-10, 90 days;
    simulator 2023-12-31 to 2024-06-30, 180 days):

    ===========================  ===================  ===================  ===================
    model                        CDNOW                Online Retail        simulator
    ===========================  ===================  ===================  ===================
    btyd_logistic, none          0.8048/3.238/0.023   0.7424/1.553/0.094   0.8658/3.228/0.009
    hgb, isotonic 5 folds        0.8063/3.253/0.015   0.7369/1.581/0.091   0.8498/3.251/0.096
    best baseline (AUC / lift)   0.8032/3.214         0.7370/1.588         0.8655/3.236
    ===========================  ===================  ===================  ===================

    The stack meets 8 of the 9 criteria, the booster 6 (on the simulator, a
    BG/NBD process, the booster cannot extrapolate ``T`` and tenure to
    customers older than any it was trained on). The ninth, Online Retail's
    ECE, is a base-rate shift: the churn rate falls from 52% (labels June to
    September) to 43% (September to December, the Christmas season); shifting
    the intercept to the observed rate (an oracle) gives 0.017, and nothing
    known at the test cut-off predicts the shift (BG/NBD expects 0.543).
    Without calibration was the choice of the earlier "inner" pairs of
    cut-offs (CDNOW 1997-03-31 to 06-30, Online Retail 2011-03-14 to 06-12,
    simulator 2023-06-30 to 12-31; mean inner ECE 0.054, sigmoid 0.072,
    isotonic on 5 folds 0.103). Fitting and scoring CDNOW take 0.23 CPU s
    against about 2 s for the booster's 5 calibration folds. CDNOW's AUC is
    0.0015 below the booster's.

    What the stack cannot see: it reads only ``frequency``, ``recency``,
    ``T`` and ``STACK_FEATURES``, so a customer who keeps buying but spends
    less (or a category effect) moves its score only through the totals. On
    a simulated log with planted causes (``tests/churn/test_explain.py``) it
    predicted customers whose spend fell to a quarter at 0.38 on average
    (all of them churned), the booster at 0.98. Where such signals matter,
    compare ``model="hgb", calibration="isotonic"`` in a backtest.

    Calibration of ``model="hgb"``: ``cv="auto"`` uses 5 folds below
    ``HOLDOUT_CUSTOMERS`` (50,000) training customers and one held-out fifth
    above, measured on simulated logs (``benchmarks/bench_churn_speed.py
    options``): with 52,000 and 156,000 training customers, the held-out
    calibration fits 4.4 and 5.2 times faster and scores 4.3 and 6.4 times
    faster than 5 folds, with an out-of-time AUC 0.0018 and 0.0013 *higher*
    (the folds of ``CalibratedClassifierCV`` are not shuffled, so on a table
    sorted by customer id they cut across acquisition cohorts). Training on a
    sample of 100,000 of the 156,000 customers (``max_samples``) cost 0.0002
    AUC. On CDNOW (23,570 customers) one held-out fifth lost 0.0016 AUC and
    0.003 Brier against 5 folds. The booster's calibration was chosen out of
    time as well (ECE inner / goal, same pairs as above):

    ======================  ===========  =============  ===========
    calibration of hgb      CDNOW        Online Retail  simulator
    ======================  ===========  =============  ===========
    isotonic, 5 folds       0.068/0.015  0.100/0.087    0.071/0.096
    isotonic, held out 1/5  0.018/0.053  0.080/0.084    0.056/0.020
    sigmoid, 5 folds        0.047/0.021  0.102/0.085    0.270/0.110
    sigmoid, held out 1/5   0.032/0.055  0.079/0.081    0.072/0.025
    none                    0.027/0.032  0.097/0.094    0.034/0.020
    ======================  ===========  =============  ===========

    No method is best on every dataset for the booster, hence isotonic on 5
    folds (the selection is reproduced by ``backtest_tables`` with
    ``calibration`` varied).

    ``X`` is a DataFrame of churn features or any 2-D array-like of numbers
    (so the classifier can follow a numpy-output step in a Pipeline). Missing
    values are allowed, infinities are not. Fitted on a DataFrame, it selects
    the fitted columns by name from a DataFrame (in any order; a missing one
    raises SchemaError) and takes other input by position, with scikit-learn's
    "does not have valid feature names" warning. Fitted on an array, it takes
    every input by position (a DataFrame gives scikit-learn's "has feature
    names" warning); ``model="btyd_logistic"`` needs named churn features, so
    arrays suit ``"hgb"`` and ``"logistic"`` only. Labels: any two values
    (see ``pos_label``).

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> from custintel.features import make_churn_dataset
    >>> tx = make_transactions(500, random_state=0).transactions
    >>> X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    >>> clf = ChurnClassifier().fit(X, y)
    >>> proba = clf.predict_churn(X)
    >>> bool(proba.between(0, 1).all()), proba.index.name
    (True, 'customer_id')
    """

    model: str = "btyd_logistic"
    calibration: str | None = None
    cv: int | str = "auto"
    learning_rate: float = 0.05
    max_iter: int = 200
    max_leaf_nodes: int = 7
    min_samples_leaf: int = 200
    l2_regularization: float = 1.0
    C: float = 1.0
    min_customers: int = 50
    max_samples: int | None = 100_000
    n_jobs: int | None = None
    random_state: int | None = 0
    pos_label: Any = None
    horizon: float | None = None

    def _frame(self, X: Any) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"X must be a pandas DataFrame of churn features, got {type(X).__name__}; "
                "build it with custintel.features.make_churn_dataset"
            )
        dates = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
        if dates:
            raise ValueError(f"X has date columns {dates}; drop them or turn them into numbers")
        return X

    def _names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(c) for c in names]
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _positional(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """Validate X taken by position (an array, or a DataFrame scored by position)."""
        if isinstance(X, pd.DataFrame):
            # scikit-learn's feature-name and n_features checks (and warnings) only
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[1] == 0 or X.shape[0] == 0:
                raise ValueError(f"X has shape {X.shape}; it needs at least one row and column")
            return self._frame(X.set_axis(self._names(), axis=1))
        numeric = reset or not getattr(self, "categorical_features_", [])
        array = validate_data(
            self,
            X,
            reset=reset,
            dtype="numeric" if numeric else None,
            ensure_all_finite="allow-nan",
        )
        frame = pd.DataFrame(array, columns=self._names())
        return frame if numeric else frame.infer_objects()

    def _pipeline(
        self, categorical: list[str], numeric: list[str], horizon: float | None = None
    ) -> Pipeline:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.model == "hgb":
            encode = ColumnTransformer(
                [
                    (
                        "cat",
                        OrdinalEncoder(
                            handle_unknown="use_encoded_value",
                            unknown_value=np.nan,
                            encoded_missing_value=np.nan,
                        ),
                        categorical,
                    ),
                    ("num", "passthrough", numeric),
                ]
            )
            boost = HistGradientBoostingClassifier(
                learning_rate=self.learning_rate,
                max_iter=self.max_iter,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                categorical_features=list(range(len(categorical))) or None,
                random_state=self.random_state,
            )
            return make_pipeline(encode, boost)
        if self.model == "logistic":
            numbers = make_pipeline(
                FunctionTransformer(_signed_log1p),
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler(),
            )
            encode = ColumnTransformer(
                [
                    ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ("num", numbers, numeric),
                ]
            )
            return make_pipeline(encode, LogisticRegression(C=self.C, max_iter=2000))
        if self.model == "btyd_logistic":
            if horizon is None:
                raise ValueError("model='btyd_logistic' needs a horizon (see ChurnClassifier)")
            return make_pipeline(
                BTYDStack(horizon=horizon),
                StandardScaler(),
                LogisticRegression(C=self.C, max_iter=2000),
            )
        raise AssertionError(self.model)  # pragma: no cover (checked above)

    def fit(self, X: CustomerFeatures, y: Any) -> ChurnClassifier:
        """Fit the model and its calibration.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_customers, n_features)
            Churn features, one row per customer.
        y : array-like of two labels
            Churn labels: 0/1 (1 = churned), booleans or any other two
            values (see ``pos_label``).

        Returns
        -------
        ChurnClassifier
            The fitted classifier.
        """
        X = as_customer_table(X, owner="ChurnClassifier")
        if isinstance(X, pd.DataFrame) and _has_string_names(X):
            X = self._frame(X)
            validate_data(self, X, skip_check_array=True, reset=True)
        else:
            X = self._positional(X, reset=True)
        if y is None:
            raise ValueError(
                "ChurnClassifier requires y to be passed, but the target y is None; "
                "pass the 0/1 churn labels from make_churn_dataset"
            )
        target = column_or_1d(y, warn=True)
        if target.size != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {target.size}; pass one label per row")
        check_classification_targets(target)
        kind = type_of_target(target, input_name="y")
        if kind != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {kind!r}; "
                "y must hold two labels (0 and 1 from make_churn_dataset, 1 = churned)"
            )
        classes = np.unique(target)
        if classes.size == 2:
            churn = _churn_label(classes, self.pos_label)
            target = (target == churn).astype(np.int64)
        else:
            churn = None  # one class only: refused below with the counts
            target = np.zeros(target.size, dtype=np.int64)
        if len(X) < self.min_customers:
            raise ValueError(
                f"only {len(X)} customers to train on (min_customers={self.min_customers}); "
                "use an earlier cutoff or more data"
            )
        counts = np.bincount(target, minlength=2)
        if churn is None:
            raise ValueError(
                f"the labels hold one class only: all {len(X)} customers are "
                f"{_json_label(classes[0])!r}; change the cutoff or horizon so both outcomes occur"
            )
        if self.calibration not in (None, "isotonic", "sigmoid"):
            raise ValueError(
                f"calibration must be 'isotonic', 'sigmoid' or None, got {self.calibration!r}"
            )
        n_threads(self.n_jobs)  # check it before any work
        horizon = self._horizon(X)
        rows = self._sample(target)
        if rows is not None:
            X, target = X.iloc[rows], target[rows]
            counts = np.bincount(target, minlength=2)
        folds = self._folds(len(X))
        needed = 2 if folds == "holdout" else folds
        if self.calibration is not None and counts.min() < needed:
            raise ValueError(
                f"only {counts.min()} customers of the rarer class; calibration with "
                f"cv={folds!r} needs at least {needed}; lower cv or pass calibration=None"
            )
        categorical = [
            c
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(X[c])
            or pd.api.types.is_string_dtype(X[c])
        ]
        numeric = [c for c in X.columns if c not in categorical]
        pipeline = self._pipeline(categorical, numeric, horizon)
        if self.calibration is None:
            estimator: Any = pipeline
        else:
            split: Any = folds
            if folds == "holdout":
                split = StratifiedShuffleSplit(
                    n_splits=1, test_size=CALIBRATION_SHARE, random_state=self.random_state
                )
            estimator = CalibratedClassifierCV(pipeline, method=self.calibration, cv=split)
        with _limited_threads(self.n_jobs):
            self.estimator_ = estimator.fit(X, target)
        self.classes_ = classes
        self.pos_label_ = churn
        self.categorical_features_ = categorical
        if horizon is not None:
            self.horizon_ = horizon
        return self

    def _horizon(self, X: pd.DataFrame) -> float | None:
        """Return the label window in days of ``model="btyd_logistic"``; None for the others."""
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.model != "btyd_logistic":
            return None
        horizon = self.horizon if self.horizon is not None else X.attrs.get("horizon")
        if horizon is None:
            raise ValueError(
                "model='btyd_logistic' needs the label window in days: pass horizon=... "
                "or fit on X from make_churn_dataset, which records it in X.attrs['horizon']"
            )
        if isinstance(horizon, bool) or not isinstance(horizon, (int, float, np.number)):
            raise ValueError(f"horizon must be a number of days > 0, got {horizon!r}")
        if not np.isfinite(horizon) or horizon <= 0:
            raise ValueError(f"horizon must be a number of days > 0, got {horizon!r}")
        return float(horizon)

    def _folds(self, n_rows: int) -> int | str:
        """Resolve ``cv``: a number of folds, or ``"holdout"``."""
        cv = self.cv
        if cv == "auto":
            return "holdout" if n_rows >= HOLDOUT_CUSTOMERS else AUTO_FOLDS
        if cv == "holdout":
            return "holdout"
        if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
            raise ValueError(f"cv must be an int >= 2, 'holdout' or 'auto', got {cv!r}")
        return int(cv)

    def _sample(self, target: np.ndarray) -> np.ndarray | None:
        """Rows of the stratified ``max_samples`` sample (sorted), or None to keep every row."""
        cap = self.max_samples
        if cap is None:
            return None
        if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1:
            raise ValueError(f"max_samples must be None or a whole number >= 1, got {cap!r}")
        if len(target) <= cap:
            return None
        if cap < self.min_customers:
            raise ValueError(
                f"max_samples={cap} is below min_customers={self.min_customers}; raise it"
            )
        split = StratifiedShuffleSplit(
            n_splits=1, train_size=int(cap), random_state=self.random_state
        )
        rows, _ = next(split.split(np.zeros((len(target), 1)), target))
        return np.sort(rows)

    def __sklearn_tags__(self) -> Any:
        """Declare missing values allowed and binary labels only."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
        return tags

    def _checked(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "estimator_")
        if not (
            hasattr(self, "feature_names_in_")
            and isinstance(X, pd.DataFrame)
            and _has_string_names(X)
        ):
            return self._positional(X, reset=False)
        X = self._frame(X)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise SchemaError(
                f"X lacks columns {missing} seen in fit; build train and score tables with the "
                "same make_churn_dataset options",
                reason="missing_column",
            )
        return X[list(self.feature_names_in_)]

    def predict_proba(self, X: CustomerFeatures) -> np.ndarray:
        """Predict calibrated class probabilities.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_customers, n_features)
            Churn features with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_customers, 2)
            Column ``j`` is the probability of ``classes_[j]``; with 0/1
            labels column 1 is P(churn).
        """
        X = as_customer_table(X, owner="ChurnClassifier")
        X = self._checked(X)
        with _limited_threads(self.n_jobs):
            # the model is fitted on churn = 1; put the columns in the order of classes_
            proba = np.asarray(self.estimator_.predict_proba(X))
        return proba if self._churn_column() == 1 else proba[:, ::-1]

    def _churn_column(self) -> int:
        """Column of P(churn) in :meth:`predict_proba`: where ``pos_label_`` is in ``classes_``."""
        return 1 if self.classes_[1] == self.pos_label_ else 0

    def predict(self, X: CustomerFeatures) -> np.ndarray:
        """Predict the churn label (``pos_label_``) where P(churn) >= 0.5, else the other.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_customers, n_features)
            Churn features.

        Returns
        -------
        numpy.ndarray
            One label of ``classes_`` per customer (0 or 1 for 0/1 labels).
        """
        X = as_customer_table(X, owner="ChurnClassifier")
        proba = self.predict_proba(X)  # first: an unfitted classifier raises NotFittedError
        column = self._churn_column()
        churned = proba[:, column] >= 0.5
        return self.classes_[np.where(churned, column, 1 - column)]

    def predict_churn(self, X: CustomerFeatures) -> pd.Series:
        """Predict P(churn) per customer.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_customers, n_features)
            Churn features, indexed by ``customer_id``.

        Returns
        -------
        pandas.Series
            ``p_churn``, the probability of ``pos_label_``, indexed like ``X``
            (a RangeIndex for arrays).
        """
        X = as_customer_table(X, owner="ChurnClassifier")
        index = X.index if isinstance(X, pd.DataFrame) else None
        churn = self.predict_proba(X)[:, self._churn_column()]
        return pd.Series(churn, index=index, name="p_churn")

    def _raw_pipelines(self) -> list[Any]:
        """Return the fitted, uncalibrated pipelines whose P(churn) the classifier averages.

        Each is fitted on 0/1 targets with 1 = churn (whatever ``classes_``
        are), which is what :func:`~custintel.churn.explain_churn` reads.
        """
        check_is_fitted(self, "estimator_")
        if hasattr(self.estimator_, "calibrated_classifiers_"):
            return [fold.estimator for fold in self.estimator_.calibrated_classifiers_]
        if hasattr(self.estimator_, "members"):  # rebuilt with from_dict: exported models
            return [
                member.export["booster"] if member.stack is None else member.stack
                for member in self.estimator_.members
            ]
        return [self.estimator_]

    def _estimates_tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables the notebook display shows under the parameters."""
        if not hasattr(self, "estimator_"):
            return {}
        members = self._raw_pipelines()
        facts = {
            "model": self.model,
            "churn label": self.pos_label_,
            "classes": ", ".join(str(c) for c in self.classes_),
            "features": self.n_features_in_,
            "models averaged": len(members),
        }
        if getattr(self, "horizon_", None) is not None:
            facts["label window (days)"] = self.horizon_
        tables = {"fit": pd.DataFrame({"value": [str(v) for v in facts.values()]}, index=facts)}
        first = members[0]
        if hasattr(first, "steps") and isinstance(first.steps[0][1], BTYDStack):
            first = LinearStack.of(first)
        if isinstance(first, LinearStack):
            tables["logistic regression on standardised inputs (first model)"] = pd.DataFrame(
                {"coefficient": [*first.coef, first.intercept]},
                index=[*LinearStack.columns, "intercept"],
            )
            tables["BG/NBD inside the stack (weeks)"] = first.btyd.summary()[["estimate", "se"]]
        elif hasattr(first, "steps") and hasattr(first.steps[-1][1], "coef_"):
            regression = first.steps[-1][1]
            names = _input_names(first, self._names(), np.ravel(regression.coef_).size)
            tables["logistic regression (first model)"] = pd.DataFrame(
                {"coefficient": [*np.ravel(regression.coef_), float(regression.intercept_[0])]},
                index=[*map(str, names), "intercept"],
            )
        elif hasattr(first, "steps") and hasattr(first.steps[-1][1], "n_iter_"):
            booster = first.steps[-1][1]
            tables["gradient boosting (first model)"] = pd.DataFrame(
                {"value": [str(booster.n_iter_), str(booster.max_leaf_nodes)]},
                index=["boosting iterations", "max leaves per tree"],
            )
        return tables

    def explain(self, X: CustomerFeatures, *, top: int = 3) -> pd.DataFrame:
        """Name, for each customer, the features that push their churn risk up most.

        Parameters
        ----------
        X : pandas.DataFrame
            Churn features with the columns seen in ``fit``, indexed by
            ``customer_id``.
        top : int, default=3
            Most reasons per customer.

        Returns
        -------
        pandas.DataFrame
            ``feature_k``, ``reason_k`` (plain words) and ``contribution_k``
            for ``k`` = 1 .. ``top``; see :func:`~custintel.churn.explain_churn`.

        Examples
        --------
        >>> from custintel.datasets import make_transactions
        >>> from custintel.features import make_churn_dataset
        >>> tx = make_transactions(500, random_state=0).transactions
        >>> X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
        >>> reasons = ChurnClassifier().fit(X, y).explain(X, top=1)
        >>> list(reasons.columns)
        ['feature_1', 'reason_1', 'contribution_1']
        """
        X = as_customer_table(X, owner="ChurnClassifier")
        from custintel.churn._explain import explain_churn

        return explain_churn(self, X, top=top)

    def to_dict(self) -> dict[str, Any]:
        """Export the fitted classifier as plain JSON-serialisable data.

        The export holds, for ``model="btyd_logistic"``, the BG/NBD
        parameters, horizon, medians, scaler and coefficients of the stacked
        regression; for ``model="hgb"``, the category codes and every boosted
        tree (columnar node arrays); and each calibration fold's map, so that
        :meth:`from_dict` rebuilds a classifier that predicts exactly the same
        probabilities without unpickling anything. The formula is documented
        in ``custintel.churn._export`` and in the guarantees page, for systems
        that score in another language.

        Returns
        -------
        dict
            ``model``, ``format_version``, ``hyperparameters``,
            ``feature_names``, ``named_features``, ``categorical_features``,
            ``classes`` (the two labels, sorted), ``churn_label`` (the one
            whose probability the members give) and ``members`` (one per
            calibration fold).

        Raises
        ------
        ValueError
            For ``model="logistic"``, which has no JSON export yet.
        """
        check_is_fitted(self, "estimator_")
        if self.model not in ("hgb", "btyd_logistic"):
            raise ValueError(
                "to_dict exports only ChurnClassifier(model='hgb') and model='btyd_logistic'; "
                f"model={self.model!r} has no JSON export yet (pickle it with joblib, or fit "
                "the default model)"
            )
        return {
            "model": "ChurnClassifier",
            "format_version": FORMAT_VERSION,
            "hyperparameters": {
                k: v for k, v in self.get_params().items() if k not in _RUNTIME_PARAMETERS
            },
            "feature_names": self._names(),
            "named_features": hasattr(self, "feature_names_in_"),
            "categorical_features": [str(c) for c in self.categorical_features_],
            "classes": [_json_label(c) for c in self.classes_],
            "churn_label": _json_label(self.pos_label_),
            "members": export_estimator(self.estimator_),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> ChurnClassifier:
        """Rebuild a fitted classifier from :meth:`to_dict` output (or its JSON text).

        Every field is checked (names, types, finiteness, tree indices) before
        anything is scored, so a hostile export is refused instead of crashing
        the process.

        Parameters
        ----------
        data : dict or str
            The exported classifier.

        Returns
        -------
        ChurnClassifier
            Predicts the same probabilities as the exported one.

        Raises
        ------
        InvalidModelError
            When the export is malformed, with a ``reason`` (see
            :mod:`custintel.export`): ``"wrong_model"`` (not a ChurnClassifier
            export), ``"bad_format_version"``, ``"missing_field"``,
            ``"unknown_field"`` or ``"bad_parameter"`` (a value of the wrong
            type or out of range, down to every tree index).

        Examples
        --------
        >>> import json
        >>> from custintel.datasets import make_transactions
        >>> from custintel.features import make_churn_dataset
        >>> tx = make_transactions(500, random_state=0).transactions
        >>> X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
        >>> clf = ChurnClassifier().fit(X, y)
        >>> again = ChurnClassifier.from_dict(json.loads(json.dumps(clf.to_dict())))
        >>> bool((again.predict_proba(X) == clf.predict_proba(X)).all())
        True
        """
        data = READER.envelope(
            data,
            model="ChurnClassifier",
            versions=(FORMAT_VERSION,),
            required=(
                "hyperparameters",
                "feature_names",
                "named_features",
                "categorical_features",
                "members",
            ),
            # exports written before string labels have neither: 0/1 labels, 1 = churn
            optional=("classes", "churn_label"),
        )
        model = cls._from_hyperparameters(data["hyperparameters"])
        names = READER.strings(data["feature_names"], "feature_names")
        if not names or len(set(names)) != len(names):
            READER.reject("feature_names", names, "a non-empty list of distinct strings")
        categorical = READER.strings(data["categorical_features"], "categorical_features")
        if not set(categorical) <= set(names):
            READER.reject("categorical_features", categorical, f"a list of feature names {names}")
        named = READER.boolean(data["named_features"], "named_features")
        positional = [f"x{i}" for i in range(len(names))]
        if not named and names != positional:
            # Fitted without names, the columns are x0, x1, ... and scored by position.
            READER.reject("named_features", named, "true, since feature_names are not x0, x1, ...")
        model.estimator_ = import_estimator(
            data["members"], names, calibration=model.calibration, model=model.model
        )
        stack = model.estimator_.members[0].stack
        if stack is not None:
            model.horizon_ = stack.horizon
        if named:
            model.feature_names_in_ = np.asarray(names, dtype=object)
        model.n_features_in_ = len(names)
        model.categorical_features_ = list(categorical)
        model.classes_, model.pos_label_ = _labels(data.get("classes"), data.get("churn_label"))
        return model

    @classmethod
    def _from_hyperparameters(cls, value: Any) -> ChurnClassifier:
        """Build an unfitted classifier from exported hyperparameters, checking each."""
        defaults = {k: v for k, v in cls().get_params().items() if k not in _RUNTIME_PARAMETERS}
        later = [k for k in defaults if k in _LATER_HYPERPARAMETERS]
        hyperparameters = dict(
            READER.keys(
                value,
                "hyperparameters",
                required=[k for k in defaults if k not in later],
                optional=later,
                where="hyperparameter",
            )
        )
        for name in later:
            hyperparameters.setdefault(name, _LATER_HYPERPARAMETERS[name])
        for name in defaults:
            given = hyperparameters[name]
            field, label = f"hyperparameters.{name}", f"hyperparameter {name!r}"
            if given is None and name in ("calibration", "random_state", "max_samples", "horizon"):
                continue
            if name == "pos_label":
                if given is not None and not _is_label(given):
                    READER.reject(field, given, "null, a string, a number or a bool", label=label)
                continue
            if name == "cv":
                valid = given in ("auto", "holdout") or (type(given) is int and given >= 2)
                if not valid:
                    READER.reject(field, given, "'auto', 'holdout' or an int >= 2", label=label)
            elif name == "horizon":
                READER.number(given, field, POSITIVE, label=label)
            elif name not in ("model", "calibration"):
                READER.number(given, field, label=label)
            elif not isinstance(given, str):
                READER.reject(field, given, "a string", label=label)
        if hyperparameters["model"] not in ("hgb", "btyd_logistic") or hyperparameters[
            "calibration"
        ] not in (None, "isotonic", "sigmoid"):
            READER.fail(
                "only model='hgb' or 'btyd_logistic' with calibration 'isotonic', 'sigmoid' or "
                "None is supported, "
                f"got model={hyperparameters['model']!r}, "
                f"calibration={hyperparameters['calibration']!r}"
            )
        return cls(**hyperparameters)

    def permutation_importance(
        self,
        X: CustomerFeatures,
        y: Any,
        *,
        scoring: str = "roc_auc",
        n_repeats: int = 5,
        random_state: int | None = 0,
    ) -> pd.DataFrame:
        """Compute global feature importance by permutation.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_customers, n_features)
            Churn features, ideally held out (a later cutoff).
        y : array-like of {0, 1}
            Labels of ``X``.
        scoring : str, default="roc_auc"
            scikit-learn scorer name.
        n_repeats : int, default=5
            Shuffles per feature.
        random_state : int or None, default=0
            Seed of the shuffles.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``feature``, with ``importance_mean`` and
            ``importance_std`` (drop in the score when the feature is
            shuffled), most important first. For ``model="btyd_logistic"``,
            ``frequency``, ``recency`` and ``T`` are shuffled together (apart,
            they describe impossible customers) and share one importance;
            features it does not read have importance 0.
        """
        X = self._checked(X)
        if self.model == "btyd_logistic":
            return self._grouped_importance(X, y, scoring, n_repeats, random_state)
        # fitted without names, the classifier takes arrays without the feature-name warning
        data = X if hasattr(self, "feature_names_in_") else X.to_numpy()
        result = permutation_importance(
            self,
            data,
            np.asarray(y).ravel(),
            scoring=scoring,
            n_repeats=n_repeats,
            random_state=random_state,
        )
        table = pd.DataFrame(
            {"importance_mean": result.importances_mean, "importance_std": result.importances_std},
            index=pd.Index(self._names(), name="feature"),
        )
        return table.sort_values("importance_mean", ascending=False)

    def _grouped_importance(
        self, X: pd.DataFrame, y: Any, scoring: str, n_repeats: int, random_state: int | None
    ) -> pd.DataFrame:
        """Permutation importance of ``model="btyd_logistic"``.

        ``frequency``, ``recency`` and ``T`` are one customer's purchase history:
        shuffled one at a time they describe impossible customers (a repeat
        purchase after the end of observation), which the BG/NBD refuses. They
        are shuffled together, and share that importance. Features the model
        does not read have importance 0.
        """
        from sklearn.metrics import check_scoring

        scorer = check_scoring(self, scoring=scoring)
        target = np.asarray(y).ravel()
        rng = np.random.RandomState(random_state)
        baseline = float(scorer(self, X, target))
        groups = [list(BTYD_FEATURES), *[[name] for name in STACK_FEATURES]]
        drops: dict[str, np.ndarray] = {}
        for group in groups:
            scores = np.empty(n_repeats)
            for r in range(n_repeats):
                shuffled = X.copy()
                order = rng.permutation(len(X))
                for column in group:
                    shuffled[column] = X[column].to_numpy()[order]
                scores[r] = scorer(self, shuffled, target)
            for column in group:
                drops[column] = baseline - scores
        names = self._names()
        zero = np.zeros(n_repeats)
        table = pd.DataFrame(
            {
                "importance_mean": [float(drops.get(c, zero).mean()) for c in names],
                "importance_std": [float(drops.get(c, zero).std()) for c in names],
            },
            index=pd.Index(names, name="feature"),
        )
        return table.sort_values("importance_mean", ascending=False, kind="stable")


def _is_label(value: Any) -> bool:
    """Whether an exported label is a JSON scalar a class label can be: str, bool or number."""
    if isinstance(value, float):
        return bool(np.isfinite(value))
    return isinstance(value, (str, int))


def _labels(classes: Any, churn: Any) -> tuple[np.ndarray, Any]:
    """Check the exported ``classes`` and ``churn_label``; ``None`` for both is 0/1, 1 = churn."""
    if classes is None and churn is None:
        return np.array([0, 1]), 1
    items = READER.array(classes, "classes", length=2)
    for i, item in enumerate(items):
        if not _is_label(item):
            READER.reject(f"classes[{i}]", item, "a string, a number or a bool")
    if type(items[0]) is not type(items[1]) or not items[0] < items[1]:
        READER.reject("classes", items, "two distinct labels of one type, in sorted order")
    if not any(type(churn) is type(c) and churn == c for c in items):
        READER.reject("churn_label", churn, f"one of classes {items}")
    values = np.array(items, dtype=object) if isinstance(items[0], str) else np.array(items)
    return values, values[items.index(churn)]
