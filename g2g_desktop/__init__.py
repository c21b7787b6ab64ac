"""G2G Desktop: disentangled face mixing with the G2G cross-training architecture."""

__version__ = "0.1.0"
