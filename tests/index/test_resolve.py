from kartoteka.index.dates import normalise_date
from kartoteka.index.extract import cyrillic_names, plausible_person
from kartoteka.index.resolve import cluster_people


def clusters(names: list[str]) -> list[tuple[str, list[int]]]:
    return [(c.best.display, c.mentions) for c in cluster_people(list(enumerate(names)))]


def test_in_document_clustering() -> None:
    got = clusters(
        [
            "General Oleg Kalugin (Retired)",
            "Kalugin",
            "Oleg Danilovich",
            "Калугин",
            "Kalinin",
            "Vladimir Popov",
            "Popov",
            "Pyotr Popov",
            "Popov",
            "Mikhail Gorbachev’s",
            "Gorbachev",
        ]
    )
    assert got == [
        ("Oleg Kalugin", [0, 1, 2, 3]),
        ("Kalinin", [4]),
        ("Vladimir Popov", [5, 6]),
        # Two Popovs named in full: the nearest is no evidence (issue 12).
        ("Pyotr Popov", [7]),
        ("Popov", [8]),
        ("Mikhail Gorbachev", [9, 10]),
    ]


def test_lone_given_name_is_not_indexed_when_ambiguous() -> None:
    got = clusters(["Vladimir Putin", "Vladimir Kryuchkov", "Vladimir"])
    assert [m for _, m in got] == [[0], [1]]


def test_a_lone_given_name_joins_nobody_even_when_one_person_fits() -> None:
    # The document's only John may be another John: a given name alone is no
    # evidence of whom it names (issue "A card index you can trust").
    got = clusters(["John Karlow", "John", "Karlow"])
    assert [m for _, m in got] == [[0, 2]]
    # An address form, given name and patronymic, is: it joins the one person it fits.
    got = clusters(["Oleg Danilovich Kalugin", "Oleg Danilovich", "Oleg"])
    assert [m for _, m in got] == [[0, 1]]


def test_cyrillic_name_finder() -> None:
    found = cyrillic_names("Калугин: Фото: Феликс Розенштейн, Москва")
    assert [f.text for f in found] == ["Калугин", "Феликс Розенштейн"]


def test_plausible_person_rejects_noise() -> None:
    assert plausible_person("L.H. OSWALD") and plausible_person("Oleg Kalugin")
    for noise in ["Director", "a b", "1963 ABC", "x"]:
        assert not plausible_person(noise)


def test_dates() -> None:
    assert normalise_date("March 31, 2019") == "2019-03-31"
    assert normalise_date("31 March 2019") == "2019-03-31"
    assert normalise_date("January 1978") == "1978-01"
    assert normalise_date("the Spring of 1991") == "1991"
    assert normalise_date("the 1970s") is None
    assert normalise_date("1947 or 1948") is None
