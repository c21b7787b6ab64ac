import pytest
import torch

from g2g_desktop.core.config import FunitGeneratorConfig, NaiveConfig
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.naive import NaiveGenerator

TINY_FUNIT = FunitGeneratorConfig(
    nf=8, n_res_blks=1, nf_mlp=16, latent_dim=8, n_mlp_blks=3, n_downs_content=2, n_downs_class=2, image_size=32
)
TINY_NAIVE = NaiveConfig(image_size=32, nf=8, max_nf=32, n_downs=3, content_dim=16, class_dim=8, nf_mlp=16)


@pytest.fixture
def tiny_funit() -> FunitGenerator:
    torch.manual_seed(0)
    return FunitGenerator(TINY_FUNIT).eval()


@pytest.fixture
def tiny_naive() -> NaiveGenerator:
    torch.manual_seed(0)
    return NaiveGenerator(TINY_NAIVE).eval()


@pytest.fixture
def images() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.rand(4, 3, 32, 32, generator=g) * 2 - 1
