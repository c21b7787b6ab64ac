"""CycleFUNIT (paper §IV-B): FUNIT encoders/decoder in the G2G cross-training loop + CycleGAN's PatchGAN D.

    L_gen = α·L_vgg(x, x̂) + γ·(L_cyc,EA + L_cyc,EB) + λ_g·L_adv(m) + δ(step)·L_id  (slides; eq. 2, 3, 5, 6, 8)
    L_dis = ζ·(L_real(x) + L_fake(m))/2                                              (slides; eq. 7)

* L_vgg is VGG16 relu2_2 on the long reconstruction (`config.vgg_weights`); without weights it is the
  honest pixel-L1 fallback of `PerceptualLoss`, and the logged name says so.
* L_id (eq. 8) needs `config.face_weights`: L1 between the face embeddings of x_i and of the mix that
  carries x_i's identity. Eq. 8 as printed indexes the mix with x_i's *rest*, which contradicts the text
  ("an incentive to swap the identities"); we follow the text. Without face weights L_id is off (warned).
* `config.identity_encoder_as_eb`: E_B is the frozen face network (`IdentityEncoderGenerator`); L_cyc,EB
  is then the identity loss and eq. 8 is not added, as in the paper.

Optimiser: Adam (lr `config.lr_gen`/`lr_dis`, β = (0.5, 0.999)), as the CycleFUNIT code used Adam and
CycleGAN's D is tuned for it; the generator gets FUNIT's kaiming init and an EMA copy (`config.ema_beta`)
that previews and snapshots use, like FUNIT.
"""

from __future__ import annotations

import copy
import warnings

import torch

from g2g_desktop.core.funit import FunitGenerator, init_kaiming
from g2g_desktop.core.g2g import cross_pass, mix, swap_sides
from trainer.approaches.base import Approach, frozen, seeded, trainable
from trainer.approaches.funit2funit_terms import critic_cosine, critic_cross_entropy
from trainer.approaches.identity_generator import IdentityEncoderGenerator
from trainer.approaches.loss_terms import LossTerm, TermInputs, TermTable
from trainer.approaches.patch_dis import PatchDiscriminator
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.face_encoder import load_face_encoder
from trainer.identity_critic import IdentityCritic
from trainer.losses import (
    PerceptualLoss,
    code_cycle_loss,
    cycle_funit_discriminator_total,
    cycle_funit_generator_total,
    identity_loss,
    lsgan_discriminator_losses,
    lsgan_generator_loss,
)


class CycleFunitApproach(Approach):
    # Added to eq. 2-8: the frozen identity critic of issue 19 (the terms FUNIT2FUNIT's table computes), which
    # plays eq. 8's part when no face weights are given. The engine attaches the critic.
    terms = TermTable("cycle_funit", [
        LossTerm("critic", "lambda_critic", critic_cosine),
        LossTerm("critic_ce", "lambda_critic_ce", critic_cross_entropy),
    ])

    def __init__(self, config: TrainConfig, num_classes: int, device: torch.device | str):
        super().__init__(config, num_classes, device)
        gen_config = config.generator_config()
        face = load_face_encoder(config.face_weights, self.device) if config.face_weights else None
        if config.identity_encoder_as_eb and face is None:
            raise ValueError("identity_encoder_as_eb needs the face network's weights (face_weights)")
        if face is None:
            warnings.warn(
                "no face-network weights given (--face-weights): identity loss (eq. 8) is off", stacklevel=2
            )
        with seeded(config.seed):
            if config.identity_encoder_as_eb:
                generator = IdentityEncoderGenerator(gen_config, face)
            else:
                generator = FunitGenerator(gen_config)
                init_kaiming(generator)
            dis = PatchDiscriminator(config.discriminator_config())
        # With E_B = E_ID the identity loss of eq. 8 is not enforced (paper §IV-B).
        self.identity_net = None if config.identity_encoder_as_eb else face
        self.critic: IdentityCritic | None = None
        self.generator = generator.to(self.device)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self.dis = dis.to(self.device)
        self.perceptual = PerceptualLoss(config.vgg_weights, self.device)
        self.opt_gen = self.make_optimizer(trainable(self.generator), config.lr_gen, "adam")
        self.opt_dis = self.make_optimizer(self.dis.parameters(), config.lr_dis, "adam")

    def modules(self):
        return {"gen": self.generator, "gen_test": self.ema, "dis": self.dis}

    def optimizers(self):
        return {"gen": self.opt_gen, "dis": self.opt_dis}

    def discriminator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        batch = batch.to(self.device)
        x = torch.cat([batch.x1, batch.x2])
        with self.autocast():
            with torch.no_grad():
                mixed = mix(self.generator, x)[2]
            real, fake = lsgan_discriminator_losses(self.dis(x), self.dis(mixed))  # eq. 7
            total = cycle_funit_discriminator_total(real, fake, self.weights)
        logs = self.checked(
            {"Loss/D/real": real, "Loss/D/fake": fake, "Loss/D/total": total}, "Loss/D/total", step
        )
        self.update("dis", total, step)
        return logs

    def generator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        batch, w = batch.to(self.device), self.weights
        with self.autocast(), frozen(self.dis):
            p = cross_pass(self.generator, batch.x1, batch.x2)
            perceptual = self.perceptual(p.recon, p.x)  # eq. 5, long
            cyc_a = code_cycle_loss(p.content, p.mixed_content)  # eq. 2
            cyc_b = code_cycle_loss(p.identity, swap_sides(p.mixed_identity))  # eq. 3
            adversarial = lsgan_generator_loss(self.dis(p.mixed))  # eq. 6
            ident = None
            if self.identity_net is not None:
                ident = identity_loss(self.identity_net(p.x), self.identity_net(swap_sides(p.mixed)))  # eq. 8
            total = cycle_funit_generator_total(perceptual, cyc_a + cyc_b, adversarial, ident, w, step)
            # the frozen identity critic (issue 19), eq. 8's role without face weights: FUNIT2FUNIT's own terms
            total, added = self.terms.add_to(total, TermInputs(self, batch, p, None, batch.labels(), step))
        terms = {
            f"Loss/G/{self.perceptual.name}": perceptual,
            "Loss/G/cyc_content": cyc_a,
            "Loss/G/cyc_identity": cyc_b,
            "Loss/G/adv": adversarial,
        }
        if ident is not None:
            terms["Loss/G/identity"] = ident
        terms.update(added)
        terms["Loss/G/total"] = total
        logs = self.checked(terms, "Loss/G/total", step)
        self.update("gen", total, step)
        self.update_ema()
        return logs
