"""FUNIT2FUNIT (paper §IV-C): FUNIT's generator and multi-class patch discriminator in the G2G loop.

With m = [m1 | m2] the mixes (m1 has x2's identity, so it is scored with label2), s = G(x, x) the short
reconstructions and x̂ the long ones:

    L_Dis = λ_dis·(hinge_real(D(x1,l1), D(x2,l2)) + hinge_fake(D(m1,l2), D(m2,l1))) + λ_reg·R1  (eq. 11)
    L_G   = gan_w·L_adv + r_w·L_R + λ_F·L_FM                                                       (eq. 12)
    L_adv = ½(−mean D(m, l_m) − mean D(s, l))                       (FUNIT: mixes and recons look real)
    L_R   = λ_short‖x − s‖₁ + λ_long‖x − x̂‖₁                                                       (eq. 9)
    L_FM  = fm_w‖φ(x)−φ(s)‖ + λ_D‖φ(x)−φ(m')‖ + λ_R‖φ(m')−φ(x̂)‖ + λ_L‖φ(x)−φ(x̂)‖               (eq. 10)

where m' is the mix carrying x's identity and φ the D features averaged over positions. R1 is FUNIT's
penalty on the real batch {x1, x2} (FUNIT_FACTS §5), computed in fp32 even under AMP.
Model-study switches (all off by default, docs/study.md): λ_same adds ‖x − G(E_A(x), E_B(x′))‖ with x′
another image of x's person to eq. 9; σ_c (content_noise) perturbs every content code G decodes and λ_c
(content_l2) penalises its size, as LORD does; gan_w can ramp up over `gan_warmup_steps`; λ_cross adds
‖m − m*‖ against the true swaps m* where the data set renders them (procedural faces: the lecture's
supervised cross loss, with every image of the triplet drawn by the renderer); λ_crit adds 1 − cos of a frozen
identity critic's features of each mix and of its class image (SimSwap's identity loss; trainer/identity_critic.py,
attached by the engine), λ_crit,CE that critic's cross-entropy, both from `critic_start_step`. A mask-head generator
(`model.mask_head`) blends its mixes onto the content images, so D, λ_D, λ_cross and the identity head judge the
blend, while the reconstruction terms read G's raw image; λ_m (`lambda_mask_area`) keeps each mix's mean mask near
`mask_area` and λ_mb (`lambda_mask_binary`) pushes each mask pixel to 0 or 1, so the area cannot be met by a
uniform grey mask. λ_dlib (`lambda_dlib_id`, photo runs) adds 1 − cos between dlib's face descriptors of each mix
and of its class image (`trainer.dlib_face_net`, frozen; eq. 8 with dlib's ResNet as the face network).
Issue 19's terms that a copy of the content image cannot satisfy (all off by default):
λ_ds subtracts StarGAN v2's diversity-sensitive ‖G(c, s_x) − m‖₁ (decaying over `ds_decay_steps`), λ_sty adds
|E_B(m) − E_B(x₂)|, and λ_adv,c adds the confusion of a content-code identity classifier (`content_adversary.py`),
which takes its own step after G's. Every term added to eq. 12 (the identity head's, λ_dlib, the mask priors,
issue 19's, the critic's) is a row of one table, `funit2funit_terms.TERMS`, summed in one place
(`TermTable.add_to`, trainer/approaches/loss_terms.py); eq. 9–12 themselves keep the paper's nesting (`losses.py`).
Optimisers: RMSprop (lr `lr_gen`/`lr_dis`, weight decay, torch defaults otherwise; `optimizer: adam`), kaiming init
when fresh, EMA (`ema_beta`, 0.999) after every G step — all as FUNIT (FUNIT_FACTS §7).
`load_funit_pair` resumes from FUNIT's own gen_/dis_/optimizer.pt files.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from g2g_desktop.core.funit import FunitDiscriminator, FunitGenerator, init_kaiming
from g2g_desktop.core.funit_files import funit_step_from_name, load_funit_discriminator, load_funit_generators
from g2g_desktop.core.g2g import cross_pass, mix, noisy, swap_sides
from g2g_desktop.core.safe_io import CheckpointError, safe_torch_load
from trainer.approaches.base import Approach, frozen, seeded
from trainer.approaches.content_adversary import ContentIdentityClassifier, classifier_loss
from trainer.approaches.funit2funit_terms import TERMS
from trainer.approaches.loss_terms import TermInputs
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.dlib_face_net import DlibFaceResNet
from trainer.identity_critic import IdentityCritic
from trainer.loss_weights import LossWeights, dlib_size_problem
from trainer.losses import (
    content_code_penalty,
    feature_matching,
    feature_vector,
    funit2funit_discriminator_total,
    funit2funit_generator_total,
    g2g_feature_matching,
    g2g_reconstruction,
    hinge_fake,
    hinge_generator,
    hinge_real,
    l1,
    r1_penalty,
)


class Funit2FunitApproach(Approach):
    terms = TERMS  # the terms added to eq. 12 (funit2funit_terms.py)

    def __init__(self, config: TrainConfig, num_classes: int, device: torch.device | str):
        super().__init__(config, num_classes, device)
        gen_config = config.generator_config()
        # D's class count: the dataset's, unless the config keeps a larger one (a run resumed from FUNIT's D).
        dis_config = config.discriminator_config(num_classes)
        if dis_config.num_classes < num_classes:
            raise ValueError(
                f"dis.num_classes {dis_config.num_classes} is less than the dataset's {num_classes} classes"
            )
        with seeded(config.seed):
            generator, dis = FunitGenerator(gen_config), FunitDiscriminator(dis_config)
            init_kaiming(generator)
            init_kaiming(dis)
            # The identity head (λ_cls): built when the run starts with λ_cls > 0, saved with the run.
            self.id_head = nn.Linear(gen_config.latent_dim, num_classes) if config.weights.lambda_cls > 0 else None
            # The content-code adversary (λ_adv,c): likewise built at the start and saved with the run.
            self.content_adv = ContentIdentityClassifier(gen_config.content_channels, num_classes) \
                if config.weights.lambda_content_adv > 0 else None
        if self.content_adv is not None:
            self.scalers["content_adv"] = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.face_net: DlibFaceResNet | None = None  # λ_dlib's frozen recogniser, loaded when the term is first on
        # The frozen identity critic (λ_crit, λ_crit,CE): pre-trained on the data set, so the engine attaches it.
        self.critic: IdentityCritic | None = None
        self._install(generator, copy.deepcopy(generator), dis)

    def _install(self, generator: FunitGenerator, ema: FunitGenerator, dis: FunitDiscriminator) -> None:
        self.generator = generator.to(self.device).train()
        self.ema = ema.to(self.device).eval().requires_grad_(False)
        self.dis = dis.to(self.device).train()
        c = self.config
        params = list(self.generator.parameters())
        if self.id_head is not None:
            self.id_head = self.id_head.to(self.device)
            params += list(self.id_head.parameters())
        self.opt_gen = self.make_optimizer(params, c.lr_gen, "rmsprop")
        self.opt_dis = self.make_optimizer(self.dis.parameters(), c.lr_dis, "rmsprop")
        if self.content_adv is not None:
            self.content_adv = self.content_adv.to(self.device).train()
            self.opt_content_adv = self.make_optimizer(self.content_adv.parameters(), c.lr_dis, "rmsprop")

    def modules(self):
        modules = {"gen": self.generator, "gen_test": self.ema, "dis": self.dis}
        if self.id_head is not None:
            modules["id_head"] = self.id_head
        return modules if self.content_adv is None else {**modules, "content_adv": self.content_adv}

    def optimizers(self):
        optimizers = {"gen": self.opt_gen, "dis": self.opt_dis}
        return optimizers if self.content_adv is None else {**optimizers, "content_adv": self.opt_content_adv}

    # ------------------------------------------------------------------ resume from FUNIT's files
    def load_funit_pair(
        self,
        gen_path: str | os.PathLike,
        dis_path: str | os.PathLike | None = None,
        optimizer_path: str | os.PathLike | None = None,
    ) -> int | None:
        """Continue from official FUNIT files; returns the iteration in the gen file's name, if any.

        Sizes come from the files; the D's number of classes too, which must cover the dataset's
        labels. Without `dis_path` the discriminator starts fresh; `optimizer_path` is FUNIT's
        optimizer.pt ({'gen': state, 'dis': state}) and is optional. Call `modules()`/`optimizers()`
        again afterwards: the networks and optimizers are new objects.
        """
        gen, gen_test = load_funit_generators(gen_path, image_size=self.config.image_size)
        gen = gen if gen is not None else copy.deepcopy(gen_test)
        gen_test = gen_test if gen_test is not None else copy.deepcopy(gen)
        dis = self.dis
        if dis_path is not None:
            dis = load_funit_discriminator(dis_path)
            if dis.config.num_classes < self.num_classes:
                raise CheckpointError(
                    dis_path,
                    f"discriminator has {dis.config.num_classes} classes, the dataset {self.num_classes}",
                )
        self._install(gen, gen_test, dis)
        if optimizer_path is not None:
            self._load_optimizers(Path(optimizer_path))
        return funit_step_from_name(Path(gen_path))

    def _load_optimizers(self, path: Path) -> None:
        data = safe_torch_load(path)
        if not isinstance(data, Mapping) or not {"gen", "dis"} <= set(data):
            raise CheckpointError(path, "not a FUNIT optimizer file: expected keys 'gen' and 'dis'")
        for key, optimizer in self.optimizers().items():
            try:
                optimizer.load_state_dict(data[key])
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(
                    path, f"optimizer state '{key}' does not fit the networks: {exc}"
                ) from None
            for group in optimizer.param_groups:
                for p in group["params"]:
                    for name, value in optimizer.state.get(p, {}).items():
                        if isinstance(value, torch.Tensor) and value.dim() and value.shape != p.shape:
                            raise CheckpointError(
                                path,
                                f"optimizer state '{key}.{name}' has shape {tuple(value.shape)}, "
                                f"parameter has {tuple(p.shape)}",
                            )

    # ------------------------------------------------------------------ training
    def discriminator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        if self.weights.adversarial_at(step) == 0:  # a reconstruction-only phase (gan_delay_steps)
            return {}
        batch, w = batch.to(self.device), self.weights
        x = torch.cat([batch.x1, batch.x2])
        labels = batch.labels()
        with torch.no_grad(), self.autocast():
            mixed = mix(self.generator, x)[2].float()
        # Real pass in fp32: the R1 double-backward is not safe in fp16.
        x_real = x.detach().requires_grad_(True)
        out_real, _ = self.dis(x_real, labels)
        real = hinge_real(out_real)
        r1 = r1_penalty(out_real, x_real)
        with self.autocast():
            out_fake, _ = self.dis(mixed, swap_sides(labels))
            fake = hinge_fake(out_fake)
        total = funit2funit_discriminator_total(real, fake, r1, w)  # eq. 11
        terms = {"Loss/D/real": real, "Loss/D/fake": fake, "Loss/D/r1": r1, "Loss/D/total": total}
        logs = self.checked(terms, "Loss/D/total", step)
        self.update("dis", total, step)
        return logs

    def _discriminator_terms(self, p, short, labels) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """L_adv and the four feature-matching terms of eq. 10, from one D pass over m, s, x and x̂."""
        images = torch.cat([p.mixed, short, p.x, p.recon])
        out, feat = self.dis(images, torch.cat([swap_sides(labels), labels, labels, labels]))
        out_mix, out_short = out.chunk(4)[:2]
        phi_mix, phi_short, phi_x, phi_recon = feature_vector(feat).chunk(4)
        adversarial = 0.5 * (hinge_generator(out_mix) + hinge_generator(out_short))
        return adversarial, [
            feature_matching(phi_short, phi_x),
            feature_matching(swap_sides(phi_mix), phi_x),  # λ_D: x vs the mix with its identity
            feature_matching(swap_sides(phi_mix), phi_recon),  # λ_R
            feature_matching(phi_recon, phi_x),  # λ_L
        ]

    def unused_weights(self, weights: LossWeights) -> list[str]:
        """λ_cls and λ_adv,c need modules built only when the run starts with them > 0; λ_dlib needs images of
        DLIB_MIN_IMAGE_SIZE (refused at the start, so only a mid-run raise gets here)."""
        notes = []
        if weights.lambda_dlib_id > 0 and (problem := dlib_size_problem(self.config.image_size)):
            notes.append(f"λ_dlib has no effect in this run: {problem}")
        if weights.lambda_cls > 0 and self.id_head is None:
            notes.append("λ_cls has no effect in this run: its identity head is built only when a run starts with "
                         "λ_cls > 0")
        if weights.lambda_content_adv > 0 and self.content_adv is None:
            notes.append("λ_adv,c has no effect in this run: the content-code adversary is built only when a run "
                         "starts with λ_adv,c > 0")
        return notes

    def _train_content_adversary(self, content: torch.Tensor, labels: torch.Tensor, step: int) -> dict[str, float]:
        """One update of the content-code adversary on this step's detached E_A(x), after G's (DRIT's order)."""
        loss, accuracy = classifier_loss(self.content_adv, content, labels)
        logs = self.checked({"Loss/A/content_id": loss, "Acc/A/content_id": accuracy}, "Loss/A/content_id", step)
        self.update("content_adv", loss, step)
        return logs

    def generator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        batch, w = batch.to(self.device), self.weights
        labels = batch.labels()
        with self.autocast(), frozen(self.dis):
            p = cross_pass(self.generator, batch.x1, batch.x2, w.content_noise)
            # G(x, x); under λ_ds from the very code (noise included) the mixes were decoded from: eq. 3's one c
            content = p.decoded_content if w.lambda_ds > 0 else noisy(p.content, w.content_noise)
            short = self.generator.decode(content, p.identity)
            recon_same = None
            if w.lambda_same > 0:  # G(E_A(x), E_B(x′)): the class code from another image of the person
                same = self.generator.decode(content, self.generator.encode_class(batch.same_identity_images()))
                recon_same = l1(same, p.x)
            recon_short, recon_long = l1(short, p.x), l1(p.recon, p.x)
            # the supervised cross loss: each mix against the true swap (only where the data has one)
            cross_gt = l1(p.mixed, batch.m_true) if w.lambda_cross_gt > 0 and batch.m_true is not None else None
            if w.adversarial_at(step) > 0:
                adversarial, fm_terms = self._discriminator_terms(p, short, labels)
            else:  # no discriminator yet: its terms are 0 and it is not run
                adversarial, fm_terms = torch.zeros((), device=self.device), [torch.zeros((), device=self.device)] * 4
            fm_short, fm_mix, fm_mix_recon, fm_long = fm_terms
            reconstruction = g2g_reconstruction(recon_short, recon_long, w, recon_same, cross_gt)  # eq. 9
            fm = g2g_feature_matching(fm_short, fm_mix, fm_mix_recon, fm_long, w)  # eq. 10
            code_l2 = content_code_penalty(p.content)  # LORD
            total = funit2funit_generator_total(adversarial, reconstruction, fm, w, step, code_l2)  # eq. 12
            # every term added to eq. 12 (identity head, dlib, mask priors, issue 19's, the critic): one table
            total, added = self.terms.add_to(total, TermInputs(self, batch, p, short, labels, step))
        terms = {
            "Loss/G/adv": adversarial,
            "Loss/G/recon_short": recon_short,
            "Loss/G/recon_long": recon_long,
            "Loss/G/fm_short": fm_short,
            "Loss/G/fm_mix": fm_mix,
            "Loss/G/fm_mix_recon": fm_mix_recon,
            "Loss/G/fm_long": fm_long,
            "Loss/G/content_l2": code_l2,
            "Loss/G/total": total,
        }
        if recon_same is not None:
            terms["Loss/G/recon_same"] = recon_same
        if cross_gt is not None:
            terms["Loss/G/cross_gt"] = cross_gt
        terms.update(added)
        logs = self.checked(terms, "Loss/G/total", step)
        self.update("gen", total, step)
        self.update_ema()
        if self.content_adv is not None:
            logs.update(self._train_content_adversary(p.content, labels, step))
        return logs
