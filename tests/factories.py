"""Factories with minimal valid defaults. History-dependent state is built through domain functions."""
import factory
from django.utils import timezone

from tracker.choices import KEY_PREFIX, Kind, Role, Tier
from tracker.models import AssignmentGroup, Category, Service, Ticket, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = Role.REQUESTER
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    tier = Tier.L1


_numbers: dict[str, int] = {}


class TicketFactory(factory.django.DjangoModelFactory):
    """A raw row for list and query tests; use tracker.services.ticket_create when history matters."""

    class Meta:
        model = Ticket

    kind = Kind.INCIDENT
    number = factory.Sequence(lambda n: 100000 + n)
    key = factory.LazyAttribute(lambda t: f"{KEY_PREFIX[t.kind]}-{t.number}")
    title = factory.Sequence(lambda n: f"Printer on floor {n} is jammed")
    requester = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


def published_article(*, title: str, body: str, **values):
    """A published knowledge article written straight to the table, with its search vector (PostgreSQL) as the
    knowledge domain functions keep it."""
    from itsm.models import KnowledgeArticle
    from itsm.search import vector_update

    article = KnowledgeArticle.objects.create(title=title, body=body, state="published", **values)
    vector_update([article.pk])
    return article
