"""Users' text files as spreadsheets and editors write them: a UTF-8 byte-order mark, `;` or tab separators."""

# "utf-8-sig" reads plain UTF-8 unchanged and drops the byte-order mark that Excel's "CSV UTF-8" and Windows
# Notepad put first, which would otherwise stick to the first header cell or the first line's text.
ENCODING = "utf-8-sig"
# Spreadsheets in locales whose decimal mark is a comma separate CSV fields with `;`; tab-separated files are the
# other common export.
SEPARATORS = (",", ";", "\t")


def separator(first_line, names=()):
    """The field separator of a CSV whose first line is `first_line`: the first of `,`, `;`, tab under which that
    line holds every one of `names` (a header); without `names`, `;` or tab where the line has one, else `,`."""
    if names:
        for candidate in SEPARATORS:
            cells = {cell.strip().strip('"').lower() for cell in first_line.split(candidate)}
            if set(names) <= cells:
                return candidate
        return ","
    return next((candidate for candidate in (";", "\t") if candidate in first_line), ",")


def first_line(path):
    """The first line of a UTF-8 text file ('' for an empty file)."""
    with open(path, encoding=ENCODING, errors="replace", newline="") as handle:
        return handle.readline()
