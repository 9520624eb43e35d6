"""Ranked full-text search of knowledge articles, and their plain-text snippets.

PostgreSQL: the weighted `search_vector` (title A, body B, English stemming) that the domain functions keep, read
through its GIN index with an OR of the query's terms (any term may match; "vpn keeps disconnecting" finds "VPN
disconnects every few minutes") and ranked by `ts_rank` normalised by the document's length, so a title match
ranks high. SQLite (and any other backend): the same idea in Python, BM25 over the title (boosted) and the body,
stemmed with the Snowball English stemmer; the index is built once per process and audience and rebuilt when
an article is added, edited, published or retired (its key is the live rows' count and newest edit).

Only live articles are ever searched (published, or published with a newer text in draft or review: readers see
the published text); retired ones never. Requesters and anonymous readers search the public ones only.
"""

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from html import unescape

import snowballstemmer
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Count, F, Max, Q, Value
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from tracker import access
from tracker.markdown import render_markdown

from .choices import ArticleAudience, ArticleState
from .models import KnowledgeArticle

# Words that say nothing about the answer: dropped from queries (both backends) and from the Python index.
STOP_WORDS = frozenset("""
a about after again all am an and any are as at be been before being both but by can cannot could did do does
doing don dont down during each few for from further had has have having he her here hers him his how i if in
into is it its itself just me more most my myself no nor not now of off on once only or other our out over own
same she should so some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours yourself
im ive cant wont doesnt isnt please help hi hello thanks get got need want still keeps keep
""".split())

TITLE_BOOST = 3.0  # a title word counts as three body words
K1, B = 1.2, 0.75  # BM25's usual constants
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_stemmer = threading.local()


def _stem(words: list[str]) -> list[str]:
    stemmer = getattr(_stemmer, "s", None)
    if stemmer is None:  # a stemmer keeps a cache and is not thread-safe: one per thread
        stemmer = _stemmer.s = snowballstemmer.stemmer("english")
    return stemmer.stemWords(words)


def words(text: str) -> list[str]:
    """The words of a text, lower case, apostrophes dropped ("can't" -> "cant")."""
    return [w.replace("'", "") for w in _WORD.findall((text or "").lower())]


def terms(text: str) -> list[str]:
    """The stemmed terms of a query or a document, stop words left out."""
    return _stem([w for w in words(text) if w not in STOP_WORDS])


def plain_text(markdown: str) -> str:
    """An article's Markdown as the reader sees it, without markup: rendered (sanitised), tags stripped."""
    return re.sub(r"\s+", " ", unescape(strip_tags(render_markdown(markdown or "")))).strip()


def audiences_for(user) -> tuple[str, ...]:
    """Staff read both audiences; requesters and anonymous readers the public articles only."""
    if access.is_staff_member(user):
        return (ArticleAudience.PUBLIC, ArticleAudience.INTERNAL)
    return (ArticleAudience.PUBLIC,)


LIVE = Q(state=ArticleState.PUBLISHED) | Q(state__in=[ArticleState.DRAFT, ArticleState.REVIEW],
                                           published_at__isnull=False)


def live_articles(user):
    """The articles this reader may find: live (see the module's docstring) and of their audiences."""
    return KnowledgeArticle.objects.filter(LIVE, audience__in=audiences_for(user))


@dataclass
class Hit:
    article: KnowledgeArticle
    score: float
    snippet: SafeString = field(default_factory=lambda: mark_safe(""))


def search(*, text: str, user=None, limit: int = 10, exclude: tuple[int, ...] = ()) -> list[Hit]:
    """The live articles this reader may see, best first, each with a highlighted plain-text snippet; at most
    `limit`. An empty query (or one of stop words only) finds nothing."""
    query_terms = terms(text)[:40]
    if not query_terms:
        return []
    if connection.vendor == "postgresql":
        hits = _search_postgres(query_terms, text, user, limit + len(exclude))
    else:
        hits = _search_python(query_terms, user, limit + len(exclude))
    hits = [h for h in hits if h.article.pk not in exclude][:limit]
    wanted = set(query_terms)
    for hit in hits:
        hit.snippet = snippet(hit.article.body, wanted)
    return hits


# --- PostgreSQL ---------------------------------------------------------------------------------------------

VECTOR = SearchVector("title", weight="A", config="english") + SearchVector("body", weight="B", config="english")


