"""The name-check engine: parse a name, read it in every script and scheme,
compare two names with an explanation a reviewer can follow."""

from kartoteka.names.compare import NameMatch, compare_names
from kartoteka.names.parse import ParsedName, parse_name

__all__ = ["NameMatch", "ParsedName", "compare_names", "parse_name"]
