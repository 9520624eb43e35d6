from tracker.markdown import render_markdown


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://a.test)")
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "javascript:" not in html
    assert 'href="https://a.test"' in html and "noopener" in html


def test_consecutive_documents_do_not_leak_into_each_other():
    render_markdown("[ref]: https://one.test\n\nfirst")
    assert "one.test" not in render_markdown("[link][ref]")
