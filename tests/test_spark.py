"""The Spark engine in real Spark local mode: the same groups as the local engine.

Marked ``spark`` (and ``slow``: starting a JVM takes a while); ``.ci/run`` installs PySpark
and Java and runs them with ``pytest -m spark``.
"""

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA, body

from dedup.cli import cli

pytestmark = [pytest.mark.spark, pytest.mark.slow]
pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)


def planted():
    """Copies, a bridge, a quoted short text, short exact copies, dates, a source footer.

    The bridge is a copy of two articles that are not copies of each other; the short text is
    quoted in two unrelated articles and joins neither (it is under half their size).
    """
    footer = "Ý kiến bạn đọc gửi về tòa soạn qua thư điện tử của báo"
    a, b, hub = body(0, 6), body(3, 6), body(60, 2)
    records = [
        {"id": "a", "text": "\n".join(a), "date": "2015-11-16"},
        {"id": "a-copy", "text": "\n".join(a[:5]), "date": "2015-11-15"},
        {"id": "b", "text": "\n".join(b)},
        {"id": "bridge", "text": "\n".join(body(1, 7)), "date": "2015-11-17"},
        {"id": "hub", "text": "\n".join(hub), "date": "2015-11-14"},
        {"id": "quote-1", "text": "\n".join(body(62, 6) + hub)},
        {"id": "quote-2", "text": "\n".join(hub + body(70, 6))},
        {"id": "short-1", "text": "Tin nhanh."},
        {"id": "short-2", "text": "Tin nhanh."},
        {"id": "empty", "text": ""},
    ]
    for n in range(5):  # the footer is boilerplate of the source: removed before comparing
        paragraphs = [*body(40 + 3 * n, 2), footer]
        records.append({"id": f"s{n}", "source": "vnexpress.net", "text": "\n".join(paragraphs)})
    return records


def test_spark_gives_the_local_engine_groups(tmp_path):
    records = planted()
    vims = SHARED_DATA / "vims.jsonl"
    if vims.exists():
        records += [json.loads(x) for x in vims.read_text(encoding="utf-8").split("\n")[:150]]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    runner = CliRunner()
    local = runner.invoke(cli, ["near", str(path), "--engine", "local"])
    spark = runner.invoke(
        cli, ["near", str(path), "--engine", "spark", "--spark-master", "local[2]"]
    )
    assert local.exit_code == 0 and spark.exit_code == 0, spark.output
    rows = [json.loads(line) for line in spark.stdout.splitlines()]
    assert spark.stdout == local.stdout
    duplicate_of = {r["id"]: r["duplicate_of"] for r in rows}
    assert duplicate_of["a"] == duplicate_of["b"] == duplicate_of["bridge"] == "a-copy"
    assert duplicate_of["short-2"] == "short-1" and duplicate_of["empty"] is None
    assert duplicate_of["hub"] is duplicate_of["quote-1"] is duplicate_of["quote-2"] is None
    assert all(duplicate_of[f"s{n}"] is None for n in range(5))
    planted_ids = {r["id"] for r in planted()}
    copies = {i for i in planted_ids if duplicate_of[i] is not None}
    assert copies == {"a", "b", "bridge", "short-2"}


def test_spark_engine_refuses_text_format(tmp_path):
    result = CliRunner().invoke(cli, ["near", "--engine", "spark", "--format", "text"])
    assert result.exit_code == 2
    assert "--engine spark writes --format jsonl only" in result.output


def test_bad_records_give_the_local_errors_and_rejects(tmp_path):
    good = planted()[:4]
    lines = [json.dumps(r, ensure_ascii=False) for r in good]
    lines.insert(2, '{"id": "broken", "text": ')
    lines.append(json.dumps({"id": "a", "text": "an id already used"}))
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    failed = [runner.invoke(cli, ["near", str(path), "--engine", e]) for e in ("local", "spark")]
    assert failed[0].exit_code == failed[1].exit_code == 1
    assert failed[1].output.splitlines()[-1] == failed[0].output.strip()
    assert failed[0].output.startswith(f"Error: {path}:3: invalid JSON")
    outputs, rejects = [], []
    for engine in ("local", "spark"):
        rejected = tmp_path / f"rejects-{engine}.jsonl"
        result = runner.invoke(
            cli,
            ["near", str(path), "--engine", engine, "--on-error", "skip", "--rejects", rejected],
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
        rejects.append(rejected.read_text(encoding="utf-8").splitlines())
    assert outputs[0] == outputs[1]
    assert len(outputs[1].splitlines()) == 4
    assert rejects[1][0] == lines[2] and len(rejects[1]) == 2


def test_folders_are_read_on_the_driver_with_the_same_result(seeds_dir):
    runner = CliRunner()
    local = runner.invoke(cli, ["near", str(seeds_dir)])
    spark = runner.invoke(cli, ["near", str(seeds_dir), "--engine", "spark"])
    assert spark.exit_code == 0, spark.output
    assert spark.stdout == local.stdout and len(spark.stdout.splitlines()) == 5
