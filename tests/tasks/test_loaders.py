"""BBH and GSM8K loaders: real local copies, a loopback download server, and bad files."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.tasks import loaders
from undertow.bench.tasks.loaders import (
    BBH_TASKS,
    DataError,
    DownloadError,
    load_bbh,
    load_gsm8k,
    normalize_number,
    parse_bbh,
    parse_gsm8k,
    score_gsm8k,
)
from undertow.bench.tasks.reasoning import (
    dyck_languages,
    multistep_arithmetic,
    navigation,
    object_counting,
    word_sorting,
)

# --- the real files in ../shared/data ----------------------------------------------------

def test_every_bbh_task_loads_from_a_folder_and_a_file(shared_data: Path) -> None:
    for task in BBH_TASKS:
        raw = json.loads((shared_data / "bbh" / f"{task}.json").read_text())
        examples = load_bbh(task, path=shared_data / "bbh")
        assert [(e.input, e.target) for e in examples] == \
            [(r["input"], r["target"]) for r in raw["examples"]]
        assert examples[0].meta == {"source": "bbh", "task": task, "index": 0}
    assert len(load_bbh("navigate", path=shared_data / "bbh" / "navigate.json")) == 250


@pytest.mark.parametrize(("bbh_task", "module"), [
    ("word_sorting", word_sorting), ("multistep_arithmetic_two", multistep_arithmetic),
    ("dyck_languages", dyck_languages), ("navigate", navigation),
    ("object_counting", object_counting),
])
def test_our_solvers_answer_the_real_bbh_items(shared_data: Path, bbh_task: str, module) -> None:
    """Our generated items share the real ones' format, so our solvers read those too."""
    for example in load_bbh(bbh_task, path=shared_data / "bbh"):
        assert module.solve(example.input) == example.target, example.input
        assert module.score(example.target, example.target) == 1.0


def test_gsm8k_splits_load_with_numeric_targets(shared_data: Path) -> None:
    for split, n in (("train", 7473), ("test", 1319), ("test_socratic", 1319)):
        examples = load_gsm8k(split, path=shared_data / "gsm8k")
        assert len(examples) == n
        assert all(e.target == normalize_number(e.target) for e in examples)
    first = load_gsm8k("test", path=shared_data / "gsm8k" / "test.jsonl")[0]
    assert first.target == re.findall(r"<<[^=]*=([^>]*)>>", first.meta["rationale"])[-1]
    assert "####" not in first.meta["rationale"]


# --- a loopback server for the download path ---------------------------------------------

