"""The content-code identity adversary (issue 19): DRIT's content discriminator (Lee et al. 2018) as a classifier.

DRIT trains a discriminator on its content codes so they cannot tell which domain an image came from; here the
"domains" are the training identities. A small classifier learns to name the person from E_A(x), and the
generator is trained, through `losses.identity_confusion`, to leave it guessing. A content code that carries the
identity lets G copy the content image whatever class code it is given; one the classifier cannot read identity
from has to take identity from the class code.

Each generator step the adversary is used twice, in this order:
  1. frozen, on E_A(x) of the cross pass: the generator's confusion term (λ_adv,c, in eq. 12);
  2. after G's update, one step of its own: cross-entropy on the detached codes with the true labels.
It has its own optimiser ("content_adv", the configured kind at `lr_dis`, as a discriminator) and is saved with
the run as module "content_adv", like the identity head: it is built when a run starts with λ_adv,c > 0.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from trainer.approaches.base import frozen
from trainer.losses import identity_confusion

WIDTH = 64  # channels of the classifier's two convolutions: small next to E_A, which it must read, not match


class ContentIdentityClassifier(nn.Module):
    """Logits over the training identities from a content code (B × C × h × w): two 3×3 convolutions (the second
    halves h and w), average pooling and a linear layer. The convolutions see where things are in the code, which a
    pooled linear probe would not."""

    def __init__(self, channels: int, num_classes: int, width: int = WIDTH):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes),
        )

    def forward(self, content: Tensor) -> Tensor:
        return self.net(content.float())


def confusion_term(classifier: ContentIdentityClassifier, content: Tensor) -> Tensor:
    """The generator's side: `identity_confusion` of the classifier's logits on E_A(x), the classifier frozen (its
    parameters get no gradient here; only the code does)."""
    with frozen(classifier):
        return identity_confusion(classifier(content))


def classifier_loss(classifier: ContentIdentityClassifier, content: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """(cross-entropy, accuracy) of the classifier naming `labels` from the detached codes: its own update's loss,
    and how much identity the content code still carries (chance 1/K)."""
    logits = classifier(content.detach())
    accuracy = (logits.argmax(1) == labels).float().mean()
    return F.cross_entropy(logits, labels), accuracy
