from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination everywhere: no COUNT(*), stable under inserts. Newest first by default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")
