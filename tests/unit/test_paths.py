"""What a library may read (`mediaserver.paths`): real paths inside the library folder. On tmp_path:
the rule is about the file system, with no app."""
import os

import pytest

from mediaserver.paths import is_within, resolved_inside, resolves_inside


def test_is_within_compares_whole_names():
    assert is_within("/srv/films/a.mp4", "/srv/films") and is_within("/srv/films", "/srv/films")
    assert is_within("/srv/films", "/")
    assert not is_within("/srv/films2/a.mp4", "/srv/films") and not is_within("/srv", "/srv/films")


def test_a_symlink_resolves_inside_only_when_its_real_path_stays_in_the_root(tmp_path):
    root, outside = tmp_path / "lib", tmp_path / "outside"
    (root / "Movies").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"x")
    (root / "Movies" / "real.mp4").write_bytes(b"x")
    os.symlink(outside / "secret.mp4", root / "Movies" / "out.mp4")
    os.symlink(root / "Movies" / "out.mp4", root / "Movies" / "out-twice.mp4")  # two hops, then out
    os.symlink("real.mp4", root / "Movies" / "alias.mp4")  # relative, and stays inside
    os.symlink(outside, root / "Folder")  # a folder link leading out
    os.symlink(root, tmp_path / "lib-link")  # the root reached through a link
    assert resolves_inside(str(root / "Movies" / "real.mp4"), str(root))
    assert resolves_inside(str(root / "Movies" / "alias.mp4"), str(tmp_path / "lib-link"))
    for leak in ("Movies/out.mp4", "Movies/out-twice.mp4", "Folder/secret.mp4", "Movies/../../outside/secret.mp4"):
        assert not resolves_inside(str(root / leak), str(root)), leak
    assert not resolves_inside(str(root / "Movies" / "real\x00.mp4"), str(root))
    assert resolved_inside(str(root), "Movies/alias.mp4") == str(root / "Movies" / "real.mp4")
    assert resolved_inside(str(root), "Movies/out.mp4") is None and resolved_inside(str(root), "Movies") is None
