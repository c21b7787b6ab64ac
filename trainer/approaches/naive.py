"""The naive approach (paper §IV-A): symmetric encoders E_A, E_B + a LORD-style AdaIN generator.

L_all = L_r + γ·(L_cyc,EA + L_cyc,EB) (eq. 1–4), with L_r the L1 distance between the originals and
their full G2G reconstructions. No discriminator, no EMA. Optimiser: Adam, β = (0.5, 0.999) as in the
GAN-style set-ups the paper builds on, lr = `config.lr_gen` (the paper does not state one).
"""

from __future__ import annotations

import torch

from g2g_desktop.core.config import NaiveConfig
from g2g_desktop.core.naive import NaiveGenerator
from trainer.approaches.base import Approach, PairBatch, cross_pass, seeded, swap_sides
from trainer.config import TrainConfig
from trainer.losses import code_cycle_loss, l1, naive_total


class NaiveApproach(Approach):
    name = "naive"

    def __init__(self, config: TrainConfig, num_classes: int, device: torch.device | str):
        super().__init__(config, num_classes, device)
        gen_config = NaiveConfig.from_dict({**config.model, "image_size": config.image_size})
        with seeded(config.seed):
            self.generator = NaiveGenerator(gen_config).to(self.device)
        self.ema = None
        self.opt_gen = torch.optim.Adam(
            self.generator.parameters(),
            lr=config.lr_gen,
            betas=(0.5, 0.999),
            weight_decay=config.weight_decay,
        )

    def modules(self):
        return {"gen": self.generator}

    def optimizers(self):
        return {"gen": self.opt_gen}

    def generator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        batch, w = batch.to(self.device), self.weights
        with self.autocast():
            p = cross_pass(self.generator, batch.x1, batch.x2)
            recon = l1(p.recon, p.x)  # eq. 1 (long: original vs reassembled)
            cyc_a = code_cycle_loss(p.content, p.mixed_content)  # eq. 2
            cyc_b = code_cycle_loss(p.identity, swap_sides(p.mixed_identity))  # eq. 3
            total = naive_total(recon, cyc_a, cyc_b, w)  # eq. 4
        terms = {
            "Loss/G/recon_long": recon,
            "Loss/G/cyc_content": cyc_a,
            "Loss/G/cyc_identity": cyc_b,
            "Loss/G/total": total,
        }
        logs = self.checked(terms, "Loss/G/total", step)
        self.update("gen", total)
        return logs
