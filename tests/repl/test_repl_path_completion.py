"""Tab on a path argument (/image PATH…, /save [N] FILE) completes the LAST word, quoted as the command reads it.

The REPL's own completer against a real directory (a name with a space, one
with a quote, a directory with a space), and the real REPL typed into
through prompt-toolkit's pipe input: Tab, then Enter, and the command gets
the files. Quoting is checked against ``shlex.split``, which /image uses.
"""

from __future__ import annotations

import shlex
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from chatthy.repl.completion import last_shell_word, shell_quoted
from tests.fakes import Text
from tests.repl.conftest import unique
from tests.tools.png_maker import png

TAB = "\t"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("paths")
    (root / "red.png").write_bytes(png(6, 4, grey=0x10))
    (root / "blue.png").write_bytes(png(3, 5, grey=0x20))
    (root / "my photo.png").write_bytes(png(4, 4, grey=0x40))
    (root / "it's.png").write_bytes(png(2, 2, grey=0x50))
    (root / "sub dir").mkdir()
    (root / "sub dir" / "inner.png").write_bytes(png(2, 3, grey=0x60))
    (root / "notes.txt").write_text("not a picture\n")
    assert " " not in str(root)  # the tests quote only what they create
    return root


@pytest.fixture(scope="module")
def completer(live_home):
    """The completer of a real REPL (its own daemon is the module's)."""
    from chatthy.repl.completion import ReplCompleter
    from chatthy.repl.state import ReplOptions
    from tests.repl.conftest import ReplDriver

    driver = ReplDriver(live_home, ReplOptions(new=True, color=False)).start()
    try:
        yield ReplCompleter(driver.repl)
    finally:
        driver.stop()


def completed(completer, text: str) -> list[str]:
    """Each completion applied: the whole line as it reads after choosing it."""
    out = []
    for c in completer.get_completions(Document(text, len(text)), CompleteEvent()):
        assert c.start_position <= 0
        out.append(text[:len(text) + c.start_position] + c.text)
    return out


def test_image_completes_the_last_path_not_the_whole_argument(completer, files):
    red = f"{files}/red.png"
    assert completed(completer, f"/image {red} {files}/bl") == [f"/image {red} {files}/blue.png"]
    assert completed(completer, f"/img {red} {files}/blue.png {files}/no") == [
        f"/img {red} {files}/blue.png {files}/notes.txt"]
    # The first path still completes as before, and only its rest is inserted.
    raw = list(completer.get_completions(Document(f"/image {files}/re"), CompleteEvent()))
    assert [(c.text, c.start_position) for c in raw] == [("d.png", 0)]


def test_names_with_spaces_or_quotes_come_back_quoted_as_shlex_reads_them(completer, files):
    red = f"{files}/red.png"
    photo = f'"{files}/my photo.png"'
    assert completed(completer, f"/image {red} {files}/my") == [f"/image {red} {photo}"]
    assert completed(completer, f'/image {red} "{files}/my p') == [f"/image {red} {photo}"]
    assert completed(completer, f"/image {red} '{files}/my p") == [f"/image {red} '{files}/my photo.png'"]
    assert completed(completer, f"/image {red} {files}/my\\ p") == [f"/image {red} {photo}"]
    assert completed(completer, f"/image {files}/it") == [f'/image "{files}/it\'s.png"']
    # A directory with a space, then a file inside it.
    assert completed(completer, f'/image "{files}/sub') == [f'/image "{files}/sub dir"']
    assert completed(completer, f'/image "{files}/sub dir"/') == [f'/image "{files}/sub dir/inner.png"']
    for line in (*completed(completer, f"/image {red} {files}/my"),
                 *completed(completer, f"/image {files}/it"),
                 *completed(completer, f'/image "{files}/sub dir"/')):
        paths = shlex.split(line.partition(" ")[2])
        assert all((files / p).is_file() for p in paths), line


def test_relative_paths_and_an_unquoted_argument_with_spaces(completer, files, monkeypatch):
    monkeypatch.chdir(files)  # nothing here starts with "p": only the whole argument matches
    assert completed(completer, "/image red.png my") == ['/image red.png "my photo.png"']
    assert sorted(completed(completer, "/image red.png ")) == sorted(
        f"/image red.png {shell_quoted(p.name)}" for p in files.iterdir())
    # /image takes one existing file with spaces as it is: `/image my p<Tab>` means that file.
    assert completed(completer, "/image my p") == ['/image "my photo.png"']
    assert completed(completer, f"/image   {files}/my p") == [f'/image   "{files}/my photo.png"']


def test_save_completes_its_file_after_a_block_number(completer, files):
    assert completed(completer, f"/save {files}/no") == [f"/save {files}/notes.txt"]
    assert completed(completer, f"/save 2 {files}/no") == [f"/save 2 {files}/notes.txt"]
    assert completed(completer, f"/save 2 {files}/su") == [f'/save 2 "{files}/sub dir"']


def buffer_text(r) -> str:
    return r.repl.session.default_buffer.text


def wait_buffer(r, expected: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if buffer_text(r) == expected:
            return
        time.sleep(0.02)
    raise AssertionError(f"the input line is {buffer_text(r)!r}, not {expected!r}")


def test_tab_then_enter_attaches_both_images(repl_driver, fake_clean, files):
    red = f"{files}/red.png"
    r = repl_driver(new=True)
    r.send(f"/image {red} {files}/my")
    wait_buffer(r, f"/image {red} {files}/my")
    r.send(TAB)
    wait_buffer(r, f'/image {red} "{files}/my photo.png"')
    r.send("\r")
    r.wait_text("they go with your next message")
    assert [i.path for i in r.repl.modes.images] == [red, f"{files}/my photo.png"]


def test_tab_completed_directory_with_a_space_is_where_save_writes(repl_driver, fake_clean, files, tmp_path):
    fake_clean.script(Text(["Saved reply."]))
    target = tmp_path / "new dir"
    target.mkdir()
    r = repl_driver(chat=unique("save"))
    mark = r.mark()
    r.line("hello")
    r.wait_text("Saved reply.", after=mark)
    r.send(f"/save {tmp_path}/ne")
    wait_buffer(r, f"/save {tmp_path}/ne")
    r.send(TAB)
    wait_buffer(r, f'/save "{tmp_path}/new dir"')
    mark = r.mark()
    r.send("/reply.md\r")
    r.wait_text("wrote the last reply to", after=mark)
    assert (target / "reply.md").read_text() == "Saved reply."
    assert not list(tmp_path.glob('"*'))  # no file named with the quote


# Words as a user may name files: spaces, quotes, backslashes, anything but NUL.
WORDS = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1),
                 min_size=1, max_size=4)


@given(WORDS, st.sampled_from(["", '"', "'"]))
def test_last_shell_word_reads_what_shlex_reads(words, quote):
    line = " ".join(shell_quoted(w, quote) for w in words)
    assert shlex.split(line) == words
    last = shell_quoted(words[-1], quote)
    word = last_shell_word(line)
    assert (word.text, line[word.start:]) == (words[-1], last)
    # While it is being typed (an open quote, a lone backslash), what is there is its beginning.
    for cut in range(len(last) + 1):
        assert words[-1].startswith(last_shell_word(line[:len(line) - len(last) + cut]).text)
