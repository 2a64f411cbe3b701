import pytest

from fixture_paths import PROC as FIXTURES
from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.filefd import FilefdCollector, parse_file_nr
from fleetwatch.exporters.host.snapshot import Snapshot


def test_collect_real_file_nr() -> None:
    out = Families()
    text = (FIXTURES / "sys/fs/file-nr").read_text()
    FilefdCollector().collect(Snapshot(files={"/proc/sys/fs/file-nr": text}), out, Options())
    assert out.get("node_filefd_allocated") == 465
    assert out.get("node_filefd_maximum") == 2466165


def test_missing_file_is_an_error() -> None:
    with pytest.raises(ParseError, match="not readable"):
        FilefdCollector().collect(Snapshot(), Families(), Options())


@pytest.mark.parametrize("text", ["", "1\t0\n", "a\t0\t3\n", "1\t0\tx\n", "\x00\xff\x01"])
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="/proc/sys/fs/file-nr"):
        parse_file_nr(text)
