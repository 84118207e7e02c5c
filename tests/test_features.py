import pytest

from dedup.features import document_features, name_sequences


def names(text):
    return [n.split(":", 1)[1] for n in name_sequences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lindsay Lohan checks into Betty Ford Center", ["lindsay lohan", "betty ford center"]),
        ("The star left . Reid went to Promises on Tuesday .", ["promises", "tuesday"]),
        ("Reid went home.\nThe friend said so.", []),
        ("Tổng thống Nga Vladimir Putin hôm thứ hai", ["nga vladimir putin"]),
        ("ông Nguyễn Quang Huy, 27 tuổi", ["nguyễn quang huy"]),
        ("CNRP tuyên bố", []),
        ("đảng CNRP tuyên bố", ["cnrp"]),
        ("", []),
    ],
)
def test_name_sequences(text, expected):
    assert names(text) == expected


def test_name_sequences_are_normalized_like_every_other_feature():
    assert names("gặp Thanh Hoà") == names("gặp Thanh Hòa") == ["thanh hòa"]
    assert name_sequences("gặp Thanh Hoà")[0] != "thanh hòa"  # kept apart from plain tokens


def test_document_features_weights():
    feats = document_features(["a", "b"], ["t"], ["<n>"], title_weight=2, name_weight=3)
    assert feats.count("t") == 2
    assert feats.count("<n>") == 3
    assert feats.count("a b") == 1
