import keras
import numpy as np
import pytest

from keras_au import aus
from keras_au.model import ARCHITECTURES, AUNet, build_aunet, with_new_head


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    return AUNet()


def test_paper_architecture(model):
    # The paper's net with 18 outputs has ~8.77 M parameters.
    assert model.count_params() == 8_767_954
    assert model.input_shape == (None, 64, 64, 1)
    assert model.output_shape == (None, 18)
    assert model.au_names == list(aus.OPENFACE_AUS)
    dropouts = {layer.name: layer.rate for layer in model.layers if "dropout" in layer.name}
    assert dropouts == {**{f"block{b}_dropout": 0.25 for b in range(1, 5)},
                        "fc1_dropout": 0.5, "fc2_dropout": 0.5}
    assert [model.get_layer(n).units for n in ("fc1", "fc2")] == [1024, 1024]


def test_head_stays_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        m = AUNet(block_filters=((4,),), dense_units=(8,))
        assert m.get_layer("fc1").compute_dtype == "bfloat16"
        assert m.get_layer("au_probs").compute_dtype == "float32"
        assert m(np.zeros((1, 64, 64, 1), np.float32)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_get_config_round_trip(model):
    config = model.get_config()
    clone = AUNet.from_config(config)
    assert clone.get_config() == config
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_saved_file_reloads_with_identical_outputs(model, tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (3, 64, 64, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.thresholds = None
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, AUNet)
    assert loaded.au_names == model.au_names
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_thresholds_travel_with_the_model(tmp_path):
    m = AUNet(au_names=["AU01", "AU12"], block_filters=((4,),), dense_units=(8,),
              thresholds=[0.3, 0.7])
    m.save(tmp_path / "t.keras")
    assert keras.models.load_model(tmp_path / "t.keras").decision_thresholds() == [0.3, 0.7]
    with pytest.raises(ValueError, match="2 thresholds for 1 AUs"):
        AUNet(au_names=["AU01"], thresholds=[0.1, 0.2])


def test_blocks_freeze_and_unfreeze(model):
    assert model.block_names == ["block1", "block2", "block3", "block4", "fc1", "fc2", "head"]
    model.set_trainable_blocks(["fc2", "head"])
    trainable = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trainable == {"fc2", "au_logits"}
    model.set_trainable_blocks(model.block_names)
    assert len(model.trainable_weights) == len(model.weights)
    with pytest.raises(ValueError, match="block9"):
        model.set_trainable_blocks(["block9"])


def test_new_head_keeps_trunk(model):
    new = with_new_head(model, aus.DISFA_AUS)
    assert new.output_shape == (None, 12)
    np.testing.assert_array_equal(new.get_layer("fc2").get_weights()[0],
                                  model.get_layer("fc2").get_weights()[0])
    np.testing.assert_array_equal(new.get_layer("block1_conv1").get_weights()[0],
                                  model.get_layer("block1_conv1").get_weights()[0])


def test_named_architectures_share_the_block_layout():
    compact = build_aunet("compact", aus.DISFA_AUS)
    assert compact.block_names == ["block1", "block2", "block3", "block4", "fc1", "head"]
    assert compact.output_shape == (None, 12)
    assert compact.count_params() < build_aunet("paper").count_params() / 10
    assert set(ARCHITECTURES) == {"paper", "compact"}
    with pytest.raises(ValueError, match="unknown architecture 'vgg'"):
        build_aunet("vgg")
