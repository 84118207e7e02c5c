import gc
import unicodedata

from conftest import body

from dedup.config import PipelineConfig
from dedup.normalize import nfc
from dedup.paragraphs import ParagraphCleaner, split_paragraphs, split_self_repeat
from dedup.parallel import clean_task

FOOTER = ["Ý kiến bạn đọc", "Đang cập nhật dữ liệu !"]
TEASERS = [
    "Nga lần đầu ra mắt xuồng không người lái tại triển lãm quốc phòng",
    "Video UAV Nga phóng lưới 'tóm gọn' UAV của Ukraine",
]


def clean(docs):
    cleaner = ParagraphCleaner()
    prepared = [cleaner.prepare(i, t, title=title, source=s) for i, t, title, s in docs]
    cleaner.mark_boilerplate(prepared)
    return {p.doc_id: cleaner.result(p) for p in prepared}


def test_split_paragraphs_uses_non_blank_lines():
    assert split_paragraphs("a\n\n  b  \r\n\n c") == ["a", "b", "c"]


def test_self_repeat_keeps_one_copy():
    glued = "Ông Putin ca ngợi quan hệ - Ảnh: ReutersÔng Putin ca ngợi quan hệ - Ảnh: Reuters"
    assert split_self_repeat(glued) == ("Ông Putin ca ngợi quan hệ - Ảnh: Reuters",) * 2
    assert split_self_repeat("Một đoạn văn bình thường không lặp lại chính nó.") is None


def test_within_article_repeats_and_title_echo():
    title = "Nga sẵn sàng hợp tác chống khủng bố với Mỹ"
    paragraphs = body(0, 4)
    text = "\n".join([paragraphs[0], paragraphs[0], f"{title} ảnh 1", *paragraphs[1:]])
    result = clean([("a", text, title, None)])["a"]
    assert [(r.paragraph, r.reason, r.repeats) for r in result.removed] == [
        (1, "repeated", "paragraph 0"),
        (2, "title-echo", "title"),
    ]
    assert list(result.paragraphs) == paragraphs


def test_nfc_text_is_the_nfc_of_the_cleaned_text():
    title = "Nga sa\u0300\u0303n sàng hợp tác"  # decomposed marks: the NFC differs
    glued = "Ảnh: Reu\u0301tersẢnh: Reu\u0301ters"
    paragraphs = [p.replace("a", "a\u0301", 2) for p in body(0, 3)]
    messy = "\n".join([paragraphs[0], paragraphs[0], f"{title} ảnh 1", glued, *paragraphs[1:]])
    for text in (messy, "\n".join(paragraphs)):
        doc = ParagraphCleaner().prepare("a", text, title=title, source=None)
        kept = doc.kept()
        expected = unicodedata.normalize("NFC", ParagraphCleaner.result(doc).text)
        assert doc.nfc_text(kept) == expected
        if text == messy:  # a paragraph cut, two removed: the text is made again
            assert doc.trimmed and len(doc.removed) == 2
        else:  # nothing removed: the NFC of the whole text, as made
            assert doc.nfc_text(kept) is doc.normal


def test_boilerplate_across_a_source():
    docs = [
        (f"x{i}", "\n".join([*body(i * 7), *TEASERS, *FOOTER]), None, "example.vn")
        for i in range(4)
    ]
    cleaned = clean(docs)
    for i in range(4):
        removed = cleaned[f"x{i}"].removed
        assert [r.text for r in removed] == [*TEASERS, *FOOTER]
        assert {r.reason for r in removed} == {"boilerplate"}
        assert removed[0].repeats == "4 articles of example.vn"
        assert list(cleaned[f"x{i}"].paragraphs) == body(i * 7)


def test_too_few_articles_or_other_source_is_not_boilerplate():
    docs = [(f"x{i}", "\n".join([*body(i * 7), *FOOTER]), None, "a.vn") for i in range(2)]
    docs.append(("y", "\n".join([*body(30), *FOOTER]), None, "b.vn"))
    docs.append(("z", "\n".join([*body(40), *FOOTER]), None, None))
    assert all(not c.removed for c in clean(docs).values())


