"""The ``remise`` console script: the command line, imported under a net for Ctrl-C.

Importing the command line (typer, FastAPI, SQLAlchemy, the engine) takes a second or
two; Ctrl-C meanwhile printed a KeyboardInterrupt traceback of those imports, before
any command could catch it. It ends as an interrupted command does: exit 130, no
traceback.
"""

from __future__ import annotations

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def main() -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None
    run()


if __name__ == "__main__":  # `python -m api.launch ...`, as the console script runs it
    main()
