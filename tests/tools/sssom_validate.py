"""Validates SSSOM TSV files with the reference tooling (sssom-py).

Usage: python sssom_validate.py FILE EXPECTED_ROWS [FILE EXPECTED_ROWS ...]

Each file is parsed, every mapping must survive parsing (sssom-py drops a
malformed row with a logged message instead of failing, so the rows are counted), and the
JSON-schema, prefix-map-completeness and strict-CURIE validators must pass. Prints one
line per file; exits 1 on the first problem, 2 when sssom-py is missing.
"""

import logging
import sys

try:
    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate
except ImportError as error:  # pragma: no cover - reported to the caller
    print(f"sssom-py is not installed: {error}", file=sys.stderr)
    sys.exit(2)


class Problems(logging.Handler):
    """Collects the messages sssom-py logs about rows it could not read."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        text = record.getMessage()
        if "not well-formed" in text or record.levelno >= logging.ERROR:
            self.messages.append(text)


def check(path, expected_rows):
    problems = Problems()
    logging.getLogger().addHandler(problems)
    try:
        msdf = parse_sssom_table(path)
        validate(
            msdf,
            [
                SchemaValidationType.JsonSchema,
                SchemaValidationType.PrefixMapCompleteness,
                SchemaValidationType.StrictCurieFormat,
            ],
            fail_on_error=True,
        )
    finally:
        logging.getLogger().removeHandler(problems)
    if problems.messages:
        raise ValueError("; ".join(problems.messages))
    if len(msdf.df) != expected_rows:
        raise ValueError(f"{len(msdf.df)} mappings read, {expected_rows} written")
    return len(msdf.df)


def main(arguments):
    if len(arguments) < 2 or len(arguments) % 2:
        print(__doc__, file=sys.stderr)
        return 1
    for path, expected in zip(arguments[::2], arguments[1::2]):
        try:
            rows = check(path, int(expected))
        except Exception as error:  # any failure is the file's problem; say which
            print(f"{path}: INVALID: {type(error).__name__}: {error}")
            return 1
        print(f"{path}: valid SSSOM, {rows} mappings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
