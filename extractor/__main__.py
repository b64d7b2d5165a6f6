"""``python -m extractor`` — the same CLI as the ``extractor`` console script (with the fast
path of ``extract``; see :mod:`extractor.cli_fast`)."""

from extractor.cli_fast import module_main

if __name__ == "__main__":
    module_main()
