"""Loss terms as rows of a table, summed in one place (edm's loss callables, which hold their own weights).

A `LossTerm` is a whole term: the name it is logged under ("Loss/G/<name>"), the weight that scales it (a
`LossWeights` field, whose editor row is declared with the field, or a `WeightSpec` of its own, which the table
registers so that `LossWeights`, the config and the weight editor know it) and the function that computes it
from one generator step's `TermInputs`. An approach keeps a `TermTable` and calls `add_to` once per step.

FUNIT2FUNIT's table is `trainer/approaches/funit2funit_terms.py`, each term's paper beside its function. The
paper's own objective (eq. 9–12) keeps its nested form (`losses.funit2funit_generator_total`), as its weights are
defined by it (r_w·λ_short is FUNIT's 0.1) and a flat sum would round differently; the table holds every term
added to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor

from g2g_desktop.core.g2g import CrossPass
from trainer.batch import PairBatch
from trainer.loss_weights import LossWeights, WeightSpec, register_weight, unregister_weight

if TYPE_CHECKING:
    from trainer.approaches.base import Approach


@dataclass(frozen=True)
class TermInputs:
    """What a term may read at one generator step (all on the approach's device, inside its autocast)."""

    approach: Approach  # its modules (an identity head, a critic) and its current `weights`
    batch: PairBatch
    p: CrossPass  # this step's one cross pass
    short: Tensor | None  # G(E_A(x), E_B(x)) from the mixes' content code; None where not decoded (CycleFUNIT)
    labels: Tensor  # the identities of p.x (x1's, then x2's)
    step: int

    @property
    def weights(self) -> LossWeights:
        return self.approach.weights


@dataclass(frozen=True)
class LossTerm:
    """One weighted term of a generator loss."""

    name: str  # logged as "Loss/G/<name>"
    weight: str | WeightSpec  # the LossWeights field that scales it, or the editor row of a weight of its own
    compute: Callable[[TermInputs], Tensor | None]  # its value; None: off at this step (neither added nor logged)
    factor: Callable[[LossWeights, int], float] | None = None  # its weight at a step, where not the plain value

    @property
    def weight_name(self) -> str:
        return self.weight if isinstance(self.weight, str) else self.weight.name

    def weight_at(self, weights: LossWeights, step: int) -> float:
        return self.factor(weights, step) if self.factor is not None else getattr(weights, self.weight_name)


class TermTable:
    """The terms an approach adds to its generator loss, in the order they are computed and summed."""

    def __init__(self, approach: str, terms: Iterable[LossTerm] = ()):
        self.approach = approach  # the approach that reads the weights its terms bring
        self.terms: list[LossTerm] = []
        for term in terms:
            self.add(term)

    def add(self, term: LossTerm) -> None:
        """Append `term`; a weight of its own is registered, read by this table's approach."""
        if any(t.name == term.name for t in self.terms):
            raise ValueError(f"a loss term named {term.name!r} is in the table already")
        if isinstance(term.weight, WeightSpec):
            register_weight(dataclasses.replace(term.weight, readers=term.weight.readers or (self.approach,)))
        self.terms.append(term)

    def remove(self, name: str) -> None:
        """Take term `name` out again, and the weight it brought."""
        for term in [t for t in self.terms if t.name == name]:
            self.terms.remove(term)
            if isinstance(term.weight, WeightSpec):
                unregister_weight(term.weight.name)

    def add_to(self, total: Tensor, inputs: TermInputs) -> tuple[Tensor, dict[str, Tensor]]:
        """`total` plus every term that is on, each times its weight, and the terms by their log names."""
        logs: dict[str, Tensor] = {}
        for term in self.terms:
            value = term.compute(inputs)
            if value is None:
                continue
            total = total + term.weight_at(inputs.weights, inputs.step) * value
            logs[f"Loss/G/{term.name}"] = value
        return total, logs
