"""The knowledge API: search and list (ranked, with plain-text snippets), read, write (each save a new version,
optimistic with If-Match or `version`), send for review, publish (another agent), retire; the versions and the
diff of two. Requesters and anonymous callers read live public articles only; staff read everything; agents
write. Every write calls one domain function of itsm.services.knowledge."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from tracker import access
from tracker.errors import NotFound, ValidationFailed
from tracker.models import Service

from .. import search
from .. import selectors as q
from ..choices import ArticleAudience, ArticleState
from ..models import KnowledgeArticle
from ..services import knowledge as kb

IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                            description='The newest version the edit starts from (its ETag, e.g. "3"); a stale one '
                                        "answers 412. Or send `version` in the body.")


class ArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="Markdown: the live text (or the working text of an unpublished draft).")
    state = serializers.CharField()
    audience = serializers.CharField()
    services = serializers.SerializerMethodField()
    faq = serializers.BooleanField()
    version = serializers.IntegerField(help_text="The version whose text `body` holds.")
    latest_version = serializers.IntegerField(help_text="The newest version: what an edit starts from (If-Match).")
    published_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    views = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_services(self, article) -> list[str]:
        return [s.name for s in article.services.all()]

    def get_url(self, article) -> str:
        return f"/kb/{article.pk}/"


class ArticleHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.pk")
    title = serializers.CharField(source="article.title")
    audience = serializers.CharField(source="article.audience")
    services = serializers.SerializerMethodField()
    score = serializers.FloatField()
    snippet = serializers.CharField(help_text="Plain text; the matched words in <mark> (HTML-escaped otherwise).")
    url = serializers.SerializerMethodField()

    def get_services(self, hit) -> list[str]:
        return [s.name for s in hit.article.services.all()]

    def get_url(self, hit) -> str:
        return f"/kb/{hit.article.pk}/"


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    state = serializers.ChoiceField(choices=ArticleState.choices, required=False,
                                    help_text="Staff: list the articles in this state (ignored with `q`).")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class ArticleWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=50_000)
    audience = serializers.ChoiceField(choices=ArticleAudience.choices, default=ArticleAudience.PUBLIC)
    services = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
                                     required=False, max_length=50, help_text="Service ids.")
    faq = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                 help_text="What changed in this version.")
    version = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1,
                                       help_text="Edits: the newest version loaded (or If-Match).")


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    audience = serializers.CharField()
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class DiffQuerySerializer(serializers.Serializer):
    a = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="The older version's number.")
    b = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="The newer version's number.")


class DiffLineSerializer(serializers.Serializer):
    tone = serializers.ChoiceField(choices=["same", "added", "removed"])
    old = serializers.IntegerField(allow_null=True)
    new = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()


def _services(ids) -> list:
    if ids is None:
        return None
    found = list(Service.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationFailed("Some services do not exist.", fields={"services": ["Unknown service id."]})
    return found


def _version(request, body) -> int:
    header = request.headers.get("If-Match")
    if header:
        raw = header.strip().removeprefix("W/").strip('"')
        if not raw.isdigit() or len(raw) > 9:
            raise ValidationFailed(f'If-Match must be a version such as "3", not {header!r}.',
                                   fields={"If-Match": ["Malformed ETag."]})
        return int(raw)
    if body.get("version") is None:
        raise ValidationFailed("Send the version you edit (If-Match or `version`) so that concurrent edits are "
                               "not lost.", fields={"version": ["Required."]})
    return body["version"]


def _data(article) -> dict:
    latest = kb.latest_version(article)
    article.latest_version = latest.number if latest else article.version
    return ArticleSerializer(article).data


def _response(article, code=status.HTTP_200_OK) -> Response:
    data = _data(article)
    response = Response(data, status=code)
    response["ETag"] = f'"{data["latest_version"]}"'
    return response


@extend_schema(tags=["knowledge"])
class ArticleViewSet(viewsets.ViewSet):
    """Knowledge articles. Reading is open (public live articles for everyone, also without signing in);
    writing is for agents."""

    def get_permissions(self):
        return [AllowAny()] if self.action in ("list", "retrieve") else super().get_permissions()

    def _article(self, request, pk) -> KnowledgeArticle:
        article = KnowledgeArticle.objects.prefetch_related("services").filter(pk=pk).first() \
            if str(pk).isdigit() and len(str(pk)) < 10 else None
        if article is None or not kb.may_read(request.user, article):
            raise NotFound("No such article that you can read.")
        return article

    @extend_schema(parameters=[SearchQuerySerializer], responses={200: ArticleHitSerializer(many=True)})
    def list(self, request):
        """Ranked search with snippets (`q`); without `q`, the live articles (staff: by `state`)."""
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        text, limit = query.validated_data["q"].strip(), query.validated_data["limit"]
        if text:
            hits = search.search(text=text, user=request.user, limit=limit)
        else:
            state = query.validated_data.get("state", "")
            rows = q.article_list(user=request.user, state=state) if state and access.is_staff_member(
                request.user) else q.article_search(user=request.user, limit=limit)
            hits = [search.Hit(article=a, score=0.0, snippet=search.snippet(a.body, set())) for a in rows[:limit]]
        return Response(ArticleHitSerializer(hits, many=True).data)

    @extend_schema(responses={200: ArticleSerializer})
    def retrieve(self, request, pk=None):
        return _response(self._article(request, pk))

    @extend_schema(request=ArticleWriteSerializer, responses={201: ArticleSerializer})
    def create(self, request):
        """Write a new draft (version 1)."""
        body = ArticleWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        article = kb.article_create(actor=request.user, title=d["title"], body=d["body"], audience=d["audience"],
                                    services=_services(d.get("services")) or [], faq=d["faq"], note=d["note"])
        return _response(article, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH], request=ArticleWriteSerializer, responses={200: ArticleSerializer})
    def update(self, request, pk=None):
        """Save a new version (a published article keeps its live text until the edit is published)."""
        article = self._article(request, pk)
        body = ArticleWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        version = _version(request, d)
        kb.article_update(article=article, actor=request.user, version=version, title=d["title"], body=d["body"],
                          audience=d["audience"], services=_services(d.get("services")), faq=d["faq"],
                          note=d["note"])
        return _response(self._article(request, pk))

    def _move(self, request, pk, fn):
        article = self._article(request, pk)
        return _response(fn(article=article, actor=request.user))

    @extend_schema(request=None, responses={200: ArticleSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send the newest text for review."""
        return self._move(request, pk, kb.article_submit)

    @extend_schema(request=None, responses={200: ArticleSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the text in review: by an agent who wrote none of it (403 otherwise; 409 for a draft)."""
        return self._move(request, pk, kb.article_publish)

    @extend_schema(request=None, responses={200: ArticleSerializer})
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Hide it from search and the portal; kept with its history."""
        return self._move(request, pk, kb.article_retire)

    @extend_schema(responses={200: VersionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        """Every version, newest first (staff)."""
        article = self._staff_article(request, pk)
        rows = article.versions.select_related("created_by").order_by("-number")
        return Response(VersionSerializer(rows, many=True).data)

    @extend_schema(parameters=[DiffQuerySerializer], responses={200: DiffLineSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """The lines removed and added between versions `a` and `b` (the title first), with their numbers."""
        article = self._staff_article(request, pk)
        query = DiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        by_number = {v.number: v for v in article.versions.filter(
            number__in=[query.validated_data["a"], query.validated_data["b"]])}
        missing = [n for n in ("a", "b") if query.validated_data[n] not in by_number]
        if missing:
            raise ValidationFailed("No such version.", fields={n: ["No such version."] for n in missing})
        lines = q.article_diff(by_number[query.validated_data["a"]], by_number[query.validated_data["b"]])
        return Response(DiffLineSerializer(lines, many=True).data)

    def _staff_article(self, request, pk):
        if not access.is_staff_member(request.user):
            raise NotFound("No such article that you can read.")
        return self._article(request, pk)
