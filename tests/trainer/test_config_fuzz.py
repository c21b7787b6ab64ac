"""Property-based fuzzing of the training config parsers (`--set` overrides and config files): they read
user-controlled text, and the one allowed failure is a one-line `TrainConfigError`; anything else escaping
is a bug that would reach the user as a traceback. The core parsers are fuzzed in tests/core/test_fuzz.py.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

trainer_config = pytest.importorskip("trainer.config")
SET_NAMES = [*trainer_config.TrainConfig.__dataclass_fields__, "weights.alpha", "weights.gamma", "model.nf",
             "dis.nf", "weights.nope", "steps.x", "", " "]  # fmt: skip
set_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["1e400", "1.0e+400", "-1", "nan", ".nan", ".inf", "-.inf", "true", "null", "[1, 2]",
                     "{a: 1}", "10" * 200, "!!python/object:os.system", "&a [*a]", "0x10", "1_000"]),
    st.integers().map(str),
    st.floats().map(repr),
)  # fmt: skip


def check_overrides(overrides: list[str]) -> None:
    """`--set` parsing, typing and validation fail only with a one-line TrainConfigError."""
    try:
        config = trainer_config.config_from_dict(trainer_config.apply_overrides({}, overrides), "--set")
        trainer_config.validate_config(config)
    except trainer_config.TrainConfigError as error:
        assert "\n" not in str(error)


@pytest.mark.timeout(60)
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SET_NAMES), set_values), max_size=4))
@example([("weights", "?")])  # used to escape as TypeError
def test_set_overrides_and_validation(pairs):
    check_overrides([f"{name}={value}" for name, value in pairs])


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(["weights=?"], id="yaml_null_key"),
        pytest.param(["weights=@", "weights.alpha=1"], id="scalar_then_subfield"),
        pytest.param(["model=[1]", "model.nf=3"], id="list_then_subfield"),
        pytest.param(["lr_gen=" + "9" * 400], id="huge_int_for_float"),
        pytest.param(["weights.alpha=" + "9" * 400], id="huge_int_loss_weight"),
        pytest.param(["data=" + "a" * 5000], id="overlong_data_path"),
        pytest.param(["weights.alpha=.nan"], id="nan_weight"),
        pytest.param(["model=?"], id="yaml_null_key_model"),
        pytest.param(["data=\x00"], id="nul_in_path"),
    ],
)  # fmt: skip
def test_set_override_bug(overrides):
    """Each once escaped as TypeError, ValueError, OverflowError or OSError instead of a TrainConfigError."""
    check_overrides(overrides)


@pytest.mark.timeout(60)
@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(max_size=200))
@example("?")  # {None: None}: a non-string key used to escape as TypeError
def test_config_file_arbitrary_text(text):
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".yaml", ".json"):
            path = Path(folder) / f"run{suffix}"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            with contextlib.suppress(trainer_config.TrainConfigError):
                trainer_config.config_from_dict(trainer_config.load_config_file(path), str(path))
