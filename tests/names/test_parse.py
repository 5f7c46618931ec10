import pytest

from kartoteka.names.parse import parse_name


def roles(raw: str) -> tuple[list[str], str | None, str | None]:
    p = parse_name(raw)
    return [g.text for g in p.given], p.patronymic.text if p.patronymic else None, p.surname.text if p.surname else None


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("General Oleg Kalugin (Retired)", (["Oleg"], None, "Kalugin")),
        ("Gen. Kalugin", ([], None, "Kalugin")),
        ("Oleg Danilovich", (["Oleg"], "Danilovich", None)),
        ("Mikhail Gorbachev’s", (["Mikhail"], None, "Gorbachev")),
        ("KALUGIN, Oleg Danilovich, Maj. Gen., KGB", (["Oleg"], "Danilovich", "KALUGIN")),
        ("Kalugin Oleg Danilovich", (["Oleg"], "Danilovich", "Kalugin")),
        ("Калугин Олег Данилович", (["Олег"], "Данилович", "Калугин")),
        ("L.H. OSWALD", (["L", "H"], None, "OSWALD")),
        ("OSWALD Lee Harvey", (["Lee", "Harvey"], None, "OSWALD")),
        ("Oswald, Lee H.", (["Lee", "H"], None, "Oswald")),
        ("Charles de Gaulle", (["Charles"], None, "de Gaulle")),
        ("Indian Prime Minister Radjiv Ghandi", (["Radjiv"], None, "Ghandi")),
        ("Oleg Kalugin, Jr.", (["Oleg"], None, "Kalugin")),
        ("former KGB Lieutenant Colonel Vladimir Popov", (["Vladimir"], None, "Popov")),
    ],
)
def test_roles(raw: str, expected: tuple[list[str], str | None, str | None]) -> None:
    assert roles(raw) == expected


@pytest.mark.parametrize("raw", ["Director", "", "  ", "Gen.", "(Retired)", "123"])
def test_empty_names(raw: str) -> None:
    assert parse_name(raw).is_empty