def vector_update(article_ids) -> None:
    """Write the weighted title and body into `search_vector` (PostgreSQL; nothing elsewhere). Called by the
    domain functions whenever an article's live text changes, and by the demo seed for its bulk rows."""
    if connection.vendor == "postgresql":
        KnowledgeArticle.objects.filter(pk__in=list(article_ids)).update(search_vector=VECTOR)


def _search_postgres(query_terms, text, user, limit) -> list[Hit]:
    # One plain query per word, OR-ed: any word may match; PostgreSQL stems them itself (the Python stems are
    # only used to pick the words). Plain queries quote what the user typed: no tsquery syntax reaches it.
    query = None
    for word in dict.fromkeys(w for w in words(text) if w not in STOP_WORDS):
        part = SearchQuery(word, config="english", search_type="plain")
        query = part if query is None else query | part
    if query is None:
        return []
    # normalization 1: divide by 1 + log(length), so a short article about the words beats a long one
    # mentioning them once; weights (D, C, B, A) make a title word count 2.5 times a body word.
    rank = SearchRank(F("search_vector"), query, weights=[0.1, 0.2, 0.4, 1.0], normalization=Value(1))
    rows = (live_articles(user).filter(search_vector=query).annotate(rank=rank)
            .order_by("-rank", "title").prefetch_related("services")[:limit])
    return [Hit(article=a, score=float(a.rank)) for a in rows]


# --- everywhere else: BM25 in Python ------------------------------------------------------------------------


@dataclass
class _Index:
    key: tuple
    ids: list[int]
    tf: list[Counter]  # per article: term -> boosted frequency
    length: list[float]
    df: Counter
    avg: float


_indexes: dict[tuple, _Index] = {}
_lock = threading.Lock()


def _index(user) -> _Index:
    qs = live_articles(user)
    stamp = qs.aggregate(n=Count("id"), newest=Max("updated_at"))
    key = (audiences_for(user), stamp["n"], stamp["newest"])
    cached = _indexes.get(key[0])
    if cached is not None and cached.key == key:
        return cached
    ids, tfs, lengths, df = [], [], [], Counter()
    for pk, title, body in qs.values_list("id", "title", "body"):
        tf = Counter()
        for term in terms(title):
            tf[term] += TITLE_BOOST
        for term in terms(plain_text(body)):
            tf[term] += 1
        ids.append(pk)
        tfs.append(tf)
        lengths.append(sum(tf.values()))
        df.update(tf.keys())
    built = _Index(key=key, ids=ids, tf=tfs, length=lengths, df=df, avg=(sum(lengths) / len(lengths)) if ids else 1)
    with _lock:
        _indexes[key[0]] = built
    return built


def _search_python(query_terms, user, limit) -> list[Hit]:
    index = _index(user)
    n = len(index.ids)
    scores = []
    unique = list(dict.fromkeys(query_terms))
    for i, tf in enumerate(index.tf):
        score = 0.0
        for term in unique:
            f = tf.get(term)
            if not f:
                continue
            idf = math.log(1 + (n - index.df[term] + 0.5) / (index.df[term] + 0.5))
            score += idf * f * (K1 + 1) / (f + K1 * (1 - B + B * index.length[i] / index.avg))
        if score > 0:
            scores.append((score, index.ids[i]))
    scores.sort(key=lambda s: (-s[0], s[1]))
    top = scores[:limit]
    by_id = KnowledgeArticle.objects.prefetch_related("services").in_bulk([pk for _, pk in top])
    return [Hit(article=by_id[pk], score=score) for score, pk in top if pk in by_id]


# --- snippets -----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?|[^A-Za-z0-9]+")


def snippet(markdown: str, wanted: set[str], width: int = 28) -> SafeString:
    """About `width` words of the article's plain text around its first matched word, each matched word in a
    `<mark>`; everything else escaped."""
    tokens = _TOKEN.findall(plain_text(markdown))
    word_at = [i for i, t in enumerate(tokens) if t[0].isalnum()]
    if not word_at:
        return mark_safe("")
    stems = _stem([tokens[i].lower().replace("'", "") for i in word_at])
    hit = {i for i, s in zip(word_at, stems, strict=True) if s in wanted}
    first = next((n for n, i in enumerate(word_at) if i in hit), 0)
    start_word = max(0, first - width // 3)
    end_word = min(len(word_at), start_word + width)
    start, end = word_at[start_word], word_at[end_word - 1] + 1
    parts = ["… " if start_word else ""]
    for i in range(start, end):
        parts.append(f"<mark>{escape(tokens[i])}</mark>" if i in hit else str(escape(tokens[i])))
    if end_word < len(word_at):
        parts.append(" …")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped
