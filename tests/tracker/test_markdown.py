from tracker.markdown import render_markdown


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://a.test)")
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "javascript:" not in html
    assert 'href="https://a.test"' in html and "noopener" in html


def test_consecutive_documents_do_not_leak_into_each_other():
    render_markdown("[ref]: https://one.test\n\nfirst")
    assert "one.test" not in render_markdown("[link][ref]")


# Every character Markdown (with fenced_code, tables, sane_lists) or nh3 gives a meaning to, and some it does not.
_SIGNIFICANT = "\\`*_{}[]()#+-.!|<>&~:\"'=^$%@/;?,\t\r\n\x02\x03\xa0é\u2028 "


def _inputs():
    import random
    import string

    from tracker.markdown import _PLAIN

    rng = random.Random(14)
    prose = string.ascii_letters + string.digits + "      "
    yield from _SIGNIFICANT
    for ch in _SIGNIFICANT:  # each character at a text's start, inside a line, at a line's start and end
        yield from (f"{ch}word", f"a{ch}b", f"one two{ch}", f"line\n{ch}", f"line\n{ch} x", f"a\n{ch}{ch}{ch}",
                    f"1{ch} x", f"Ab{ch}{ch}cd{ch}", f"x  {ch}\nnext", f"Word {ch}{ch} word {ch}",
                    f"a {ch}b{ch} c", f"a {ch}{ch}b{ch}{ch} c", f"a{ch}b{ch}c")
        for _ in range(40):  # prose with this one character sprinkled in
            yield "x" + "".join(rng.choice(prose + ch * 3) for _ in range(rng.randint(1, 30)))
    for n in range(4000):
        alphabet = _SIGNIFICANT + prose if n % 2 else prose + ",.;:?!'\"()/%$=+@-\n"
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        yield text
        if n % 4 == 0 and text[:1].isalpha():
            yield text + "\n" + text
    yield ("User reports the VPN disconnects every few minutes since the last update. "
           "Steps: connect, wait, observe drop. Impact: whole team.")
    yield "1. first\n2. second"
    yield "Title\n====="
    yield "Title\n-----"
    yield "a\n\nb"
    yield "code:\n\n    indented"
    yield "trailing  \nbreak"
    assert _PLAIN  # the fast path exists


def test_plain_prose_fast_path_gives_the_full_render():
    from tracker.markdown import _PLAIN, _render_full

    fast = 0
    for text in _inputs():
        assert render_markdown(text) == _render_full(text), repr(text)
        fast += bool(_PLAIN.fullmatch(text))
    assert fast > 1500  # the fast path was taken often enough to be tested
