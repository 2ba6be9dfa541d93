"""Maximum-likelihood fitting shared by every parametric CLV model.

Models supply the per-customer log-likelihood and its gradient with respect to
their (positive) natural parameters. Here the weighted mean negative
log-likelihood, plus an optional L2 penalty, is minimised over the log of the
parameters with scipy's L-BFGS-B, and the result is checked before anyone
sees it: a fit that stops early is restarted, and one that still has not
converged raises or warns instead of returning a worse optimum quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from custintel.exceptions import ConvergenceError, ConvergenceWarning, warn

logger = logging.getLogger("custintel")

#: Per-customer log-likelihood ``(n,)`` and its gradient ``(n, k)`` at natural parameters.
LogLikelihood = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

_GRADIENT_TOL = 1e-4  # on the mean log-likelihood per customer, in log-parameter space
_LOG_BOUND = 15.0  # parameters stay within exp(-15) .. exp(15) of 1
#: Covariate coefficients (real-valued, optimised as they are) stay within +-this: exp(50 z)
#: already overflows nothing a model can use, and a bound keeps L-BFGS-B's line search sane.
COEF_BOUND = 50.0


@dataclass(frozen=True)
class MLEResult:
    """Outcome of :func:`fit_mle`.

    Attributes
    ----------
    params : numpy.ndarray
        Natural parameters at the optimum.
    log_likelihood : float
        Total (weighted) log-likelihood at ``params``, without the penalty.
    converged : bool
        Whether the gradient test passed.
    n_iter : int
        Optimiser iterations over all restarts.
    hessian : numpy.ndarray
        Hessian of the total penalised negative log-likelihood in natural
        parameters, by central differences of the analytic gradient.
    message : str
        The optimiser's last message.
    at_bound : numpy.ndarray
        Which parameters ended at the bound ``exp(±15)`` of the search.
    """

    params: np.ndarray
    log_likelihood: float
    converged: bool
    n_iter: int
    hessian: np.ndarray
    message: str
    at_bound: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def fit_mle(
    loglik: LogLikelihood,
    initial: np.ndarray,
    *,
    weights: np.ndarray,
    penalizer: float = 0.0,
    max_iter: int = 1000,
    on_failure: str = "raise",
    model_name: str = "model",
    positive: np.ndarray | None = None,
) -> MLEResult:
    """Maximise a weighted log-likelihood over positive parameters (and real coefficients).

    Parameters
    ----------
    loglik : callable
        ``loglik(params) -> (ll, grad)`` with per-customer values ``(n,)`` and
        gradients ``(n, k)`` with respect to the natural parameters.
    initial : numpy.ndarray
        Positive starting parameters.
    weights : numpy.ndarray
        Customer weights (counts of identical customers), shape ``(n,)``.
    penalizer : float, default=0.0
        Coefficient of the L2 penalty ``penalizer * sum(params**2)`` added to
        the mean negative log-likelihood (lifetimes' convention).
    max_iter : int, default=1000
        Iterations per optimiser run.
    on_failure : {"raise", "warn", "return"}, default="raise"
        Raise :class:`~custintel.exceptions.ConvergenceError` or warn
        :class:`~custintel.exceptions.ConvergenceWarning` when the fit does not
        converge; ``"return"`` leaves that to the caller
        (:func:`check_converged`).
    model_name : str, default="model"
        Name used in messages.
    positive : numpy.ndarray of bool or None, default=None
        Which parameters are positive (optimised on the log scale, within
        ``exp(±15)``); the others are real coefficients (covariate effects),
        optimised as they are, within ``±COEF_BOUND``. ``None``: all positive.

    Returns
    -------
    MLEResult
    """
    total_weight = float(weights.sum())
    k = len(initial)
    pos = np.ones(k, dtype=bool) if positive is None else np.asarray(positive, dtype=bool)

    def natural(x: np.ndarray) -> np.ndarray:
        return np.where(pos, np.exp(np.where(pos, x, 0.0)), x)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = natural(log_params)
        ll, grad = loglik(params)
        # einsum, not @: BLAS threads cost more than they save on these sizes
        value = -np.einsum("i,i->", ll, weights) / total_weight + penalizer * float(params @ params)
        grad_natural = (
            -np.einsum("i,ij->j", weights, grad) / total_weight + 2.0 * penalizer * params
        )
        if not np.isfinite(value) or not np.all(np.isfinite(grad_natural)):
            return np.inf, np.zeros_like(log_params)
        # chain rule for log-parameters; coefficients are their own scale
        return float(value), np.where(pos, grad_natural * params, grad_natural)

    start = np.asarray(initial, dtype=np.float64)
    x = np.where(pos, np.log(np.where(pos, start, 1.0)), start)
    limits = np.where(pos, _LOG_BOUND, COEF_BOUND)
    bounds = [(-float(b), float(b)) for b in limits]
    n_iter, message, converged = 0, "", False
    for _attempt in range(3):  # L-BFGS-B can stop on a flat stretch; restart from there
        result = optimize.minimize(
            objective,
            x,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
        )
        n_iter += int(result.nit)
        message = str(result.message)
        improved = result.fun < objective(x)[0] - 1e-15 or _attempt == 0
        x = result.x
        _, gradient = objective(x)
        at_bound = np.abs(np.abs(x) - limits) < 1e-6
        converged = bool(np.all(np.abs(gradient[~at_bound]) < _GRADIENT_TOL)) and np.isfinite(
            result.fun
        )
        if converged or not improved:
            break
        logger.debug("%s: restarting L-BFGS-B (%s)", model_name, message)

    params = natural(x)
    ll, _ = loglik(params)
    log_likelihood = float(np.einsum("i,i->", ll, weights))
    hessian = _hessian(loglik, params, weights, penalizer, positive=pos)
    at_bound = np.abs(np.abs(x) - limits) < 1e-6
    if np.any(at_bound):
        converged = False
        coefficients = "" if pos.all() else f" (coefficients ±{COEF_BOUND:g})"
        message = f"{BOUND_MESSAGE} exp(±{_LOG_BOUND:g}){coefficients}; {message}"
    result = MLEResult(params, log_likelihood, converged, n_iter, hessian, message, at_bound)
    if on_failure != "return":
        check_converged(result, on_failure=on_failure, model_name=model_name)
    return result


#: Start of the message of a fit that stopped at the bound of the search.
BOUND_MESSAGE = "a parameter reached the bound"


def check_converged(result: MLEResult, *, on_failure: str, model_name: str) -> None:
    """Raise ``ConvergenceError`` (``on_failure="raise"``) or warn if the fit did not converge."""
    if result.converged:
        return
    text = (
        f"{model_name} did not converge ({result.message}); parameters "
        f"{np.round(result.params, 6)}. "
        "Try a penalizer (e.g. penalizer=0.001), other initial_params, or check the data."
    )
    if on_failure == "raise":
        raise ConvergenceError(text)
    warn(text, ConvergenceWarning)


def _hessian(
    loglik: LogLikelihood,
    params: np.ndarray,
    weights: np.ndarray,
    penalizer: float,
    *,
    positive: np.ndarray | None = None,
) -> np.ndarray:
    """Hessian of the total penalised negative log-likelihood (natural parameters).

    Central differences of the analytic gradient, with a step relative to the
    parameter (coefficients, which may be 0, get a step of at least 1e-5).
    """
    total_weight = float(weights.sum())

    def gradient(p: np.ndarray) -> np.ndarray:
        _, grad = loglik(p)
        return -np.einsum("i,ij->j", weights, grad) + 2.0 * penalizer * total_weight * p

    k = len(params)
    hessian = np.empty((k, k))
    for j in range(k):
        floor = 1e-8 if positive is None or positive[j] else 1.0
        step = 1e-5 * max(abs(params[j]), floor)
        up, down = params.copy(), params.copy()
        up[j] += step
        down[j] -= step
        hessian[:, j] = (gradient(up) - gradient(down)) / (2 * step)
    return (hessian + hessian.T) / 2


def standard_errors(hessian: np.ndarray) -> np.ndarray:
    """Return standard errors from the inverse Hessian; NaN where it is not positive definite."""
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return np.full(len(hessian), np.nan)
    variance = np.diag(covariance)
    return np.where(variance > 0, np.sqrt(np.abs(variance)), np.nan)
