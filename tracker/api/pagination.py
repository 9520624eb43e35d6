from rest_framework.pagination import CursorPagination


class TicketCursorPagination(CursorPagination):
    """Keyset pagination: the same cost on page 1 and page 20,000 (no COUNT, no OFFSET scan)."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
