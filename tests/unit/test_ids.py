from ulid import ULID

from mainspring.domain.ids import ulids_from_seed


def test_seed_gives_stable_ordered_ids() -> None:
    seed = "1764000000000,AAECAwQFBgcICQ=="
    first = ulids_from_seed(seed, 3)
    assert first == ulids_from_seed(seed, 3)
    assert first is not None and len(set(first)) == 3
    assert all(ULID.from_str(value).milliseconds == 1764000000000 for value in first)
    assert first == sorted(first)


def test_bad_seed_is_ignored() -> None:
    assert ulids_from_seed("nonsense", 1) is None
    assert ulids_from_seed("12,AAEC", 1) is None
