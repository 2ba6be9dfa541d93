"""Purchase models refuse to fit a table in which no customer was observed (every T = 0).

With T = 0 everywhere every customer has frequency = recency = 0 and the likelihood
of the table is 1 whatever the parameters, so the optimiser used to stop at its
starting point and report "converged" with arbitrary parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custintel import clv
from custintel.exceptions import SchemaError

PURCHASE_MODELS = [
    "BetaGeoModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "BetaGeoBetaBinomModel",
]


def _unobserved(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {"frequency": np.zeros(n), "recency": np.zeros(n), "T": np.zeros(n)},
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


@pytest.mark.parametrize("name", PURCHASE_MODELS)
def test_fit_on_all_zero_t_raises(name: str) -> None:
    model = getattr(clv, name)()
    with pytest.raises(SchemaError, match=r"every customer has T = 0 \(5 customers\)") as info:
        model.fit(_unobserved())
    assert info.value.reason == "no_observation_period"
    assert "observation_end" in str(info.value)  # says how to fix it
    assert not hasattr(model, "params_")


def test_rows_without_weight_do_not_count() -> None:
    table = pd.concat(
        [_unobserved(3), pd.DataFrame({"frequency": [2.0], "recency": [4.0], "T": [10.0]})]
    )
    with pytest.raises(SchemaError, match=r"every customer has T = 0 \(3 customers\)"):
        clv.ParetoNBDModel().fit(table, sample_weight=[1, 1, 1, 0])


def test_scoring_unobserved_customers_still_works(cdnow_weeks: pd.DataFrame) -> None:
    model = clv.ParetoNBDModel().fit(cdnow_weeks)
    assert model.converged_
    expected = model.predict_purchases(_unobserved(), t=10.0)
    assert np.isfinite(expected).all() and (expected > 0).all()
