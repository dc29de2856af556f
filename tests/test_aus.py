import pytest

from keras_au import aus


def test_lists_are_consistent():
    assert len(aus.OPENFACE_AUS) == 18
    assert len(aus.DISFA_AUS) == 12
    assert set(aus.DISFA_AUS) <= set(aus.OPENFACE_AUS)
    assert set(aus.DISFA_EVAL_AUS) <= set(aus.DISFA_AUS)
    assert set(aus.FACS_NAMES) == set(aus.OPENFACE_AUS)
    assert list(aus.OPENFACE_LABEL_RATES) == list(aus.OPENFACE_AUS)
    assert list(aus.DISFA_POSITIVE_RATES) == list(aus.DISFA_AUS)


@pytest.mark.parametrize("raw", ["AU1", "au01", "1", "AU01_c", " AU01_r "])
def test_normalize_au(raw):
    assert aus.normalize_au(raw) == "AU01"


@pytest.mark.parametrize("raw", ["AU03", "foo", "AU", "AU99"])
def test_normalize_rejects(raw):
    with pytest.raises(ValueError, match=raw.strip()):
        aus.normalize_au(raw)


def test_parse_au_list():
    assert aus.parse_au_list("disfa8") == aus.DISFA_EVAL_AUS
    assert aus.parse_au_list("AU12, au1,AU12") == ("AU12", "AU01")
    with pytest.raises(ValueError, match="empty"):
        aus.parse_au_list(",")


def test_au_indices_names_missing():
    assert aus.au_indices(["AU12", "AU01"], aus.DISFA_AUS) == [6, 0]
    with pytest.raises(ValueError, match="AU07"):
        aus.au_indices(["AU07"], aus.DISFA_AUS)
