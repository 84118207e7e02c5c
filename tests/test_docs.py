"""Documentation stays complete: every command has help, the README names real commands."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_commands_have_help(name):
    command = cli.commands[name]
    assert command.help, f"{name} is missing its help"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage: cli" in result.output or "Usage: dedup" in result.output


def test_top_level_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    for name in cli.commands:
        assert name in result.output


def test_readme_mentions_every_command():
    text = README.read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"dedup {name}" in text, f"README does not show `dedup {name}`"


def test_every_public_name_is_loaded_on_first_use_from_its_module():
    """``__all__`` and the lazy table of ``dedup/__init__.py`` name the same things, all real."""
    import importlib

    import dedup

    assert sorted(dedup._MODULE_OF) == sorted(dedup.__all__)
    for name, module in dedup._MODULE_OF.items():
        value = getattr(dedup, name)
        assert value is getattr(importlib.import_module(f"dedup.{module}"), name)
        assert name in dir(dedup)
