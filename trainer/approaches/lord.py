"""LORD (Gabbay & Hoshen, "Demystifying Inter-Class Disentanglement", ICLR 2020) on FUNIT's generator.

LORD needs no encoder to learn what is shared: each identity y gets one class embedding e_y and each
training image i one content embedding c_i, both optimised directly with the decoder. A class code
shared by all of a person's images cannot carry anything image-specific, and Gaussian noise on the
content code makes duplicating the identity in it costly. With G = FUNIT's MLP + AdaIN decoder:

    stage 1 (step < lord_stage1_steps), latent optimisation (LORD §3, first stage):
        L₁ = ‖G(c_i + ε, e_y) − x_i‖₁ [+ α·L_vgg] + λ_decay·mean c_i²,  ε ~ N(0, σ_lord²)
    stage 2, amortisation (LORD §3, second stage), the tables frozen:
        L₂ = λ_emb·(‖E_A(x_i) − c_i‖² + ‖E_B(x_i) − e_y‖²) + λ_short·‖G(E_A(x_i), E_B(x_i)) − x_i‖₁ [+ α·L_vgg]

(‖·‖² is the MSE, LORD's 10·MSE each with λ_emb = 10; λ_short = 0 keeps G frozen in stage 2; α·L_vgg is
the project's VGG perceptual loss, added only when `vgg_weights` are given.) The class embeddings have
E_B's code shape (latent_dim×1×1) and the content embeddings E_A's (content_dim×h×w: set a small
`model.content_dim`, the tables hold one such code per training image).

Exports during stage 1: E_A and E_B also regress the current embeddings in stage 1 (λ_emb, targets
detached, so the encoders never shape the embeddings), so every model file the run writes is an ordinary
FUNIT generator whose encoders follow the latest tables: usable at any step; stage 2 (frozen tables, G
fine-tuned through the encoders) finishes the distillation the app's mixes go through.

Images come without augmentation (`sampler_options`): each content embedding must describe one fixed
picture. Optimisers: the embeddings by Adam (lr `lr_latent`, LORD's 3e-3, no weight decay: λ_decay is the
content code's only regulariser, the class codes have none, as in LORD), the generator by
`config.optimizer` ("auto" = Adam, lr `lr_gen`; LORD's 3e-4). No discriminator, no EMA.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from g2g_desktop.core.funit import FunitGenerator, init_kaiming
from g2g_desktop.core.g2g import encode, noisy
from trainer.approaches.base import Approach, seeded
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.losses import PerceptualLoss, content_code_penalty, l1

INIT_RANGE = 0.05  # LORD initialises its embeddings uniformly in ±0.05


class LatentTables(nn.Module):
    """LORD's latent codes: one class embedding per identity, one content embedding per training image."""

    def __init__(self, num_classes: int, num_images: int, class_shape: torch.Size, content_shape: torch.Size):
        super().__init__()
        self.class_codes = nn.Parameter(torch.empty(num_classes, *class_shape).uniform_(-INIT_RANGE, INIT_RANGE))
        self.content_codes = nn.Parameter(torch.empty(num_images, *content_shape).uniform_(-INIT_RANGE, INIT_RANGE))

    def forward(self, labels: Tensor, indices: Tensor) -> tuple[Tensor, Tensor]:
        """(content embeddings of images `indices`, class embeddings of identities `labels`)."""
        return self.content_codes[indices], self.class_codes[labels]


class LordApproach(Approach):

    def __init__(self, config: TrainConfig, num_classes: int, device: torch.device | str, *, num_images: int):
        super().__init__(config, num_classes, device)
        gen_config = config.generator_config()
        if gen_config.mask_head:
            raise ValueError("model.mask_head: the lord approach reconstructs G's raw image and never trains a mask")
        with seeded(config.seed):
            generator = FunitGenerator(gen_config)
            init_kaiming(generator)
            content_shape, class_shape = _code_shapes(generator, config.image_size)
            tables = LatentTables(num_classes, num_images, class_shape, content_shape)
        self.generator = generator.to(self.device)
        self.ema = None
        self.tables = tables.to(self.device)
        self.perceptual = PerceptualLoss(config.vgg_weights, self.device) if config.vgg_weights else None
        self.opt_gen = self.make_optimizer(self.generator.parameters(), config.lr_gen, "adam")
        self.opt_latent = torch.optim.Adam(self.tables.parameters(), lr=config.lr_latent)

    def modules(self):
        return {"gen": self.generator, "latents": self.tables}

    def optimizers(self):
        return {"gen": self.opt_gen, "latent": self.opt_latent}

    def sampler_options(self) -> dict[str, bool]:
        return {"train": False, "indices": True, "same_identity": False}

    def base_lr(self, which: str) -> float:
        return self.config.lr_latent if which == "latent" else super().base_lr(which)

    def stage(self, step: int) -> int:
        """1 (latent optimisation) before `lord_stage1_steps`, 2 (amortisation) from there on."""
        return 1 if step < self.config.lord_stage1_steps else 2

    def generator_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        batch, w = batch.to(self.device), self.weights
        x = torch.cat([batch.x1, batch.x2])
        labels, indices = batch.labels(), batch.image_indices()
        stage_one = self.stage(step) == 1
        with self.autocast():
            with torch.set_grad_enabled(stage_one):
                content, class_code = self.tables(labels, indices)
            own_content, own_class = encode(self.generator, x)
            # E_A, E_B → the embeddings (LORD §3's amortisation; in stage 1 towards detached targets)
            embed_content = F.mse_loss(own_content.float(), content.detach().float())
            embed_class = F.mse_loss(own_class.float(), class_code.detach().float())
            total = w.lambda_embed * (embed_content + embed_class)
            terms = {"Loss/G/embed_content": embed_content, "Loss/G/embed_class": embed_class}
            if stage_one:  # LORD §3's latent optimisation: the tables and G, through noisy content embeddings
                recon = self._reconstruction(self.generator.decode(noisy(content, w.lord_noise), class_code), x)
                decay = content_code_penalty(content)
                total = total + recon + w.lord_decay * decay
                terms.update({"Loss/G/recon_latent": recon, "Loss/G/content_decay": decay})
            elif w.lambda_short > 0:  # LORD §3's amortisation reconstruction: G fine-tuned through the encoders
                recon = self._reconstruction(self.generator.decode(own_content, own_class), x)
                total = total + w.lambda_short * recon
                terms["Loss/G/recon_short"] = recon
        terms["Loss/G/total"] = total
        logs = self.checked(terms, "Loss/G/total", step)
        self.update(("gen", "latent") if stage_one else "gen", total, step)
        return logs

    def _reconstruction(self, image: Tensor, x: Tensor) -> Tensor:
        """‖image − x‖₁, plus α·L_vgg where VGG weights were given."""
        loss = l1(image, x)
        return loss if self.perceptual is None else loss + self.weights.alpha * self.perceptual(image, x)


def _code_shapes(generator: FunitGenerator, image_size: int) -> tuple[torch.Size, torch.Size]:
    """(E_A's, E_B's) code shape for one image of `image_size`, read from the networks themselves."""
    with torch.no_grad():
        content, identity = encode(generator, torch.zeros(1, 3, image_size, image_size))
    return content.shape[1:], identity.shape[1:]