def test_syndicated_copies_are_not_boilerplate():
    shared = body(3, 8)
    docs = [(f"c{i}", "\n".join(shared), None, "wire.vn") for i in range(4)]
    assert all(not c.removed for c in clean(docs).values())


def test_edited_copies_from_one_source_keep_their_content():
    """Republished copies (words changed, a paragraph dropped, a header added) are not boilerplate.

    Their unchanged paragraphs recur in several articles of the source whose paragraph sets
    differ (the edits split them), yet the articles are copies of each other: the content stays.
    """
    original = body(0, 10)
    copies = []
    for i in range(4):
        edited = [
            p.replace("Putin", f"ông Putin {i}") if j % 3 == i % 3 else p
            for j, p in enumerate(original)
        ]
        del edited[i + 2]
        copies.append(
            (f"copy{i}", "\n".join([f"Tin nóng số {i} hôm nay", *edited]), None, "wire.vn")
        )
    others = [(f"o{i}", "\n".join([*body(20 + i * 7), *FOOTER]), None, "wire.vn") for i in range(3)]
    cleaned = clean([*copies, *others])
    for name, *_ in copies:
        assert [r.reason for r in cleaned[name].removed if r.reason == "boilerplate"] == []
    for i in range(3):  # the footer of the other articles is still boilerplate
        assert [r.text for r in cleaned[f"o{i}"].removed] == FOOTER


def test_boilerplate_check_leaves_the_garbage_collector_as_found():
    docs = [(f"a{n}", "\n".join([*body(n * 7), *FOOTER]), None, "s") for n in range(4)]
    cleaner, config = ParagraphCleaner(), PipelineConfig()
    articles = [(n, *doc) for n, doc in enumerate(docs)]
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            packed = clean_task(cleaner, config, articles)
            assert gc.isenabled() is enabled
            assert {r.reason for records in packed.records for r in records} == {"boilerplate"}
    finally:
        gc.enable()


def test_tokens_folded_one_by_one_equal_the_text_folded_whole(monkeypatch):
    # Most articles are tokenized as written, each token folded alone; one with an embed code
    # or a letter whose folding leaves NFC is folded whole, and its lines numbered apart.
    glued = "Ông Putin ca ngợi - Ảnh: REUTERSÔng Putin ca ngợi - Ảnh: Reuters"
    texts = [
        "\n".join([glued, *body(0, 3)]),
        "Video [mecloud]Abc[/mecloud] Hoà Bình\nİstanbul, THUÝ",
        "ho\u0300a\u0300 Ha\u0300 No\u0323\u0302i\nmột\u200bhai",
        "",
        "\n".join(body(3, 6)),
    ]
    articles = [(f"d{i}", text, "Hoà bình", "s") for i, text in enumerate(texts)]

    def prepared(compiled):
        cleaner = ParagraphCleaner()
        docs = cleaner.prepare_many(articles, compiled=compiled)
        strings = cleaner.hasher.tokens()
        return [
            (d.raw, [[strings[r] for r in t.tolist()] for t in d.tokens], d.trimmed, d.removed)
            for d in docs
        ]

    by_token = [prepared(compiled) for compiled in (False, True)]

    def whole_text(lines, config):  # every article folded whole, from its NFC
        return nfc("\n".join(lines)), None

    monkeypatch.setattr("dedup.paragraphs.nfc_and_unfolded_lines", whole_text)
    whole = [prepared(compiled) for compiled in (False, True)]
    assert by_token[0] == by_token[1] == whole[0] == whole[1]
    assert by_token[0][0][2][0].text == "Ông Putin ca ngợi - Ảnh: Reuters"  # a glued copy cut
    assert by_token[0][1][1][0] == ["video", "hòa", "bình"]
    assert by_token[0][2][1] == [["hòà", "hà", "nội"], ["mộthai"]]
