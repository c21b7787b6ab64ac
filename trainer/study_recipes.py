"""The model study's rows: the shared base recipe and every named change to it (docs/study.md).

Each `StudyRun` is one row of the table: `BASE` with its `changes` merged in (model/dis/weights dicts merge,
another approach brings networks of its own), trained by trainer/study.py on procedural faces — or on the
same faces exported as an identity folder (`from_folder`) — and measured on held-out identities. A row's
`question` says what it asks; for issue 19's rows, which term it adds that copying the content image
cannot satisfy. Fine-tuning rows (`start_from`) continue another row's final state for FINETUNE_STEPS more.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from trainer.presets import ADAM, CRITIC, LN, LORD, LORD_W, NO_GAN, RECIPES, RECON, SAME
from trainer.presets import merge_changes as _recipe

STEPS = 300  # the budget of every from-scratch row
FINETUNE_STEPS = 100  # extra steps of every fine-tuning row

BASE: dict[str, Any] = {
    "approach": "funit2funit",
    "data": "procedural:128:20",
    "steps": STEPS,
    "batch_size": 8,
    "image_size": 32,
    "seed": 0,
    "model": {"nf": 16, "n_res_blks": 1, "nf_mlp": 64, "latent_dim": 16, "n_downs_content": 2, "n_downs_class": 3},
    "dis": {"nf": 16, "n_res_blks": 4, "max_nf": 64},
    "weights": dict(RECON["weights"]),
    "lr_gen": 3e-4,
    "lr_dis": 3e-4,
    "ema_beta": 0.99,
    "num_workers": 0,
    "log_every": 25,
    "preview_every": STEPS,
    "checkpoint_every": 100,
    "keep_last": 1,
    "cpu_bf16": "off",  # every row in fp32, the same precision on any CPU
}

NO_LONG = {"lambda_long": 0.0, "lambda_R": 0.0, "lambda_L": 0.0}  # without the G2G reassembly-stage losses


@dataclass(frozen=True)
class StudyRun:
    name: str
    question: str  # what the row asks, for the table
    changes: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields over BASE (model/dis/weights merge)
    start_from: str | None = None  # fine-tune the final checkpoint of this row
    from_folder: bool = False  # train on the same faces exported as one sub-folder per person (the photo path)

    def config(self) -> dict[str, Any]:
        config = copy.deepcopy(BASE)
        other_family = self.changes.get("approach", BASE["approach"]) != BASE["approach"]
        for key, value in self.changes.items():
            if other_family and key in ("model", "dis"):  # another approach's networks: sizes of its own
                config[key] = value
            elif isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        if self.start_from is not None:
            config["steps"] = run_by_name(self.start_from).config()["steps"] + FINETUNE_STEPS
            config["preview_every"] = config["steps"]
        return config


ID_HEAD = {"weights": {"lambda_cls": 1.0, "lambda_cls_mix": 1.0}}
MASK = {"model": {"mask_head": True}}
MASK_AREA = {"weights": {"lambda_mask_area": 1.0, "mask_area": 0.3}}
MASK_BINARY = {"weights": {"lambda_mask_binary": 1.0}}
ERASE = {"model": {"erase_features": True}}
# The critic rows' base: the first identity recipe (λ_crit 5, lr 3e-4, with the reassembly losses), kept as it
# was measured; the recipe the app trains with now is RECIPES["identity"] (row critic_cos_lr1e3_c10_nolong_3000).
CRITIC_COS_V1 = _recipe({"approach": "funit2funit"}, RECON, ADAM, LN, SAME, LORD_W, NO_GAN, CRITIC)

# The identity recipe's critic in CycleFUNIT (issue 19's reassembly question as CycleFUNIT), at its own sizes.
IDENTITY_CYCLE = {"approach": "cycle_funit", "model": {**BASE["model"], "norm": "ln"}, "dis": {"nf": 16, "n_layers": 3},
                  "optimizer": "adam", "lr_gen": 1e-3, "steps": 3000, "weights": {"lambda_critic": 10.0}}

RUNS: tuple[StudyRun, ...] = (
    StudyRun("baseline", "the shipped recipe (IN, RMSprop) at study size"),
    StudyRun("adam", "Adam instead of RMSprop", ADAM),
    StudyRun("ln", "LayerNorm instead of IN in E_A and G's up-sampling (Adam)", _recipe(ADAM, LN)),
    StudyRun("gn", "GroupNorm (8 groups) instead of IN (Adam)", _recipe(ADAM, {"model": {"norm": "gn"}})),
    StudyRun("same", "+ same-person class code in G(x, ·) (λ_same 1; LN, Adam)", _recipe(ADAM, LN, SAME)),
    StudyRun("same_lord", "+ LORD content noise σ 0.2 and L2 0.01", _recipe(ADAM, LN, SAME, LORD_W)),
    StudyRun("same_lord_small", "+ content code of 8 channels (§VI)",
             _recipe(ADAM, LN, SAME, LORD_W, {"model": {"content_dim": 8}})),
    StudyRun("recon_only", "same_lord without any discriminator (gan_delay_steps past the budget)",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"gan_delay_steps": 1e6}})),
    StudyRun("recon_only_3000", "recon_only at 3000 steps: the control the critic rows' self PSNR is held to",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"gan_delay_steps": 1e6}, "steps": 3000})),
    StudyRun("recon_only_small", "recon_only with a content code of 8 channels",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"gan_delay_steps": 1e6}, "model": {"content_dim": 8}})),
    StudyRun("lord_strong", "recon_only with LORD's own strength: a 4-channel code, σ 1, L2 0.001",
             _recipe(ADAM, LN, SAME, {"weights": {"gan_delay_steps": 1e6, "content_noise": 1.0,
                                                  "content_l2": 0.001}, "model": {"content_dim": 4}})),
    StudyRun("lord_strong_gan", "lord_strong with the discriminator from the first step",
             _recipe(ADAM, LN, SAME, {"weights": {"content_noise": 1.0, "content_l2": 0.001},
                                      "model": {"content_dim": 4}})),
    StudyRun("id_head", "recon_only + an identity head on E_B (λ_cls 1) that each mix must satisfy (λ_cls,m 1)",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"gan_delay_steps": 1e6, "lambda_cls": 1.0,
                                                          "lambda_cls_mix": 1.0}})),
    StudyRun("id_head_gan", "id_head with the discriminator from the first step",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"lambda_cls": 1.0, "lambda_cls_mix": 1.0}})),
    StudyRun("same_lord_warmup", "+ gan_w warm-up over 150 steps",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"gan_warmup_steps": 150.0}})),
    StudyRun("same_lord_nolong", "same_lord without the reassembly-stage losses (λ_long = λ_R = λ_L = 0)",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": NO_LONG})),
    StudyRun("naive_same_lord", "the naive approach (no GAN) with λ_same and LORD",
             {"approach": "naive", "model": {"nf": 16, "n_downs": 2, "content_dim": 64, "class_dim": 16,
                                             "nf_mlp": 64, "max_nf": 64},
              "dis": {}, "lr_gen": 1e-3, "weights": {"lambda_same": 1.0, **LORD}}),
    # The paper's §V-C ablation: pre-train with FUNIT's own losses, then fine-tune with each G2G term.
    StudyRun("funit_own", "FUNIT's own objective (no reassembly-stage losses), the fine-tuning start",
             {"weights": NO_LONG}),
    StudyRun("ft_control", "fine-tune funit_own with FUNIT's losses (control)", {"weights": NO_LONG},
             start_from="funit_own"),
    StudyRun("ft_long", "fine-tune funit_own + λ_long 0.1", {"weights": {**NO_LONG, "lambda_long": 0.1}},
             start_from="funit_own"),
    StudyRun("ft_R", "fine-tune funit_own + λ_R 0.1", {"weights": {**NO_LONG, "lambda_R": 0.1}},
             start_from="funit_own"),
    StudyRun("ft_L", "fine-tune funit_own + λ_L 0.1", {"weights": {**NO_LONG, "lambda_L": 0.1}},
             start_from="funit_own"),
    StudyRun("ft_all", "fine-tune funit_own with all G2G losses (paper defaults)", {}, start_from="funit_own"),
    # The lecture's supervised cross loss: each mix against the renderer's true swap (procedural faces only).
    StudyRun("cross_gt", "same_lord + supervised cross loss λ_cross 1 (true swaps from the renderer)",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"lambda_cross_gt": 1.0}})),
    StudyRun("cross_gt_only", "recon_only + λ_cross 1: no discriminator",
             _recipe(ADAM, LN, SAME, LORD_W, {"weights": {"gan_delay_steps": 1e6, "lambda_cross_gt": 1.0}})),
    StudyRun("cross_gt_strong", "cross_gt with λ_cross 5", _recipe(ADAM, LN, SAME, LORD_W,
                                                                   {"weights": {"lambda_cross_gt": 5.0}})),
    # Seeds: the rows whose differences are small get a second one.
    StudyRun("same_lord_s1", "same_lord, seed 1", _recipe(ADAM, LN, SAME, LORD_W, {"seed": 1})),
    StudyRun("ln_s1", "ln, seed 1", _recipe(ADAM, LN, {"seed": 1})),
    # Mokady et al.'s mask blend (issue 12): G's image shown only where its mask is, the content image elsewhere.
    StudyRun("mask_plain", "recon_only + a mask head; no safeguard but the L1 terms on G's raw image",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, MASK)),
    StudyRun("mask_safe", "id_head + a mask head with the mask-area prior (λ_m 1, a_m 0.3)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, ID_HEAD, MASK, MASK_AREA)),
    StudyRun("mask_safe_gan", "mask_safe with the discriminator (class-conditional, on the blend) from the first step",
             _recipe(ADAM, LN, SAME, LORD_W, ID_HEAD, MASK, MASK_AREA)),
    StudyRun("mask_binary", "mask_safe + a binary-mask prior (λ_mb 1: no uniform grey mask)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, ID_HEAD, MASK, MASK_AREA, MASK_BINARY)),
    StudyRun("mask_binary_gan", "mask_safe_gan + the binary-mask prior (λ_mb 1)",
             _recipe(ADAM, LN, SAME, LORD_W, ID_HEAD, MASK, MASK_AREA, MASK_BINARY)),
    StudyRun("mask_binary10", "mask_binary with λ_mb 10 (λ_mb 1 left the mask grey)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, ID_HEAD, MASK, MASK_AREA,
                     {"weights": {"lambda_mask_binary": 10.0}})),
    # Paper §VI: E_A sees its input with the canonical eye, brow, nose and mouth regions blanked (core/erasure.py).
    StudyRun("erase", "recon_only with identity features erased from E_A's input (§VI)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, ERASE)),
    StudyRun("erase_gan", "same_lord with identity features erased from E_A's input",
             _recipe(ADAM, LN, SAME, LORD_W, ERASE)),
    StudyRun("erase_s1", "erase, seed 1", _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, ERASE, {"seed": 1})),
    # Issue 19 item 5: the photo path's twin — the same faces as an identity-folder tree, no renderer.
    StudyRun("recon_only_folder", "recon_only trained from procedural:128:20 exported as one folder per person",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN), from_folder=True),
    StudyRun("recon_only_s1", "recon_only, seed 1 (erase_s1's control)", _recipe(ADAM, LN, SAME, LORD_W, NO_GAN,
                                                                                  {"seed": 1})),
    # Issue 19: LORD-style latent optimisation
    StudyRun("lord_latent", "LORD: a class code per person and a noisy 8-channel code per image learnt directly "
             "(200 steps), then E_A/E_B distilled to them with G fine-tuned (100 steps); no discriminator",
             {"approach": "lord", "model": {**BASE["model"], "norm": "ln", "content_dim": 8}, "dis": {},
              "optimizer": "adam", "lord_stage1_steps": 200}),
    StudyRun("lord_latent_3000", "lord_latent at 3000 steps (2000 latent optimisation + 1000 distillation)",
             {"approach": "lord", "model": {**BASE["model"], "norm": "ln", "content_dim": 8}, "dis": {},
              "optimizer": "adam", "lord_stage1_steps": 2000, "steps": 3000}),
    StudyRun("lord_latent_lr30", "lord_latent with the embeddings' lr ×10 (0.03): each image is seen only about "
             "twice in 300 steps, LORD's 3e-3 assumes hundreds of epochs",
             {"approach": "lord", "model": {**BASE["model"], "norm": "ln", "content_dim": 8}, "dis": {},
              "optimizer": "adam", "lord_stage1_steps": 200, "lr_latent": 0.03}),
    StudyRun("lord_latent_lr30_1000", "lord_latent_lr30 at 1000 steps (700 latent optimisation + 300 distillation)",
             {"approach": "lord", "model": {**BASE["model"], "norm": "ln", "content_dim": 8}, "dis": {},
              "optimizer": "adam", "lord_stage1_steps": 700, "lr_latent": 0.03, "steps": 1000}),
    StudyRun("lord_latent_lr30_3000", "lord_latent_lr30 at 3000 steps (2000 latent optimisation + 1000 distillation)",
             {"approach": "lord", "model": {**BASE["model"], "norm": "ln", "content_dim": 8}, "dis": {},
              "optimizer": "adam", "lord_stage1_steps": 2000, "lr_latent": 0.03, "steps": 3000}),
    # Issue 19: the field's other levers
    StudyRun("ds", "recon_only + StarGAN v2's diversity-sensitive term (λ_ds 1, decayed to 0 over the budget as "
                   "StarGAN v2 over its run): G(c, own class code) and the mix must differ; a copy makes them equal",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_ds": 1.0, "ds_decay_steps": STEPS}})),
    StudyRun("ds5", "ds with λ_ds 5 decaying over 3000 steps (≈ constant within the budget, as StarGAN v2's 100k-step "
                    "decay is at 300 steps): the same term, strong enough to rival the reconstruction terms",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_ds": 5.0, "ds_decay_steps": 3000.0}})),
    StudyRun("class_rec", "recon_only + class-code reconstruction (λ_sty 1): E_B(m) must be E_B(x₂); a copy "
                          "encodes back to E_B(x₁)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_class_rec": 1.0}})),
    StudyRun("content_adv", "recon_only + a content-code identity adversary (λ_adv,c 1): E_A(x) must not name the "
                            "person; a copy needs the identity in E_A(x)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_content_adv": 1.0}})),
    StudyRun("content_adv_fast", "content_adv with the adversary at lr 3e-3 (lr_dis; no D runs in recon_only): at "
                                 "3e-4 it named only 1.5-2 % of the training people from E_A(x) (chance 0.8 %)",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_content_adv": 1.0}, "lr_dis": 3e-3})),
    StudyRun("ds_3000", "ds at 3000 steps (λ_ds 1 decayed to 0 over the run): the diversity term where StarGAN v2's "
                        "schedule has room to act",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_ds": 1.0, "ds_decay_steps": 3000.0},
                                                      "steps": 3000})),
    StudyRun("content_adv_fast_3000", "content_adv_fast at 3000 steps: time for the adversary to learn to name people "
                                      "from E_A(x), so that hiding them from it costs the encoder something",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_content_adv": 1.0}, "lr_dis": 3e-3,
                                                      "steps": 3000})),
    StudyRun("funit_own_3000", "funit_own at FUNIT's own balance (r_w 0.1 against gan_w 1, fm 1) for 3000 steps: the "
                               "class-conditional D must score each mix as its class image's person; a copy is "
                               "scored as the wrong person",
             {"weights": {**NO_LONG, "r_w": 0.1}, "steps": 3000}),
    StudyRun("funit_own_same_3000", "funit_own_3000 + λ_same 1: the same class-conditional D term, and the class "
                                    "code may carry only what a person's images share",
             {"weights": {**NO_LONG, "r_w": 0.1, "lambda_same": 1.0}, "steps": 3000}),
    # Issue 19: the frozen identity critic (trainer/identity_critic.py), pre-trained on the training identities.
    StudyRun("critic_cos", "recon_only + frozen identity critic, 1 − cos of its features of each mix and of its class "
             "image (λ_crit 5): a copy of the content image has the wrong person's features",
             CRITIC_COS_V1),
    StudyRun("critic_cos_3000", "critic_cos at 3000 steps: the critic's features of the class person, which a copy "
             "of the content image cannot match, at a budget where the probe kept moving",
             _recipe(CRITIC_COS_V1, {"steps": 3000})),
    StudyRun("critic_cos_nosame", "critic_cos without λ_same: only the critic's class-person features (which a copy "
             "of the content image cannot match) tie the class code to the person",
             _recipe(ADAM, LN, LORD_W, NO_GAN, CRITIC)),
    StudyRun("critic_cos_gan", "critic_cos with the class-conditional discriminator from the first step: D(m, class "
             "label) and the critic's features both ask for the class person, which a copy does not show",
             _recipe(ADAM, LN, SAME, LORD_W, CRITIC)),
    StudyRun("critic_ce", "recon_only + the critic's cross-entropy on each mix against the class person's label "
             "(λ_crit,CE 1; the measured alternative): a copy of the content image names the wrong person",
             _recipe(ADAM, LN, SAME, LORD_W, NO_GAN, {"weights": {"lambda_critic_ce": 1.0}})),
    StudyRun("critic_cos_folder", "critic_cos trained from the same faces exported as one folder per person: the "
             "critic pre-trains on the folder's own images, as it would on a user's photos (no renderer)",
             CRITIC_COS_V1, from_folder=True),
    StudyRun("critic_cos_lr1e3_3000", "critic_cos_3000 with the generator's lr ×3.3 (1e-3): its curve was still "
             "falling at 3000 steps (person 0.63 → 0.62 over the last 1000), so learning speed may be the limit",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3})),
    StudyRun("critic_cos10_3000", "critic_cos_3000 with λ_crit 10: at λ 5 the critic's loss (1 − cos ≈ 0.07 from "
             "step 1500) is a sliver of the reconstruction terms, so its pull on identity fades as it is satisfied",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "weights": {"lambda_critic": 10.0}})),
    StudyRun("critic_cos_lr1e3_c10_3000", "critic_cos_3000 with both: the generator's lr 1e-3 and λ_crit 10 (each "
             "alone moved identity a little faster)",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3, "weights": {"lambda_critic": 10.0}})),
    StudyRun("critic_cos_lr1e3_small_3000", "critic_cos_lr1e3_3000 with a content code of 8 channels: less room "
             "in E_A(x) for the person, so the class code must carry them",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3, "model": {"content_dim": 8}})),
    StudyRun("critic_cos_lr1e3_c10_gan_3000", "critic_cos_lr1e3_c10_3000 with FUNIT's class-conditional "
             "discriminator from the first step: D(m, class label) also asks each mix to look like the class person",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3, "weights": {"lambda_critic": 10.0,
                                                                             "gan_delay_steps": 0.0}})),
    StudyRun("critic_cos_lr1e3_c10_nolong_3000", "critic_cos_lr1e3_c10_3000 without the G2G reassembly-stage losses "
             "(λ_long = λ_R = λ_L = 0): does cross-training help the best recipe without ground truth? (the recipe "
             "g2g-train --recipe identity and the app train with)",
             _recipe(RECIPES["identity"].changes, {"steps": 3000})),
    StudyRun("critic_cos_lr1e3_c10_nolong_s1_3000", "critic_cos_lr1e3_c10_nolong_3000, seed 1",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3, "seed": 1,
                                  "weights": {"lambda_critic": 10.0, **NO_LONG}})),
    StudyRun("critic_cos_lr1e3_c10_s1_3000", "critic_cos_lr1e3_c10_3000, seed 1 (the reassembly question's second "
             "seed, with the G2G losses)",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3, "seed": 1, "weights": {"lambda_critic": 10.0}})),
    StudyRun("critic_cos_lr1e3_c10_nolong_gan_3000", "critic_cos_lr1e3_c10_nolong_3000 with the class-conditional "
             "discriminator from the first step (the D lifted identity to 67 %, dropping the G2G losses helped the "
             "person ratio)",
             _recipe(CRITIC_COS_V1, {"steps": 3000, "lr_gen": 1e-3, "weights": {"lambda_critic": 10.0, **NO_LONG,
                                                                             "gan_delay_steps": 0.0}})),
    StudyRun("identity_class_rec_3000", "the identity recipe (critic_cos_lr1e3_c10_nolong_3000) + class-code "
             "reconstruction (λ_sty 1): E_B(m) must be E_B(x₂), which a copy of the content image (E_B(x₁)) cannot "
             "satisfy, beside the critic's features",
             _recipe(RECIPES["identity"].changes, {"steps": 3000, "weights": {"lambda_class_rec": 1.0}})),
    StudyRun("identity_supervised_3000", "the identity recipe + the supervised cross loss (λ_cross 2, the renderer's "
             "true swaps): its supervised twin, the reference an unsupervised row is measured against at 32 px",
             _recipe(RECIPES["identity"].changes, {"steps": 3000, "weights": {"lambda_cross_gt": 2.0}})),
    StudyRun("identity_cycle_3000", "the identity recipe's critic (λ_crit 10), LayerNorm and Adam at lr 1e-3 in "
             "CycleFUNIT (paper §IV-B: code cycles, the pixel long reconstruction, its PatchGAN D): the paper's other "
             "cross-training arm; a copy has the wrong person's critic features", IDENTITY_CYCLE),
    StudyRun("identity_cycle_s1_3000", "identity_cycle_3000, seed 1", _recipe(IDENTITY_CYCLE, {"seed": 1})),
    StudyRun("identity_b32_3000", "the identity recipe at batch 32: batch 16 lifted identity to 60 % (the person "
             "ratio unchanged); four times batch 8's pairs per step",
             _recipe(RECIPES["identity"].changes, {"steps": 3000, "batch_size": 32})),
    StudyRun("identity_c20_3000", "the identity recipe with λ_crit 20: λ 10 pulled the person harder than λ 5 "
             "(0.590 against 0.610 with lr 1e-3); does the pull go on?",
             _recipe(RECIPES["identity"].changes, {"steps": 3000, "weights": {"lambda_critic": 20.0}})),
    StudyRun("identity_b16_3000", "the identity recipe at batch 16: twice the pairs per step, for a critic and a "
             "reconstruction that are still learning at 3000 steps (the supervised twin reaches 0.48 there)",
             _recipe(RECIPES["identity"].changes, {"steps": 3000, "batch_size": 16})),
    StudyRun("critic_cos_s1", "critic_cos, seed 1 (the critic's features of the class person, which a copy of the "
             "content image cannot match)",
             _recipe(CRITIC_COS_V1, {"seed": 1})),
)


def run_by_name(name: str) -> StudyRun:
    for run in RUNS:
        if run.name == name:
            return run
    raise KeyError(f"no study run named {name!r} (known: {', '.join(r.name for r in RUNS)})")
