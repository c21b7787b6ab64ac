"""The naive approach (paper §IV-A): symmetric encoders E_A, E_B + a LORD-style AdaIN generator.

L_all = L_r + γ·(L_cyc,EA + L_cyc,EB) (eq. 1–4), with L_r the L1 distance between the originals and
their full G2G reconstructions; the model study adds λ_same‖x − G(E_A(x), E_B(x′))‖ + λ_c‖E_A(x)‖² with
content-code noise σ_c (LORD, docs/study.md). No discriminator, no EMA. Optimiser: Adam, β = (0.5, 0.999) as in the
GAN-style set-ups the paper builds on, lr = `config.lr_gen` (the paper does not state one).
"""

from __future__ import annotations

import torch

from g2g_desktop.core.g2g import cross_pass, noisy, swap_sides
from g2g_desktop.core.naive import NaiveGenerator
from trainer.approaches.base import Approach, seeded
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.losses import code_cycle_loss, content_code_penalty, l1, naive_total, study_terms


class NaiveApproach(Approach):

    def __init__(self, config: TrainConfig, num_classes: int, device: torch.device | str):
        super().__init__(config, num_classes, device)
        gen_config = config.generator_config()
        with seeded(config.seed):
            self.generator = NaiveGenerator(gen_config).to(self.device)
        self.ema = None
        self.opt_gen = self.make_optimizer(self.generator.parameters(), config.lr_gen, "adam")

    def modules(self):
        return {"gen": self.generator}

    def optimizers(self):
        return {"gen": self.opt_gen}

    def generator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        batch, w = batch.to(self.device), self.weights
        with self.autocast():
            p = cross_pass(self.generator, batch.x1, batch.x2, w.content_noise)
            recon = l1(p.recon, p.x)  # eq. 1 (long: original vs reassembled)
            cyc_a = code_cycle_loss(p.content, p.mixed_content)  # eq. 2
            cyc_b = code_cycle_loss(p.identity, swap_sides(p.mixed_identity))  # eq. 3
            total = naive_total(recon, cyc_a, cyc_b, w)  # eq. 4
            terms = {"Loss/G/recon_long": recon, "Loss/G/cyc_content": cyc_a, "Loss/G/cyc_identity": cyc_b}
            if w.lambda_same > 0 or w.content_l2 > 0:  # the model study's LORD-style terms
                same_class = self.generator.encode_class(batch.same_identity_images())
                same = l1(self.generator.decode(noisy(p.content, w.content_noise), same_class), p.x)
                code_l2 = content_code_penalty(p.content)
                total = total + study_terms(same, code_l2, w)
                terms.update({"Loss/G/recon_same": same, "Loss/G/content_l2": code_l2})
        terms["Loss/G/total"] = total
        logs = self.checked(terms, "Loss/G/total", step)
        self.update("gen", total, step)
        return logs
