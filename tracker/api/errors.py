"""One mapping from domain refusals and DRF errors to API responses: always a 4xx with a message, never a 500."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tracker.errors import DomainError


def _summary(data) -> str:
    if isinstance(data, dict):
        parts = []
        for field, msgs in data.items():
            msg = msgs[0] if isinstance(msgs, list) and msgs else msgs
            if isinstance(msg, dict):
                msg = _summary(msg)
            parts.append(f"{field}: {msg}" if field != "non_field_errors" else str(msg))
        return "; ".join(parts)
    if isinstance(data, list):
        return "; ".join(str(x) for x in data)
    return str(data)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found.", "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        fields = response.data
        response.data = {"detail": f"Invalid input — {_summary(fields)}", "code": "invalid", "fields": fields}
    elif response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(response.data["detail"], "code", "error"))
    return response
