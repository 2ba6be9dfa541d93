"""``CustomerSegmenter``: behavioural clusters on log-scaled customer features."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from custintel._threads import limited_threads, n_threads
from custintel._validation import as_customer_table
from custintel.exceptions import SchemaError
from custintel.segmentation._checks import Segmenter, customer_columns
from custintel.typing import CustomerTable

__all__ = ["CustomerSegmenter"]

logger = logging.getLogger("custintel")

# Words for a cluster whose mean standardised feature is below / above +-0.5
# ("very" beyond +-1.25 standard deviations).
_WORDS = {
    "days_since_last": ("recent", "lapsed"),
    "n_orders": ("one-off", "frequent"),
    "frequency": ("one-off", "frequent"),
    "total_amount": ("low-spend", "high-spend"),
    "monetary_value": ("low-basket", "high-basket"),
    "total_margin": ("low-margin", "high-margin"),
    "tenure_days": ("new", "long-standing"),
    "gap_mean_days": ("short-cycle", "long-cycle"),
}


@dataclass(kw_only=True, repr=False, eq=False)
class CustomerSegmenter(Segmenter):
    r"""Cluster customers on log-transformed, standardised behavioural features.

    Parameters
    ----------
    features : tuple of str, default=("days_since_last", "n_orders", "total_amount")
        Columns of the customer table to cluster on.
    method : {"kmeans", "gmm"}, default="kmeans"
        :class:`~sklearn.cluster.KMeans` or a full-covariance
        :class:`~sklearn.mixture.GaussianMixture`.
    n_clusters : int or "auto", default="auto"
        Number of segments, or "auto" for the explained-variance rule below.
    max_clusters : int, default=10
        Largest k tried by "auto".
    min_gain : float, default=0.05
        "auto" keeps adding a cluster while it explains at least this share
        of the total variance more.
    min_share : float, default=0.05
        "auto" rejects a k with a segment smaller than this share of customers.
    revenue : str, default="total_amount"
        Column used for the revenue share of :attr:`profile_` (skipped when absent).
    random_state : int or None, default=0
        Seed of the clustering.
    n_jobs : int or None, default=None
        Threads of the clustering (scikit-learn's meaning: ``None`` is one
        thread unless a :func:`joblib.parallel_config` block says otherwise,
        ``-1`` every CPU). The result does not depend on it.

    Attributes
    ----------
    n_clusters_ : int
        Number of segments.
    k_scores_ : pandas.DataFrame
        For "auto": per k, ``explained_variance`` (between-segment share of
        the total sum of squares), ``gain`` over k - 1 and ``min_share``.
    profile_ : pandas.DataFrame
        Per segment: ``label``, ``customers``, ``customer_share``,
        ``revenue_share`` and the mean of each feature (original units).
    labels_ : tuple of str
        Readable label of each cluster, e.g. "recent, frequent, high-spend".
    model_ : KMeans or GaussianMixture
        The fitted clustering.

    Notes
    -----
    Each feature :math:`x` is mapped to :math:`\log(1 + \max(x, 0))` and then
    standardised (negative net spend counts as 0). On CDNOW's log-RFM,
    silhouette, Calinski-Harabasz and Davies-Bouldin all prefer k = 2, and
    the GMM's BIC keeps falling as k grows, so neither gives useful segments.
    "auto" instead picks the largest k such that each extra cluster up to k
    explains at least ``min_gain`` of the variance and no segment is smaller
    than ``min_share``: on CDNOW (calibration to 1997-12-31) the explained
    variance is 0.577, 0.702, 0.758, 0.803 for k = 2..5 (gains 0.125, 0.056,
    0.045), so k = 4, with the smallest segment 10 % of customers. Its
    segments separate next-period churn with a held-out AUC of 0.788 against
    0.741 for k = 2 (see the segmentation guide).

    Identical customers (zero variance) and a single customer give one
    segment under "auto"; a fixed ``n_clusters`` above the number of distinct
    customers raises :class:`~custintel.exceptions.SchemaError`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"days_since_last": [1, 2, 3, 300, 320, 310],
    ...                   "n_orders": [9, 8, 10, 1, 1, 1],
    ...                   "total_amount": [500.0, 450, 520, 20, 15, 25]},
    ...                  index=pd.Index(list("abcdef"), name="customer_id"))
    >>> seg = CustomerSegmenter(n_clusters=2).fit(X)
    >>> seg.transform(X)["segment"].astype(str).tolist()[2:4]
    ['recent, frequent, high-spend', 'lapsed, one-off, low-spend']
    """

    output_columns: ClassVar[tuple[str, ...]] = ("cluster", "segment")

    features: tuple[str, ...] = ("days_since_last", "n_orders", "total_amount")
    method: str = "kmeans"
    n_clusters: int | str = "auto"
    max_clusters: int = 10
    min_gain: float = 0.05
    min_share: float = 0.05
    revenue: str = "total_amount"
    random_state: int | None = 0
    n_jobs: int | None = None

    def _model(self, k: int) -> Any:
        if self.method == "kmeans":
            return KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
        return GaussianMixture(n_components=k, n_init=3, random_state=self.random_state)

    def _scaled(self, X: Any, min_rows: int) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        raw, index = customer_columns(
            X, list(self.features), owner="CustomerSegmenter", min_rows=min_rows
        )
        return raw, np.log1p(np.maximum(raw, 0.0)), index

    def fit(self, X: CustomerTable, y: Any = None) -> CustomerSegmenter:
        """Choose k, cluster the customers and profile the segments.

        Parameters
        ----------
        X : pandas.DataFrame
            Output of :func:`~custintel.features.summarize_customers`.
        y : None
            Ignored.

        Returns
        -------
        CustomerSegmenter
            The fitted segmenter.

        Raises
        ------
        ValueError
            For bad arguments.
        SchemaError
            For fewer customers than clusters, NaN features, or fewer distinct
            customers than a fixed ``n_clusters``.
        """
        if self.method not in ("kmeans", "gmm"):
            raise ValueError(f"method must be 'kmeans' or 'gmm', got {self.method!r}")
        auto = isinstance(self.n_clusters, str)
        if auto and self.n_clusters != "auto":
            raise ValueError(f"n_clusters must be an int >= 1 or 'auto', got {self.n_clusters!r}")
        if not auto and (not isinstance(self.n_clusters, (int, np.integer)) or self.n_clusters < 1):
            raise ValueError(f"n_clusters must be an int >= 1 or 'auto', got {self.n_clusters!r}")
        threads = n_threads(self.n_jobs)  # check it before any work
        X = as_customer_table(X, owner="CustomerSegmenter")
        raw, logged, index = self._scaled(X, 1 if auto else int(self.n_clusters))
        self.center_ = logged.mean(axis=0)
        scale = logged.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = (logged - self.center_) / self.scale_
        n_distinct = len(np.unique(Z, axis=0))
        if not auto and int(self.n_clusters) > n_distinct:
            raise SchemaError(
                f"CustomerSegmenter: n_clusters={self.n_clusters} but only {n_distinct} distinct "
                "customers (identical customers cannot be split); use fewer clusters or "
                "n_clusters='auto'",
                reason="too_few_customers",
            )
        with limited_threads(threads):
            k = self._choose_k(Z, n_distinct) if auto else int(self.n_clusters)
            self.model_ = self._model(k).fit(Z)
            labels = self.model_.predict(Z)
        self.n_clusters_ = k
        self._remember_columns(X)
        self._profile(X, raw, Z, labels, index)
        logger.info("CustomerSegmenter: %d segments on %d customers", k, len(Z))
        return self

    def _choose_k(self, Z: np.ndarray, n_distinct: int) -> int:
        total = float((Z**2).sum())
        rows = []
        chosen = 1
        previous = 0.0
        for k in range(2, min(self.max_clusters, n_distinct) + 1):
            if total == 0:
                break
            labels = self._model(k).fit(Z).predict(Z)
            within = sum(
                float(((Z[labels == c] - Z[labels == c].mean(axis=0)) ** 2).sum())
                for c in np.unique(labels)
            )
            explained = 1.0 - within / total
            share = np.bincount(labels, minlength=k).min() / len(Z)
            rows.append((k, explained, explained - previous, share))
            if explained - previous < self.min_gain or share < self.min_share:
                break
            chosen, previous = k, explained
        self.k_scores_ = pd.DataFrame(
            rows, columns=["k", "explained_variance", "gain", "min_share"]
        ).set_index("k")
        return chosen

    def _profile(
        self, X: pd.DataFrame, raw: np.ndarray, Z: np.ndarray, labels: np.ndarray, index: pd.Index
    ) -> None:
        k = self.n_clusters_
        names = []
        for c in range(k):
            zc = Z[labels == c].mean(axis=0) if (labels == c).any() else np.zeros(Z.shape[1])
            words = []
            for f, z in zip(self.features, zc, strict=True):
                low, high = _WORDS.get(f, (f"low {f}", f"high {f}"))
                strength = "very " if abs(z) > 1.25 else ""
                if z < -0.5:
                    words.append(strength + low)
                elif z > 0.5:
                    words.append(strength + high)
            names.append(", ".join(words) if words else "average")
        seen: dict[str, int] = {}
        unique = []
        for name in names:
            seen[name] = seen.get(name, 0) + 1
            unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
        self.labels_ = tuple(unique)
        counts = np.bincount(labels, minlength=k)
        prof = pd.DataFrame(
            {
                "label": list(self.labels_),
                "customers": counts,
                "customer_share": counts / len(labels),
            },
            index=pd.Index(range(k), name="cluster"),
        )
        if self.revenue in X.columns:
            rev = X[self.revenue].to_numpy(dtype=np.float64)
            sums = np.bincount(labels, weights=rev, minlength=k)
            prof["revenue_share"] = sums / rev.sum() if rev.sum() != 0 else np.nan
        for j, f in enumerate(self.features):
            prof[f"mean_{f}"] = np.bincount(labels, weights=raw[:, j], minlength=k) / np.maximum(
                counts, 1
            )
        self.profile_ = prof

    def predict(self, X: CustomerTable) -> pd.Series:
        """Return each customer's cluster number.

        Parameters
        ----------
        X : pandas.DataFrame
            A customer table with the fitted feature columns.

        Returns
        -------
        pandas.Series
            Cluster numbers indexed by customer id.
        """
        check_is_fitted(self, "model_")
        _, logged, index = self._scaled(X, 1)
        with limited_threads(self.n_jobs):
            labels = self.model_.predict((logged - self.center_) / self.scale_)
        return pd.Series(labels.astype(np.int64), index=index, name="cluster")

    def transform(self, X: CustomerTable) -> pd.DataFrame:
        """Return each customer's cluster and readable segment label.

        Parameters
        ----------
        X : pandas.DataFrame
            As for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame
            ``cluster`` and ``segment`` (categorical label), indexed by customer id.
        """
        cluster = self.predict(X)
        return pd.DataFrame(
            {
                "cluster": cluster,
                "segment": pd.Categorical.from_codes(
                    cluster.to_numpy(), categories=list(self.labels_)
                ),
            },
            index=cluster.index,
        )
