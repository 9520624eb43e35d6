"""Issue (or show) the API token of a user: `manage.py issue_token alice [--rotate]`."""
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from tracker.models import User


class Command(BaseCommand):
    help = "Print the API token of USERNAME, creating it if needed; --rotate replaces an existing token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Revoke the current token and issue a new one.")

    def handle(self, *args, username, rotate, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
