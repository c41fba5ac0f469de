import pytest

from classify.data import counts, load_labels, merge, span_sha1
from classify.errors import ClassifyError
from conftest import labels_csv

HEADER = "doc_id,start,end,labels,split,source,sha1\n"


def test_valid_file_loads_with_text(labels_file, corpus, spans):
    table = load_labels(labels_file, corpus)
    assert len(table) == len(spans)
    row = table.iloc[0]
    assert corpus[row.doc_id].text[row.start:row.end] == row.text
    assert set(table.split) == {"train", "test"}


def _edit_row(labels_file, edit, containing=""):
    """Apply ``edit`` to the first data row containing ``containing``; return its row number."""
    lines = labels_file.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if i > 0 and containing in line)
    lines[n] = edit(lines[n])
    labels_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n + 1


def _set_field(field, value):
    def edit(line):
        fields = line.split(",")
        fields[field] = value
        return ",".join(fields)
    return edit


@pytest.mark.parametrize("field,value,message", [
    (3, "shelling;bombing", "unknown label 'bombing'"),
    (4, "validation", "split must be train or test"),
    (5, "guess", "source must be one of"),
    (0, "ufc-NOPE-01", "unknown doc_id 'ufc-NOPE-01'"),
    (2, "999999", "outside"),
    (6, "0123456789ab", "does not match"),
    (1, "abc", "start must be a whole number"),
])
def test_each_bad_field_names_the_row(labels_file, corpus, field, value, message):
    row = _edit_row(labels_file, _set_field(field, value))
    with pytest.raises(ClassifyError, match=message) as err:
        load_labels(labels_file, corpus)
    assert f"row {row}:" in str(err.value)


def test_duplicated_span(labels_file, corpus):
    lines = labels_file.read_text(encoding="utf-8").splitlines(keepends=True)
    labels_file.write_text("".join(lines + [lines[1]]), encoding="utf-8")
    with pytest.raises(ClassifyError, match=f"row {len(lines) + 1}: duplicated span"):
        load_labels(labels_file, corpus)


def test_test_rows_must_be_manual(labels_file, corpus):
    _edit_row(labels_file, lambda line: line.replace(",manual,", ",model,"), containing=",test,")
    with pytest.raises(ClassifyError, match="test rows must be source=manual"):
        load_labels(labels_file, corpus)


def test_a_group_on_both_sides_is_refused(labels_file, corpus):
    _edit_row(labels_file, lambda line: line.replace(",test,", ",train,"), containing=",test,")
    with pytest.raises(ClassifyError, match="both train and test"):
        load_labels(labels_file, corpus)


def test_wrong_header_and_missing_file(tmp_path, corpus):
    bad = tmp_path / "bad.csv"
    bad.write_text("doc,start\n", encoding="utf-8")
    with pytest.raises(ClassifyError, match="header must be"):
        load_labels(bad, corpus)
    with pytest.raises(ClassifyError, match="not found"):
        load_labels(tmp_path / "none.csv", corpus)


def test_undecodable_bytes_name_the_offset(tmp_path, corpus):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(HEADER.encode() + b"ufc-T0-00,1,2,\xff,train,manual,x\n")
    with pytest.raises(ClassifyError, match=f"offset {len(HEADER) + 14}"):
        load_labels(bad, corpus)


def test_merge_adds_a_batch_and_a_bad_batch_changes_nothing(tmp_path, corpus, spans):
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(spans[:20]), encoding="utf-8")
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(
        f'{{"doc_id": "{d}", "start": {s}, "end": {e}, "labels": {list(ls)!r}}}\n'.replace("'", '"')
        for d, s, e, ls, _ in spans[20:30]), encoding="utf-8")
    table = merge(batch, labels, corpus)
    assert len(table) == 30 and len(load_labels(labels, corpus)) == 30
    assert set(table.source) == {"manual"}
    before = labels.read_bytes()
    bad = tmp_path / "bad.jsonl"
    d, s, e, _, _ = spans[31]
    bad.write_text(f'{{"doc_id": "{d}", "start": {s}, "end": {e}, "labels": ["looting"]}}\n', encoding="utf-8")
    with pytest.raises(ClassifyError, match="line 1: unknown label 'looting'"):
        merge(bad, labels, corpus)
    with pytest.raises(ClassifyError, match="already labelled"):
        merge(batch, labels, corpus)
    assert labels.read_bytes() == before
    assert not list(tmp_path.glob(".labels.csv.*"))


def test_counts(labels_file, corpus):
    table = counts(load_labels(labels_file, corpus))
    total = table[(table.corpus == "all") & (table.split == "all")].iloc[0]
    assert total.paragraphs == sum(table[(table.corpus == "all") & table.split.isin(["train", "test"])].paragraphs)
    assert total.none > 0 and total.shelling > 0


def test_sha1_is_the_first_12_hex_digits_of_utf8_sha1():
    import hashlib

    assert span_sha1("قصف") == hashlib.sha1("قصف".encode("utf-8")).hexdigest()[:12]
