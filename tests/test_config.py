import pytest

from keras_au import cli
from keras_au.config import PretrainConfig, pretrain_preset
from keras_au.pretrain import build_parser


def test_presets_validate():
    default = pretrain_preset("default")
    assert default.architecture == "compact" and default.learning_rates == (1e-3,)
    paper = pretrain_preset("paper")
    assert paper.architecture == "paper"
    assert paper.learning_rates == (0.005, 0.0025, 0.0005) and paper.lr_boundaries == (20, 40)
    assert paper.batch_size == 32 and paper.epochs == 300
    assert pretrain_preset("smoke", epochs=2).epochs == 2


@pytest.mark.parametrize("changes, message", [
    ({"batch_size": 0}, "--batch-size must be a positive integer, got 0"),
    ({"dataset": "imagenet"}, "--dataset must be one of"),
    ({"architecture": "resnet"}, "--architecture must be one of paper, compact; got 'resnet'"),
    ({"learning_rates": (0.1, 0.01)}, "--lr-boundaries needs 1 epoch"),
    ({"learning_rates": (-1.0,)}, "positive"),
    ({"lr_boundaries": (5,), "learning_rates": (0.1, 0.2), "epochs": 3}, None),
])
def test_validation_messages(changes, message):
    if message is None:
        pretrain_preset("default", **changes)
        return
    with pytest.raises(ValueError, match=message):
        pretrain_preset("default", **changes)


def test_unknown_keys_are_rejected():
    with pytest.raises(ValueError, match="unknown config keys"):
        PretrainConfig.from_dict({"epoch": 3})


def test_flags_override_the_preset_only_when_given():
    args = build_parser().parse_args(["-r", "out", "--epochs", "5", "--no-augment",
                                      "--learning-rates", "0.1,0.01", "--lr-boundaries", "2"])
    got = cli.overrides(args, PretrainConfig)
    assert got == {"model_dir": "out", "epochs": 5, "augment": False,
                   "learning_rates": (0.1, 0.01), "lr_boundaries": (2,)}
    config = pretrain_preset("smoke", **got)
    assert config.batch_size == 16  # from the preset


def test_round_trip_through_dict():
    config = pretrain_preset("paper")
    assert PretrainConfig.from_dict(config.to_dict()) == config
