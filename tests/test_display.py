import io

from classify.display import for_terminal, show


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_terminal_text_is_shaped_and_in_visual_order():
    shown = for_terminal("قصف مدفعي 2018")
    assert all("\ufe70" <= ch <= "\ufeff" for ch in shown if ch.isalpha())  # joined presentation forms
    assert shown.startswith("2018")  # right-to-left: the number read last comes first on screen
    assert shown != "قصف مدفعي 2018"


def test_files_and_pipes_get_logical_order():
    assert show("قصف مدفعي", io.StringIO()) == "قصف مدفعي"
    assert show("قصف مدفعي", _Tty()) == for_terminal("قصف مدفعي")


def test_predict_on_a_terminal_prints_shaped_arabic(trained_model, tmp_path, monkeypatch, capsys):
    import sys

    from classify.cli import main

    article = tmp_path / "a.txt"
    article.write_text("قصفت الطائرات الحربية مواقع في حلب بعدة غارات جوية صباح اليوم.\n", encoding="utf-8")
    tty = _Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["predict", "--model", str(trained_model), str(article)]) == 0
    line = tty.getvalue().strip()
    assert line.startswith("0-") and "[" in line
    assert "قصفت" not in line and any("\ufe70" <= ch <= "\ufeff" for ch in line)
