"""Surname data for `names`: the PyTorch tutorial's folder layout, or lists shipped inside Faker."""
import importlib
import os
import string
import unicodedata

from rnnkit.core.errors import UsageError
from rnnkit.tasks.user_files import ENCODING

ALLOWED = string.ascii_letters + " .,;'"  # the PyTorch tutorial's alphabet

# The tutorial's 18 languages and the Faker locales whose surname lists stand for them. Faker ships no
# Scottish list, so the embedded set has 17 languages. en_US and fr_CH are left out on purpose: their lists
# are a country's surnames of every origin (en_US: Aguirre, Bauer, Reilly…; fr_CH: Brandt, Müller…), which
# would label German, Spanish or Irish names as English or French.
FAKER_LOCALES = {
    "Arabic": ("ar_AA", "ar_SA", "ar_PS", "ar_DZ"),
    "Chinese": ("zh_CN", "zh_TW"),
    "Czech": ("cs_CZ",),
    "Dutch": ("nl_NL", "nl_BE"),
    "English": ("en_GB",),
    "French": ("fr_FR", "fr_QC"),
    "German": ("de_DE", "de_AT", "de_CH"),
    "Greek": ("el_GR",),
    "Irish": ("ga_IE",),
    "Italian": ("it_IT",),
    "Japanese": ("ja_JP",),
    "Korean": ("ko_KR",),
    "Polish": ("pl_PL",),
    "Portuguese": ("pt_PT", "pt_BR"),
    "Russian": ("ru_RU",),
    "Spanish": ("es_ES", "es_MX", "es_AR", "es_CO", "es_CL"),
    "Vietnamese": ("vi_VN",),
}
SURNAME_LISTS = ("last_names", "last_names_male", "last_names_female", "male_last_names", "female_last_names",
                 "unisex_last_names")


def to_ascii(name):
    """Fold a name to the tutorial's ASCII alphabet: strip accents, drop anything else."""
    decomposed = unicodedata.normalize("NFD", name)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn" and c in ALLOWED).strip()


def romanize(name):
    """Latin letters for any script (Cyrillic, Greek, Arabic, Hangul, …), then folded to ASCII."""
    from unidecode import unidecode

    return to_ascii(unidecode(name))


def faker_surnames():
    """{language: [romanized surnames]} from the lists inside Faker's person providers (no network)."""
    names = {}
    for language, locales in FAKER_LOCALES.items():
        found = []
        for locale in locales:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            romanized = getattr(provider, "last_romanized_names", None)
            if romanized:  # Chinese and Japanese ship their own romanizations: better than a transliterator's
                found += [name.title() for name in romanized]
                continue
            for attribute in SURNAME_LISTS:
                found += list(getattr(provider, attribute, ()))
        names[language] = [romanize(name) for name in found]
    return names


def folder_surnames(folder):
    """{language: [names]} from a folder of `<Language>.txt` files (UTF-8, one name per line)."""
    if not os.path.isdir(folder):
        raise UsageError(f"--data-dir {folder!r} is not a folder")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".txt"))
    if not files:
        raise UsageError(f"--data-dir {folder!r} holds no <Language>.txt files")
    names = {}
    for file in files:
        path = os.path.join(folder, file)
        try:
            with open(path, encoding=ENCODING) as handle:
                lines = handle.read().splitlines()
        except UnicodeDecodeError as error:
            raise UsageError(f"{path} is not UTF-8 text (byte {error.start})") from None
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror}") from None
        names[file[: -len(".txt")]] = [to_ascii(line) for line in lines]
    return names


def clean(names_by_language, overlap="drop"):
    """Deduplicate each language's names (ignoring case) and settle names listed under several languages.

    `overlap`: 'drop' removes such a name from every language that lists it; 'keep' keeps it once in each.
    Returns ({language: sorted unique names}, {language: {read, duplicates, shared, kept}}), where `read`
    counts the usable lines, `duplicates` repeats within the language and `shared` distinct names that
    another language lists too.
    """
    owners = {}
    for language, names in names_by_language.items():
        for key in {name.lower() for name in names if name}:
            owners.setdefault(key, set()).add(language)
    cleaned, report = {}, {}
    for language, names in names_by_language.items():
        read = [name for name in names if name]
        unique = {}
        for name in read:
            unique.setdefault(name.lower(), name)
        shared = {key for key in unique if len(owners[key]) > 1}
        kept = [name for key, name in unique.items() if overlap == "keep" or key not in shared]
        cleaned[language] = sorted(kept)
        report[language] = {"read": len(read), "duplicates": len(read) - len(unique), "shared": len(shared),
                            "kept": len(kept)}
    return cleaned, report
