from inpkg import shout


def test_shout() -> None:
    assert shout("hi") == "HI!"
