"""What a library may read (`mediaserver.paths`): real paths inside the library folder, and the folders
that cannot be library folders. On tmp_path: the rule is about the file system, with no app."""
import os

import pytest

from mediaserver.paths import check_library_root, is_within, resolved_inside, resolves_inside


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


@pytest.mark.parametrize("folder,words", [
    ("/", "/ cannot be a library folder"),
    ("//", "cannot be a library folder"),
    ("/root", "/root cannot be a library folder"),
    ("/etc", "/etc is a system folder"),
    ("/etc/ssl", "/etc is a system folder"),
    ("/srv/../etc", "/etc is a system folder"),
    ("/proc", "/proc is a system folder"),
    ("/proc/self/root", "/proc is a system folder"),
    ("/sys", "/sys is a system folder"),
    ("/dev", "/dev is a system folder"),
    ("/dev/shm", "/dev is a system folder"),
    ("films", "'films' is a relative path"),
    ("./films", "is a relative path"),
    ("", "is a relative path"),
])
def test_system_folders_and_relative_paths_cannot_be_library_folders(folder, words):
    with pytest.raises(ValueError, match="cannot be a library folder|relative path") as caught:
        check_library_root(folder)
    assert words in str(caught.value)


def test_a_link_to_a_system_folder_is_refused_and_ordinary_folders_are_not(tmp_path):
    os.symlink("/etc", tmp_path / "config")
    with pytest.raises(ValueError, match=r"config \(which is /etc\) cannot be a library folder: /etc is a system"):
        check_library_root(str(tmp_path / "config"))
    assert check_library_root(str(tmp_path)) == os.path.realpath(tmp_path)
    assert check_library_root("/srv/../srv/films") == "/srv/films"  # need not exist: the caller checks that
    assert check_library_root("/root/Videos") == "/root/Videos"  # a folder under /root is not the home itself