@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the environment must not intercept the loopback server."""
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")


class _Handler(http.server.SimpleHTTPRequestHandler):
    disable_nagle_algorithm = True
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """(base URL, folder it serves, list of request paths it received)."""
    root = tmp_path / "www"
    root.mkdir()
    seen: list[str] = []
    handler = type("H", (_Handler,), {"requests": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def _bbh_file(n: int) -> str:
    return json.dumps({"canary": "test", "examples": [
        {"input": f"question {i}", "target": str(i)} for i in range(n)]}, indent=1)


def test_bbh_downloads_once_into_the_cache(server, tmp_path: Path) -> None:
    base, root, seen = server
    (root / "bbh").mkdir()
    (root / "bbh" / "snarks.json").write_text(_bbh_file(3))
    cache = tmp_path / "cache"
    first = load_bbh("snarks", base_url=f"{base}/bbh", cache_dir=cache)
    again = load_bbh("snarks", base_url=f"{base}/bbh", cache_dir=cache)
    assert [e.target for e in first] == ["0", "1", "2"] and again == first
    assert seen == ["/bbh/snarks.json"]  # the second load read the cache
    kept = list((cache / "data").rglob("*"))
    assert [p.name for p in kept if p.is_file()] == ["snarks.json"]


def test_gsm8k_download_with_base_url_from_env(server, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base, root, seen = server
    rows = [{"question": "How many?", "answer": "2 + 2 = 4\n#### 1,004"}]
    (root / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    monkeypatch.setenv(loaders.GSM8K_URL_ENV, base)
    monkeypatch.setenv(loaders.CACHE_ENV, str(tmp_path / "c"))
    examples = load_gsm8k("test")
    assert [(e.input, e.target) for e in examples] == [("How many?", "1004")]
    assert seen == ["/test.jsonl"]
    assert (tmp_path / "c" / "data" / "gsm8k").is_dir()


def test_a_malformed_download_is_not_kept(server, tmp_path: Path) -> None:
    base, root, _ = server
    (root / "snarks.json").write_text('{"examples": [{"input": "x"}]}')
    with pytest.raises(DataError, match=r"snarks.json:1: example 0, field 'target'"):
        load_bbh("snarks", base_url=base, cache_dir=tmp_path / "c")
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file()]


def test_a_missing_remote_file_is_a_clear_error(server, tmp_path: Path) -> None:
    base, _, _ = server
    with pytest.raises(DownloadError, match="HTTP 404.*pass path="):
        load_bbh("snarks", base_url=base, cache_dir=tmp_path / "c")


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="could not download http://127.0.0.1:9/"):
        load_gsm8k("test", base_url="http://127.0.0.1:9", cache_dir=tmp_path, timeout=2)


def test_a_damaged_cache_file_is_fetched_again(server, tmp_path: Path) -> None:
    base, root, seen = server
    (root / "snarks.json").write_text(_bbh_file(1))
    cache = tmp_path / "cache"
    load_bbh("snarks", base_url=base, cache_dir=cache)
    cached = next(p for p in cache.rglob("snarks.json"))
    cached.write_text("{ broken")
    assert len(load_bbh("snarks", base_url=base, cache_dir=cache)) == 1
    assert len(seen) == 2


# --- errors on bad names and bad local files ----------------------------------------------

def test_unknown_names_suggest_close_matches() -> None:
    with pytest.raises(ValueError, match="unknown BBH task 'navigation'; did you mean navigate"):
        load_bbh("navigation")
    with pytest.raises(ValueError, match="unknown GSM8K split 'tset'; did you mean test"):
        load_gsm8k("tset")


def test_a_missing_local_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="snarks.json does not exist"):
        load_bbh("snarks", path=tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere.jsonl does not exist"):
        load_gsm8k("test", path=tmp_path / "nowhere.jsonl")


def test_malformed_bbh_files_name_the_file_and_line(tmp_path: Path) -> None:
    bad_json = tmp_path / "a.json"
    bad_json.write_text('{\n  "examples": [\n    {"input": "x", "target": }\n  ]\n}')
    with pytest.raises(DataError, match=r"a\.json:3: not valid JSON"):
        load_bbh("snarks", path=bad_json)
    bad_field = tmp_path / "b.json"
    rows = [{"input": "x", "target": "y"}] * 3 + [{"input": "x", "target": 4}]
    bad_field.write_text(json.dumps({"canary": "c", "examples": rows}, indent=2))
    with pytest.raises(DataError, match=r"b\.json:16: example 3, field 'target'"):
        load_bbh("snarks", path=bad_field)
    no_examples = tmp_path / "c.json"
    no_examples.write_text('{"canary": "c"}')
    with pytest.raises(DataError, match=r"c\.json:1: field examples"):
        load_bbh("snarks", path=no_examples)


@pytest.mark.parametrize(("line", "problem"), [
    ('{"question": "q", "answer": "a"}', "no final '#### <number>'"),
    ('{"question": "q", "answer": "#### many"}', "final answer 'many' is not a number"),
    ('{"question": "q"}', 'string fields "question" and "answer"'),
    ('{"question": "q", "answer": ', "not valid JSON"),
])
def test_malformed_gsm8k_lines_name_the_file_and_line(tmp_path: Path, line: str,
                                                      problem: str) -> None:
    good = json.dumps({"question": "q", "answer": "#### 1"})
    path = tmp_path / "test.jsonl"
    path.write_text(f"{good}\n\n{line}\n")
    with pytest.raises(DataError) as info:
        load_gsm8k("test", path=tmp_path)
    assert "test.jsonl:3: " in str(info.value) and problem in str(info.value)


# --- parser properties -------------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(st.tuples(text, text), max_size=8), st.sampled_from([None, 1, 2, 4]))
def test_parse_bbh_round_trips(rows: list[tuple[str, str]], indent: int | None) -> None:
    raw = json.dumps({"canary": "c", "examples": [{"input": i, "target": t} for i, t in rows]},
                     indent=indent)
    assert [(e.input, e.target) for e in parse_bbh(raw, "mem")] == rows


@given(st.lists(st.tuples(text, st.integers(-10**9, 10**9)), max_size=8))
def test_parse_gsm8k_round_trips(rows: list[tuple[str, int]]) -> None:
    raw = "\n".join(json.dumps({"question": q, "answer": f"work\n#### {n:,}"}) for q, n in rows)
    assert [(e.input, e.target) for e in parse_gsm8k(raw, "mem")] == [(q, str(n)) for q, n in rows]


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6,
                   max_value=10**6))
def test_normalize_number_is_canonical(value) -> None:
    once = normalize_number(str(value))
    assert normalize_number(once) == once
    assert float(once) == float(value)
    assert normalize_number(f"${value:,}") == once


def test_score_gsm8k_reads_the_last_number() -> None:
    assert score_gsm8k("She pays $1,000.00 in total. The answer is 1000.", "1000") == 1.0
    assert score_gsm8k("It is 18, not 20", "18") == 0.0
    assert score_gsm8k("no idea", "3") == 0.0
