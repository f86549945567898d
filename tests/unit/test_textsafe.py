from cockpit.textsafe import clean, one_line


def test_control_sequences_become_visible_pictures() -> None:
    hostile = "\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x9b2J bell\x07"
    out = clean(hostile)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "␛[31mred" in out


def test_markup_is_left_as_text_for_the_renderer() -> None:
    # Markup characters are not "escaped" here: panes never parse text as markup.
    assert clean("[bold]x[/] [@click=app.quit]q[/]") == "[bold]x[/] [@click=app.quit]q[/]"


def test_length_is_bounded() -> None:
    out = clean("x" * 100_000, max_len=100)
    assert len(out) < 130 and out.endswith("[+99900 chars]")


def test_bidi_overrides_are_replaced() -> None:
    assert "\u202e" not in clean("abc\u202edef")


def test_one_line_squeezes_whitespace() -> None:
    assert one_line("SELECT *\n  FROM t\n\tWHERE x") == "SELECT * FROM t WHERE x"


def test_a_filter_being_typed_raises_no_warning() -> None:
    import warnings

    from widgets.filter import matcher

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        match = matcher("[[x")
    assert match is not None and match("a [[x b")
