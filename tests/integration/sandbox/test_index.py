"""The sandbox index: a real pypiserver that lists, accepts and refuses files as PyPI would."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from release_train.adapters import command
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.index import IndexServer, sha256_of
from release_train.sandbox.publish import seed_build_backends, wheel_from_installed


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def make_wheel(dest: Path, name: str = "tiny_dist", version: str = "1.0") -> Path:
    path = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "")
    return path


def test_start_serves_the_simple_api_and_stop_ends_the_process(tmp_path: Path) -> None:
    server = IndexServer(tmp_path / "index")
    server.start()
    pid = server.pid
    assert pid is not None and alive(pid)
    assert server.simple_url == f"http://127.0.0.1:{server.port}/simple/"
    with urllib.request.urlopen(server.simple_url, timeout=10) as resp:  # noqa: S310
        assert resp.status == 200
    server.stop()
    assert not alive(pid)
    server.stop()  # stopping twice is harmless


def test_upload_then_list_with_the_digest(index_server: IndexServer, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    assert index_server.upload([wheel]) == [wheel.name]
    [listed] = index_server.list_files("Tiny.Dist")  # any spelling of the name
    assert listed.filename == wheel.name
    assert listed.sha256 == sha256_of(wheel)
    assert listed.url == f"{index_server.url}/packages/{wheel.name}"
    assert (index_server.packages_dir / wheel.name).read_bytes() == wheel.read_bytes()
    assert [f.filename for f in index_server.all_files()] == [wheel.name]
    assert index_server.find(wheel.name) == listed


def test_an_existing_file_is_refused(index_server: IndexServer, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    index_server.upload([wheel])
    with pytest.raises(ReleaseError) as caught:
        index_server.upload([wheel])
    assert caught.value.code is ErrorCode.INDEX_ERROR
    assert "already exists" in caught.value.message


def test_unknown_projects_are_404_not_a_redirect_to_pypi(index_server: IndexServer) -> None:
    assert index_server.list_files("requests") == []
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{index_server.simple_url}requests/", timeout=10)  # noqa: S310
    caught.value.close()
    assert caught.value.code == 404


def test_backend_wheel_rebuilt_from_the_environment_is_valid(tmp_path: Path) -> None:
    wheel = wheel_from_installed("flit_core", tmp_path)
    assert wheel.name.startswith("flit_core-") and wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = next(n.split("/")[0] for n in names if n.count("/") == 1 and "dist-info/M" in n)
        record = archive.read(f"{meta}/RECORD").decode().splitlines()
        assert names[-1] == f"{meta}/RECORD"
        assert "flit_core/buildapi.py" in names
        assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
        assert not {f"{meta}/INSTALLER", f"{meta}/REQUESTED"} & set(names)
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if path == f"{meta}/RECORD":
                assert digest == size == ""
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}"
            assert int(size) == len(data)
        assert sorted(line.rsplit(",", 2)[0] for line in record) == sorted(names)
    assert wheel_from_installed("flit_core", tmp_path / "again").read_bytes() == (
        wheel.read_bytes()
    )  # reproducible, so seeding twice is idempotent


def test_seeded_backend_installs_from_the_index_offline(
    index_server: IndexServer, tmp_path: Path, offline_env: dict[str, str]
) -> None:
    assert seed_build_backends(index_server, tmp_path / "backends") == [
        wheel_from_installed("flit_core", tmp_path / "probe").name
    ]
    assert seed_build_backends(index_server, tmp_path / "backends")  # idempotent
    target = tmp_path / "site"
    command.run(
        ["uv", "pip", "install", "--no-config", "--target", str(target), "flit_core"],
        env={
            **offline_env,
            "UV_INDEX_URL": index_server.simple_url,
            "UV_CACHE_DIR": str(tmp_path / "cache"),
        },
    )
    assert (target / "flit_core" / "buildapi.py").is_file()
