"""POST /api/v1/auth/token/: a username and password buy the user's API token (the same one
`manage.py issue_token` prints). Sign-ins here count towards the login throttle like the login page's."""
from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.throttle import lockout_message


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


_ERROR = inline_serializer("AuthError", {"detail": serializers.CharField(), "code": serializers.CharField()})


class TokenView(APIView):
    """Issue the API token of the user whose username and password are sent."""

    authentication_classes = []  # credentials are in the body; no session, so no CSRF token to send
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Token realm="api"'  # wrong credentials answer 401 (DRF makes it 403 without this header)

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        auth=[],
        request=CredentialsSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(_ERROR, description="The username or password is missing."),
            401: OpenApiResponse(_ERROR, description="The username and password do not match an active user."),
            429: OpenApiResponse(
                _ERROR,
                description="Too many failed attempts for this username from this address; the `Retry-After` "
                            "header says how many seconds the pause lasts at most.",
                examples=[OpenApiExample("locked out", value={"detail": lockout_message(), "code": "locked_out"})],
            ),
        },
    )
    def post(self, request):
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: the throttle marks a refused attempt on it, and its
        # middleware then answers 429 instead of this view's 401.
        user = authenticate(request._request, **data.validated_data)
        if user is None:
            raise AuthenticationFailed("Unable to sign in with that username and password.")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
